"""What depends on the machine: the host side of the core (arrays to numpy, which
process writes, what ran where), process-wide JAX settings, and XLA:CPU workarounds."""

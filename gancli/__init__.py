"""gancli: GAN experiments on JAX, many seeds in one compiled program."""

__version__ = "0.1.0"

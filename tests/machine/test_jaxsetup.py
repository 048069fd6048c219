"""The unrolled threefry lowering on CPU gives JAX's random numbers bit for bit."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry_2x32

from gancli.machine import cpu_ops

# Known-answer tests of Threefry-2x32, 20 rounds (Random123's kat_vectors).
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


def test_unrolled_threefry_matches_published_vectors():
    assert cpu_ops.unroll_threefry_on_cpu()  # conftest already did; registering twice is fine
    for key, count, expected in KAT:
        got = jax.jit(threefry_2x32)(np.array(key, np.uint32), np.array(count, np.uint32))
        assert [int(v) for v in got] == list(expected)


def test_unrolled_rule_is_the_function_we_wrote():
    """The straight-line function itself, outside any registration, on the same vectors."""
    for key, count, expected in KAT:
        k = [jnp.uint32(v) for v in key]
        x = [jnp.array([v], jnp.uint32) for v in count]
        out = jax.jit(cpu_ops._threefry2x32_unrolled)(*k, *x)
        assert [int(v[0]) for v in out] == list(expected)


_DRAW = (
    "import jax, numpy as np, sys\n"
    "from gancli.machine import cpu_ops\n"
    "if sys.argv[1] == '1': cpu_ops.unroll_threefry_on_cpu()\n"
    "k = jax.random.key(7)\n"
    "f = jax.jit(lambda k: (jax.random.normal(k, (300,)), jax.random.split(k, 3),"
    " jax.random.randint(jax.random.fold_in(k, 5), (50,), 0, 1000)))\n"
    "a, s, i = f(k)\n"
    "sys.stdout.write(np.asarray(a).tobytes().hex() + ' ' + np.asarray(jax.random.key_data(s))"
    ".tobytes().hex() + ' ' + np.asarray(i).tobytes().hex())\n"
)


def test_same_random_numbers_as_jax_default_lowering():
    """normal, split, fold_in and randint in a fresh process with and without the rule."""
    # a fresh environment, but no __pycache__ written into the checkout
    env = {"JAX_PLATFORMS": "cpu", "GANCLI_NO_COMPILE_CACHE": "1", "PATH": "",
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    outs = [
        subprocess.run(
            [sys.executable, "-c", _DRAW, flag],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        for flag in ("0", "1")
    ]
    assert outs[0] and outs[0] == outs[1]

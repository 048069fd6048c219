"""The seed axis is sharded over devices: same numbers as one device, really split, no retrace.

XLA's host-platform device count is fixed when jax initialises, so the 4-device side runs
in a subprocess with XLA_FLAGS=--xla_force_host_platform_device_count=4; it writes what it
saw (facts as JSON, parameters as .npz) for the assertions here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    import numpy as np

    from gancli.machine.jaxsetup import enable_compilation_cache

    enable_compilation_cache()

    from gancli import data as data_lib
    from gancli.config import Config, ConfigError, resolve
    from gancli.core.step import GANProgram

    out = sys.argv[1]
    TRACES = []


    from gancli.core import step as step_lib

    train_step = step_lib.train_step

    def counting_step(p, state, data_array):
        # train_step runs Python only while jax traces it: one call = one trace.
        TRACES.append(1)
        return train_step(p, state, data_array)

    step_lib.train_step = counting_step
    CountingProgram = GANProgram


    def flat(tree):
        return {jax.tree_util.keystr(p): np.asarray(x)
                for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


    facts = {"device_count": len(jax.devices())}
    ring = data_lib.load("ring8")
    cfg = resolve(Config(hidden=32, depth=2, batch_size=64, z_dim=2, seeds=4, seed=3))

    # 4 seeds on 4 devices: one seed per device.
    p4 = CountingProgram.build(cfg, ring)
    facts["mesh_devices"] = None if p4.mesh is None else len(p4.mesh.devices.flat)
    data4 = p4.put_data(ring.array)
    s4 = p4.init()
    kernel = s4.g.params["dense_0"]["kernel"]
    facts["init_devices"] = len(kernel.sharding.device_set)
    facts["init_shards"] = [list(s.data.shape) for s in kernel.addressable_shards]
    facts["init_shard_devices"] = sorted(s.device.id for s in kernel.addressable_shards)
    chunk = p4.run_chunk(10)
    s4, m4 = chunk(s4, data4)
    facts["traces_after_first_chunk"] = len(TRACES)
    # an equal program (rebuilt, other seeds) reuses jit's compiled chunk
    facts["same_program"] = CountingProgram.build(cfg.replace(seed=9), ring) == p4
    s4, m4 = p4.run_chunk(10)(s4, data4)  # the state the first chunk returned, fed back
    facts["traces_after_second_chunk"] = len(TRACES)
    facts["executables_cached"] = step_lib.chunk._cache_size()
    kernel = s4.g.params["dense_0"]["kernel"]
    facts["out_devices"] = len(kernel.sharding.device_set)
    facts["out_shards"] = [list(s.data.shape) for s in kernel.addressable_shards]
    facts["out_leaf_devices"] = sorted({len(x.sharding.device_set) for x in jax.tree.leaves(s4)})
    facts["metric_shape"] = list(m4["d_loss"].shape)

    # The same 4 seeds on one device, two chunks of 10 steps as above.
    TRACES.clear()
    p1 = CountingProgram.build(cfg, ring, devices=[jax.devices()[0]])
    facts["single_mesh"] = p1.mesh is not None
    data1 = p1.put_data(ring.array)
    s1 = p1.init()
    for _ in range(2):
        s1, m1 = p1.run_chunk(10)(s1, data1)
    facts["single_traces"] = len(TRACES)
    facts["single_devices"] = len(s1.g.params["dense_0"]["kernel"].sharding.device_set)

    np.savez(out + "/sharded.npz", **flat((s4, m4)))
    np.savez(out + "/single.npz", **flat((s1, m1)))

    # A DCGAN vmaps its seeds over a sharded mesh; on one CPU device it maps them one at a
    # time (GANProgram.seed_group)
    digits, img = data_lib.load("digits"), resolve(Config(dataset="digits", seeds=4))
    facts["image_seed_group_sharded"] = GANProgram.build(img, digits).seed_group
    one = GANProgram.build(img, digits, devices=[jax.devices()[0]])
    facts["image_seed_group_one_cpu"] = one.seed_group

    # 8 seeds on 4 devices: two per device (divisible is enough, not equal).
    facts["eight_seeds_mesh"] = len(GANProgram.build(cfg.replace(seeds=8), ring).mesh.devices.flat)
    two = GANProgram.build(cfg, ring, devices=jax.devices()[:2]).mesh
    facts["two_devices_mesh"] = None if two is None else len(two.devices.flat)
    # what a checkpoint is restored into: split like the state, or on the one device
    leaf = jax.tree.leaves(p4.abstract_state())[0]
    facts["abstract_devices"] = len(leaf.sharding.device_set)
    leaf = jax.tree.leaves(p1.abstract_state())[0]
    facts["abstract_single_device"] = sorted(d.id for d in leaf.sharding.device_set)

    # Seeds not divisible by the device count: one readable ConfigError.
    try:
        GANProgram.build(cfg.replace(seeds=6), ring)
        facts["error"] = None
    except ConfigError as e:
        facts["error"] = str(e)
    with open(out + "/facts.json", "w") as f:
        json.dump(facts, f)
    """
)


@pytest.fixture(scope="module")
def sharded_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sharding")
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
    ).strip()
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"subprocess failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    facts = json.loads((out / "facts.json").read_text())
    return facts, np.load(out / "sharded.npz"), np.load(out / "single.npz")


def test_subprocess_sees_four_cpu_devices(sharded_run):
    facts, _, _ = sharded_run
    assert facts["device_count"] == 4
    assert facts["mesh_devices"] == 4
    assert facts["single_mesh"] is False
    assert facts["eight_seeds_mesh"] == 4
    assert facts["two_devices_mesh"] == 2  # two GPUs shard too


def test_four_devices_give_the_single_device_numbers(sharded_run):
    _, sharded, single = sharded_run
    assert sorted(sharded.files) == sorted(single.files)
    assert len(sharded.files) > 10
    for name in sharded.files:
        a, b = sharded[name], single[name]
        assert a.shape == b.shape, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7, err_msg=name)
        else:  # step counters, keys, diverged_at
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_state_is_split_one_seed_per_device(sharded_run):
    facts, _, _ = sharded_run
    for when in ("init", "out"):
        assert facts[f"{when}_devices"] == 4, when
        shards = facts[f"{when}_shards"]
        assert len(shards) == 4, when
        assert all(s[0] == 1 for s in shards), (when, shards)  # 4 seeds / 4 devices
    assert facts["init_shard_devices"] == [0, 1, 2, 3]
    # Every leaf of the returned state (params, optimiser state, keys, counters) is split.
    assert facts["out_leaf_devices"] == [4]
    assert facts["metric_shape"] == [4]
    assert facts["single_devices"] == 1
    # a checkpoint is restored split the same way (sharded), or onto the first device
    assert facts["abstract_devices"] == 4
    assert facts["abstract_single_device"] == [0]


def test_chunks_do_not_retrace_or_recompile(sharded_run):
    facts, _, _ = sharded_run
    assert facts["same_program"] is True
    assert facts["traces_after_first_chunk"] == 1
    # The second chunk takes the first one's output state: same shardings, so no retrace
    # and one executable in jit's cache.
    assert facts["traces_after_second_chunk"] == 1
    assert facts["executables_cached"] == 1
    assert facts["single_traces"] == 1


def test_a_dcgan_vmaps_its_seeds_over_a_sharded_mesh_and_maps_them_on_one_cpu(sharded_run):
    facts, _, _ = sharded_run
    assert facts["image_seed_group_sharded"] == 4
    assert facts["image_seed_group_one_cpu"] == 1


def test_seeds_not_divisible_by_devices_is_a_config_error(sharded_run):
    facts, _, _ = sharded_run
    msg = facts["error"]
    assert msg is not None, "seeds=6 on 4 devices was accepted"
    assert "device count (4)" in msg and "seeds (6)" in msg


# ---- several processes (jax.distributed) --------------------------------------------------

TRAIN = ["train", "--hidden", "16", "--depth", "1", "--batch-size", "32", "--z-dim", "2",
         "--seeds", "2", "--seed", "1", "--steps", "20", "--log-every", "10",
         "--eval-every", "20", "--checkpoint-every", "10", "--quiet"]  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(args, env, cwd):
    return subprocess.Popen(
        [sys.executable, "-m", "gancli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # two jax.distributed processes: ~25 s; in `make test-all`
def test_two_processes_train_like_one(tmp_path):
    """`gancli train` as 2 CPU processes under jax.distributed (the README's variables):
    one seed per process, process 0 writes the logs, the checkpoint restores, and the
    metrics equal a single-process run's to float32 rounding."""
    root = Path(__file__).resolve().parents[2]
    base = dict(os.environ, JAX_PLATFORMS="cpu")
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), base.get("PYTHONPATH")]))
    address = f"127.0.0.1:{_free_port()}"
    procs = [
        _cli(
            [*TRAIN, "--out", str(tmp_path / "multi")],
            dict(
                base, JAX_COORDINATOR_ADDRESS=address, JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(i)
            ),  # fmt: skip
            root,
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-3000:]
    single = _cli([*TRAIN, "--out", str(tmp_path / "single")], base, root)
    _, err = single.communicate(timeout=300)
    assert single.returncode == 0, err[-3000:]

    from gancli.run.rundir import read_jsonl
    from gancli.run.runner import load_run

    multi = read_jsonl(tmp_path / "multi" / "metrics.jsonl")
    one = read_jsonl(tmp_path / "single" / "metrics.jsonl")
    assert len(multi) == len(one) == 2 * 2  # 2 logged chunks x 2 seeds, written once
    for a, b in zip(multi, one, strict=True):
        assert (a["step"], a["seed"]) == (b["step"], b["seed"])
        for k in ("d_loss", "g_loss", "g_grad_norm"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-5, err_msg=k)
    env_json = json.loads((tmp_path / "multi" / "env.json").read_text())
    assert env_json["process_count"] == 2

    loaded = load_run(tmp_path / "multi")  # the checkpoint both processes wrote
    assert int(np.asarray(loaded.state.step)[0]) == 20

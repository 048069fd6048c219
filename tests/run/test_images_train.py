"""Image runs: the user's own files through the CLI, and a short DCGAN run that learns."""

import json

import numpy as np
import pytest

from gancli import data as data_lib
from gancli.cli import main
from gancli.core.step import GANProgram
from gancli.quality.evaluator import Evaluator
from tests.conftest import tiny

IMAGE_FLAGS = ["--hidden", "8", "--batch-size", "16", "--z-dim", "8", "--steps", "4",
               "--log-every", "2", "--eval-every", "4", "--checkpoint-every", "4",
               "--quiet"]  # fmt: skip


def write_npz(path, n=64, labels=True):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 8, 8), dtype=np.uint8)
    if labels:
        np.savez(path, x_train=x, y_train=rng.integers(0, 3, size=n))
    else:
        np.savez(path, images=x)


def test_train_sample_eval_on_a_users_npz(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANCLI_CACHE", str(tmp_path / "cache"))
    write_npz(tmp_path / "mine.npz", labels=False)
    run = tmp_path / "run"
    code = main(["train", "--dataset", str(tmp_path / "mine.npz"), "--out", str(run), *IMAGE_FLAGS])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((run / "summary.json").read_text())
    assert "fd_pixels" in summary["mean"]  # no labels: pixel-space Fréchet distance
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "s.png")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (5, 8, 8, 1)
    assert (tmp_path / "s.png").stat().st_size > 500
    assert main(["eval", str(run), "--json"]) == 0


@pytest.mark.parametrize(
    "content, message",
    [(b"not a zip", "mine.npz"), (None, "mine.npz")],
)
def test_a_bad_image_file_exits_2_naming_it(tmp_path, capsys, content, message):
    path = tmp_path / "mine.npz"
    if content is None:
        np.savez(path, weights=np.zeros((3, 3)))  # no image array in it
    else:
        path.write_bytes(content)
    code = main(["train", "--dataset", str(path), "--out", str(tmp_path / "r"), *IMAGE_FLAGS])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_short_dcgan_run_on_digits_lowers_the_frechet_distance(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCLI_CACHE", str(tmp_path / "cache"))
    digits = data_lib.load("digits")
    cfg = tiny(dataset="digits", z_dim=32, hidden=16, batch_size=32, eval_samples=500,
               lr_g=1e-3, lr_d=1e-3, seeds=1)  # fmt: skip
    p = GANProgram.build(cfg, digits)
    ev = Evaluator(p, digits)
    state = p.init()
    _, before = ev(state)
    for _ in range(6):
        state, _ = p.run_chunk(50)(state, p.put_data(digits.array))
    _, after = ev(state)
    assert after[0]["fd"] < 0.6 * before[0]["fd"], (before, after)
    assert after[0]["classes"] >= 3, after


def test_dcgan_seeds_run_one_at_a_time_on_cpu_and_match_single_runs():
    """On one CPU device the DCGAN chunk maps over seeds (lax.map) instead of vmapping;
    seed i of a 3-seed run is still seed i of a 1-seed run, and a vmapped chunk gives the
    same numbers to float32 rounding."""
    import jax

    digits = data_lib.load("digits", 8)
    cfg = tiny(dataset="digits", image_size=8, hidden=8, batch_size=16, z_dim=8, seeds=3)
    p = GANProgram.build(cfg, digits, devices=jax.devices()[:1])
    assert p.seed_group == (1 if jax.default_backend() == "cpu" else 3)
    data = p.put_data(digits.array)
    many, m_many = p.run_chunk(4)(p.init([4, 5, 6]), data)
    one_p = GANProgram.build(cfg.replace(seeds=1, seed=5), digits, devices=jax.devices()[:1])
    one, m_one = one_p.run_chunk(4)(one_p.init([5]), data)
    for a, b in zip(jax.tree.leaves(many), jax.tree.leaves(one), strict=True):
        np.testing.assert_allclose(np.asarray(a)[1], np.asarray(b)[0], rtol=1e-5, atol=1e-6)

    class Vmapped(GANProgram):
        seed_group = 3  # what an accelerator would run

    v = Vmapped.build(cfg, digits, devices=jax.devices()[:1])
    vm, m_vm = v.run_chunk(4)(v.init([4, 5, 6]), data)
    for a, b in zip(jax.tree.leaves(many), jax.tree.leaves(vm), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    for k in m_vm:
        np.testing.assert_allclose(m_many[k], m_vm[k], rtol=1e-4, atol=1e-6)

"""Image runs: the user's own files through the CLI, and a short DCGAN run that learns."""

import json

import numpy as np
import pytest

from gancli import data as data_lib
from gancli.cli import main
from gancli.evaluate import Evaluator
from gancli.train import GANProgram
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

"""Faults: absurd sizes. Each ends in one line, a non-zero exit, no debris, and
every complete checkpoint and log row still usable (README: Faults)."""

import jax
import numpy as np
import pytest

from gancli import data as data_lib
from gancli.cli import main
from gancli.core.step import GANProgram
from gancli.run import memory
from tests.conftest import tiny
from tests.run.faults.conftest import one_line

# ---- 4. absurd sizes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "flag, value",
    [("--seeds", "100000000"), ("--hidden", "10000000"), ("--batch-size", "1000000000")],
)
def test_absurd_sizes_are_refused_at_once_with_the_estimate(
    tmp_path, capsys, monkeypatch, flag, value
):
    def no_arrays(*args, **kwargs):
        raise AssertionError("an array of the run was made before the refusal")

    monkeypatch.setattr(GANProgram, "init", no_arrays)  # refused before any state exists
    assert main(["train", flag, value, "--out", str(tmp_path / "r"), "-q"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: this run needs about ") and (" TB " in line or " PB " in line)
    assert "this machine has" in line and "available" in line
    assert not (tmp_path / "r").exists()


def test_sampling_too_many_points_is_refused(straight, tmp_path, capsys):
    assert main(["sample", str(straight), "--n", "1000000000", "--out",
                 str(tmp_path / "s.png")]) == 2  # fmt: skip
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: --n 1000000000 needs about") and "use a smaller --n" in line
    assert not list(tmp_path.iterdir())


def test_memory_estimate_counts_the_state_exactly_and_refuses_just_above_free(monkeypatch):
    cfg = tiny(seeds=3)
    program = GANProgram.build(cfg, data_lib.load(cfg.dataset))
    est = memory.estimate(program)
    assert est.state == memory.nbytes(program.init())
    # the step's working memory holds at least a batch of activations of every layer
    assert est.step >= cfg.seeds * cfg.batch_size * cfg.hidden * 4 * cfg.depth
    assert est.total < 100 * 2**20  # and is not absurd for a tiny model
    monkeypatch.setattr(memory, "available", lambda: (est.total, "this machine has"))
    memory.check_fits(program)
    monkeypatch.setattr(memory, "available", lambda: (est.total - 1, "this machine has"))
    with pytest.raises(memory.TooLarge, match=f"needs about {memory.human(est.total)}"):
        memory.check_fits(program)


def test_peak_bytes_frees_values_after_their_last_use():
    n = 1000

    def chain(x):
        for _ in range(10):
            x = x * 2.0  # each step's input dies as its output is born
        return x

    jaxpr = jax.make_jaxpr(chain)(jax.ShapeDtypeStruct((n,), np.float32))
    assert memory.peak_bytes(jaxpr) == 2 * 4 * n

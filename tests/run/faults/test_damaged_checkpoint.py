"""Faults: a damaged newest checkpoint. Each ends in one line, a non-zero exit, no debris, and
every complete checkpoint and log row still usable (README: Faults)."""

import json
import shutil

from gancli.cli import main
from gancli.run import runner
from tests.run.faults.conftest import damage, one_line, params_equal, same_logs, steps_in

# ---- 1. a damaged newest checkpoint -------------------------------------------------------


def test_damaged_newest_checkpoint_falls_back_in_sample_eval_and_resume(straight, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    damage(run / "checkpoints" / "60")
    warning = f"warning: skipping damaged checkpoint step 60 in {run} ("

    assert main(["sample", str(run), "--out", str(tmp_path / "s.png")]) == 0
    line = one_line(capsys.readouterr().err)
    assert line.startswith(warning) and line.endswith("using step 40"), line

    assert main(["eval", str(run), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["step"] == 40 and one_line(err).startswith(warning)

    # resume: from 40, the damaged 60 replaced, logs after 40 redone exactly once
    assert max(steps_in(run / "metrics.jsonl")) == 60
    assert main(["train", "--resume", str(run), "-q"]) == 0
    assert one_line(capsys.readouterr().err).startswith(warning)
    assert params_equal(runner.load_run(run).state, runner.load_run(straight).state)
    same_logs(run, straight)


def test_no_intact_checkpoint_is_one_line_and_exit_1(straight, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    for step in (20, 40, 60):
        damage(run / "checkpoints" / str(step), seed=step)
    before = (run / "metrics.jsonl").read_text()
    for argv in (["sample", str(run), "--out", str(tmp_path / "s.png")], ["eval", str(run)],
                 ["train", "--resume", str(run), "-q"]):  # fmt: skip
        assert main(argv) == 1, argv
        line = one_line(capsys.readouterr().err)
        assert line.startswith(f"error: no intact checkpoint in {run}: steps [20, 40, 60]"), line
    assert not list(tmp_path.glob("s.*"))
    assert (run / "metrics.jsonl").read_text() == before  # nothing to resume: logs untouched


def test_checkpoint_with_valid_files_but_the_wrong_state_is_skipped(straight, tmp_path, capsys):
    """Checkpoint 60's directory holding step 40's files: it restores, but is not step 60."""
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    shutil.rmtree(run / "checkpoints" / "60")
    shutil.copytree(run / "checkpoints" / "40", run / "checkpoints" / "60")
    loaded = runner.load_run(run)
    assert loaded.step == 40
    assert "its state is at step [40], not 60" in capsys.readouterr().err

"""Faults: a torn last log line. Each ends in one line, a non-zero exit, no debris, and
every complete checkpoint and log row still usable (README: Faults)."""

import shutil

from gancli.cli import main
from gancli.run import files, rundir, runner
from gancli.run.rundir import RunDir
from tests.conftest import tiny
from tests.run.faults.conftest import one_line, same_logs

# ---- 5. a torn last log line --------------------------------------------------------------


def test_readers_skip_and_repair_a_torn_last_line(straight, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    path = run / "metrics.jsonl"
    whole = path.read_text()
    path.write_text(whole + '{"step": 70, "seed": 0, "d_lo')
    with RunDir(run).lock():  # a writer is active: readers tolerate, and touch nothing
        assert rundir.read_jsonl(path) == rundir.read_jsonl(straight / "metrics.jsonl")
        assert path.read_text().endswith('"d_lo')
    assert rundir.read_jsonl(path) == rundir.read_jsonl(straight / "metrics.jsonl")
    assert path.read_text() == whole  # idle: the reader cut the torn line


def test_garbage_in_the_middle_is_skipped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"step": 0, "seed": 0}\n\x00\x00\x00\n{"step": 20, "seed": 0}\n')
    assert [r["step"] for r in rundir.read_jsonl(path)] == [0, 20]
    assert "skipped 1 line(s)" in one_line(capsys.readouterr().err)
    files.truncate_jsonl(path, 10)
    assert path.read_text() == '{"step": 0, "seed": 0}\n'


def test_resume_after_a_torn_last_line(straight, cfg_file, tmp_path, capsys):
    run = tmp_path / "run"
    runner.train(tiny(seeds=2, steps=40), run, quiet=True)
    for name in ("metrics.jsonl", "eval.jsonl"):
        with (run / name).open("a") as f:
            f.write('{"step": 50, "seed": 1, "d_loss": 0.69')  # kill -9 mid-write
    assert main(["train", "--resume", str(run), "--steps", "60", "-q"]) == 0
    assert capsys.readouterr().err == ""
    same_logs(run, straight)

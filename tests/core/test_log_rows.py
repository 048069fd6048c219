"""metrics.jsonl: rows only at multiples of log_every and at the last step, each with the
wall-clock time; eval.jsonl rows carry it too."""

from gancli.run import runner
from gancli.run.rundir import read_jsonl
from tests.conftest import tiny


def test_rows_at_log_steps_and_the_end_with_wall_clock_time(tmp_path):
    # chunks end at 10, 15 (eval), 20, 30, 40, 45 (eval, the end): logs at 10, 20, 30, 40, 45
    cfg = tiny(steps=45, seeds=2, log_every=10, eval_every=15, checkpoint_every=20)
    out = runner.train(cfg, tmp_path / "run", quiet=True).run_dir
    rows = read_jsonl(out / "metrics.jsonl")
    assert sorted({r["step"] for r in rows}) == [10, 20, 30, 40, 45]
    times = [r["time"] for r in rows]
    assert all(isinstance(t, float) and t > 1.6e9 for t in times) and times == sorted(times)
    evals = read_jsonl(out / "eval.jsonl")
    assert sorted({r["step"] for r in evals}) == [0, 15, 30, 45]
    assert all(isinstance(r["time"], float) for r in evals)

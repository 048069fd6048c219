"""What a run reports about itself: its speed, a finished run resumed, its result line."""

import json

import pytest

from gancli.cli.tables import result_line
from gancli.run import runner
from tests.conftest import tiny


@pytest.fixture(scope="module")
def one_chunk_run(tmp_path_factory):
    """Every step in one compiled chunk (log, eval and checkpoint only at the end)."""
    cfg = tiny(steps=20, log_every=20, eval_every=20, checkpoint_every=20)
    out = tmp_path_factory.mktemp("outputs") / "run"
    return out, runner.train(cfg, out, quiet=True)


def test_a_run_of_one_chunk_reports_its_speed(one_chunk_run):
    _, result = one_chunk_run
    assert result.summary["seed_steps_per_s"] > 0
    assert "; 0 seed-steps/s" not in result_line(result.summary, "r")  # not "320 seed-steps/s"


def test_resuming_a_finished_run_says_so_and_writes_no_event_file(one_chunk_run, capfd):
    out, first = one_chunk_run
    events = sorted(out.glob("events.out.tfevents.*"))
    again = runner.resume(out)
    assert f"{out} is finished at step 20: nothing to train" in capfd.readouterr().err
    assert sorted(out.glob("events.out.tfevents.*")) == events
    assert again.step == 20
    saved = json.loads((out / "summary.json").read_text())
    # the speed and wall time stay those of the training, not of the re-evaluation
    assert saved["seed_steps_per_s"] == first.summary["seed_steps_per_s"]
    assert saved["wall_time_s"] == first.summary["wall_time_s"]
    assert saved["mean"] == first.summary["mean"]


@pytest.mark.parametrize(
    "changes, label",
    [({}, "nsgan/ring8"), ({"loss": "gan", "generator_variant": "thin"}, "gan-thin/ring8")],
)
def test_the_progress_label_names_a_weakened_generator(changes, label):
    from gancli.run.loop import run_label

    assert run_label(tiny(**changes), "ring8") == label


@pytest.mark.parametrize(
    "seeds, swept, words",
    [(1, None, "(1 seed, 0 diverged"), (3, None, "(mean of 3 seeds, 0 diverged"),
     (4, ["clip"], "(mean of 4 replicas, 0 diverged")],
)  # fmt: skip
def test_result_line_counts_in_words(seeds, swept, words):
    summary = {"loss": "wgan", "dataset": "ring8", "step": 20, "seeds": [{}] * seeds,
               "mean": {"w1": 0.5}, "diverged": 0, "seed_steps_per_s": 1234.5,
               **({"swept": swept} if swept else {})}  # fmt: skip
    line = result_line(summary, "runs/w")
    assert words in line and "1,234 seed-steps/s" in line


def test_eval_prints_its_table_within_80_columns(one_chunk_run, capsys, monkeypatch):
    from rich.console import Console

    from gancli.cli import main, tools

    console = Console(width=80, record=True, force_terminal=False)
    monkeypatch.setattr(tools, "out", console)
    out, _ = one_chunk_run
    assert main(["eval", str(out)]) == 0
    *table, result = console.export_text().splitlines()
    assert "modes" in table[2] and table[-1].startswith("mean ")
    assert "CI lo" not in "".join(table)  # one seed: no interval to show
    assert max(len(line) for line in table) <= 80 and "…" not in "".join(table)
    assert result.startswith(f"{out} at step 20: modes ")  # soft-wrapped: the terminal wraps it


def test_a_report_directory_is_written_whole_by_one_writer(tmp_path):
    import csv

    from gancli.run.files import ReportDir

    report = ReportDir(tmp_path / "rep")
    rows = [{"run": "gan", "w1": 0.25}, {"run": "wgan, thin", "w1": 1.5}]
    report.write_csv("summary.csv", rows)
    with (tmp_path / "rep" / "summary.csv").open(newline="") as f:
        assert list(csv.DictReader(f)) == [{"run": "gan", "w1": "0.25"},
                                           {"run": "wgan, thin", "w1": "1.5"}]  # fmt: skip
    report.write("report.md", "# old")
    report.write("report.md", "# new")
    assert (report / "report.md").read_text() == "# new"
    assert sorted(p.name for p in report.path.iterdir()) == ["report.md", "summary.csv"]


def test_a_figure_that_fails_to_save_leaves_nothing_behind(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gancli.plots import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "plot.nosuchformat")
    assert list(tmp_path.iterdir()) == []
    fig, ax = plt.subplots()
    save_figure(fig, tmp_path / "plot.png")
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]

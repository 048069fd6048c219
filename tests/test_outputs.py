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
    assert "0 seed-steps/s" not in result_line(result.summary, "r")


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

"""TensorBoard event files: the logged values at their steps, resumes TensorBoard reads
right, and a writer that fails without stopping training."""

import json
import shutil
import struct

import numpy as np
import pytest
from tensorboardX.proto.event_pb2 import Event, SessionLog
from tensorboardX.record_writer import masked_crc32c

from gancli.run import runner, tensorboard
from gancli.run.tensorboard import EventFile
from tests.conftest import tiny


def read_events(run_dir) -> list[list[Event]]:
    """Every event file of a run, in name order (TensorBoard's), parsed record by record
    with the TFRecord framing checked: [length][crc][event][crc]."""
    files = []
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        data, i, events = path.read_bytes(), 0, []
        while i < len(data):
            header = data[i : i + 8]
            assert struct.unpack("<I", data[i + 8 : i + 12])[0] == masked_crc32c(header)
            (n,) = struct.unpack("<Q", header)
            payload = data[i + 12 : i + 12 + n]
            assert struct.unpack("<I", data[i + 12 + n : i + 16 + n])[0] == masked_crc32c(payload)
            events.append(Event.FromString(payload))
            i += n + 16
        files.append(events)
    return files


def as_tensorboard_shows(files: list[list[Event]]) -> dict[str, list[tuple[int, float]]]:
    """Per tag, (step, value) as TensorBoard keeps them: a point at or below a tag's last
    step drops that tag's points at or above it (a restart)."""
    series: dict[str, list] = {}
    for event in (e for events in files for e in events):
        for v in event.summary.value:
            points = [p for p in series.get(v.tag, []) if p[0] < event.step]
            series[v.tag] = [*points, (event.step, v.simple_value if v.HasField("simple_value")
                                       else v.image)]  # fmt: skip
    return series


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_events_match_logs(run_dir, shown):
    for name, log in (("d_loss", "metrics.jsonl"), ("g_loss", "metrics.jsonl"),
                      ("w1", "eval.jsonl"), ("modes", "eval.jsonl")):  # fmt: skip
        rows = jsonl(run_dir / log)
        for seed in (0, 1):
            want = [(r["step"], r[name]) for r in rows if r["seed"] == seed]
            got = shown[f"{name}/seed_{seed}"]
            assert [s for s, _ in got] == [s for s, _ in want], name
            np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-6)
        steps = sorted({r["step"] for r in rows})
        means = [np.mean([r[name] for r in rows if r["step"] == t]) for t in steps]
        got = shown[f"{name}/mean"]
        assert [s for s, _ in got] == steps
        np.testing.assert_allclose([v for _, v in got], means, rtol=1e-6)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A 2-seed run of 40 steps: logs every 10, evaluations and checkpoints every 20."""
    out = tmp_path_factory.mktemp("tb") / "run"
    runner.train(tiny(seeds=2, steps=40), out, quiet=True)
    return out


def test_events_hold_the_logged_values_and_samples_at_their_steps(run_dir):
    out = run_dir
    files = read_events(out)
    assert len(files) == 1 and files[0][0].file_version == "brain.Event:2"
    shown = as_tensorboard_shows(files)
    assert_events_match_logs(out, shown)
    # the sample panels of every evaluation, as the PNGs written beside them
    images = shown["samples"]
    assert [s for s, _ in images] == [0, 20, 40]
    import matplotlib.pyplot as plt

    h, w = plt.imread(out / "samples" / "step_0000040.png").shape[:2]
    assert (images[-1][1].height, images[-1][1].width) == (h, w)
    assert images[-1][1].encoded_image_string == (out / "samples" / "step_0000040.png").read_bytes()


def test_resume_hides_what_the_first_process_wrote_after_its_checkpoint(run_dir, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    # back to step 20, with other evaluation samples: steps 30 and 40 are logged again,
    # with other values for the quality metrics
    runner.resume(out, {"eval_samples": 300}, step=20, quiet=True)
    first, second = read_events(out)
    assert {e.step for e in first if e.summary.value} >= {30, 40}
    start = [e for e in second if e.HasField("session_log")]
    assert [(e.step, e.session_log.status) for e in start] == [(21, SessionLog.START)]
    shown = as_tensorboard_shows([first, second])
    assert_events_match_logs(out, shown)
    stale = [v.simple_value for e in first if e.step == 40 for v in e.summary.value
             if v.tag == "w1/seed_0"]  # fmt: skip
    assert stale and stale[0] != pytest.approx(dict(shown["w1/seed_0"])[40], rel=1e-6)


def test_sweep_values_are_tagged_by_point_with_a_mean_per_point(tmp_path):
    rows = [{"step": 10, "seed": s, "lr_d": lr, "d_loss": s + 10 * lr, "diverged": False}
            for lr in (1e-4, 2e-4) for s in (0, 1)]  # fmt: skip
    rows.append({"step": 10, "seed": 2, "lr_d": 1e-4, "d_loss": None, "diverged": True})
    with EventFile(tmp_path, ["lr_d"]) as events:
        events.scalars(rows)
    shown = as_tensorboard_shows(read_events(tmp_path))
    assert shown["d_loss/lr_d_0.0002_seed_1"] == [(10, pytest.approx(1 + 2e-3))]
    assert shown["d_loss/lr_d_0.0001_mean"] == [(10, pytest.approx(0.5 + 1e-3))]
    assert "d_loss/lr_d_0.0001_seed_2" not in shown  # a diverged replica's None is no point
    assert not any(t.startswith(("diverged/", "seed/", "lr_d/")) for t in shown)


def test_a_failing_writer_warns_once_and_training_goes_on(tmp_path, monkeypatch, capsys):
    from tensorboardX.record_writer import RecordWriter

    real, calls = RecordWriter.write, []

    def write(self, data):
        calls.append(1)
        if len(calls) > 5:
            raise OSError(28, "No space left on device")
        real(self, data)

    monkeypatch.setattr(RecordWriter, "write", write)
    out = tmp_path / "run"
    result = runner.train(tiny(seeds=2, steps=20), out, quiet=True)
    assert result.step == 20 and jsonl(out / "metrics.jsonl")[-1]["step"] == 20
    warnings = [line for line in capsys.readouterr().err.splitlines() if "TensorBoard" in line]
    assert len(warnings) == 1 and "No space left on device" in warnings[0], warnings
    assert len(calls) == 6  # nothing written after the failure


def test_only_the_primary_process_writes_events(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "is_primary", lambda: False)
    with EventFile(tmp_path) as events:
        events.scalars([{"step": 1, "seed": 0, "d_loss": 0.5}])
        events.image("samples", tmp_path / "missing.png", 1)
    assert list(tmp_path.iterdir()) == []

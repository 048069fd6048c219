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


def read_events(directory) -> list[list[Event]]:
    """Every event file of a TensorBoard run (a directory), in name order (TensorBoard's),
    parsed record by record with the TFRecord framing checked: [length][crc][event][crc]."""
    files = []
    for path in sorted(directory.glob("events.out.tfevents.*")):
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


def shown_runs(run_dir) -> dict[str, dict[str, list]]:
    """Per TensorBoard run under RUN/tb (seed_0, mean, samples, ...), what it shows."""
    return {d.name: as_tensorboard_shows(read_events(d)) for d in (run_dir / "tb").iterdir()}


def assert_events_match_logs(run_dir, shown):
    for name, log in (("d_loss", "metrics.jsonl"), ("g_loss", "metrics.jsonl"),
                      ("w1", "eval.jsonl"), ("modes", "eval.jsonl")):  # fmt: skip
        rows = jsonl(run_dir / log)
        for seed in (0, 1):
            want = [(r["step"], r[name]) for r in rows if r["seed"] == seed]
            got = shown[f"seed_{seed}"][name]
            assert [s for s, _ in got] == [s for s, _ in want], name
            np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-6)
        steps = sorted({r["step"] for r in rows})
        means = [np.mean([r[name] for r in rows if r["step"] == t]) for t in steps]
        got = shown["mean"][name]
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
    assert sorted(p.name for p in (out / "tb").iterdir()) == ["mean", "samples", "seed_0", "seed_1"]
    for d in (out / "tb").iterdir():  # one event file per TensorBoard run
        files = read_events(d)
        assert len(files) == 1 and files[0][0].file_version == "brain.Event:2"
    shown = shown_runs(out)
    assert_events_match_logs(out, shown)
    assert not any(e.summary.value[0].tag.startswith("_hparams_") for d in (out / "tb").iterdir()
                   for e in read_events(d)[0] if e.summary.value)  # fmt: skip
    # the sample panels of every evaluation, as the PNGs written beside them
    images = shown["samples"]["samples"]
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
    first, second = read_events(out / "tb" / "seed_0")
    assert {e.step for e in first if e.summary.value} >= {30, 40}
    start = [e for e in second if e.HasField("session_log")]
    assert [(e.step, e.session_log.status) for e in start] == [(21, SessionLog.START)]
    shown = shown_runs(out)
    assert_events_match_logs(out, shown)
    stale = [v.simple_value for e in first if e.step == 40 for v in e.summary.value
             if v.tag == "w1"]  # fmt: skip
    assert stale and stale[0] != pytest.approx(dict(shown["seed_0"]["w1"])[40], rel=1e-6)


def test_a_sweep_has_a_run_per_replica_with_hparams_and_a_mean_per_point(tmp_path):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    rows = [{"step": 10, "seed": s, "lr_d": lr, "d_loss": s + 10 * lr, "diverged": False}
            for lr in (1e-4, 2e-4) for s in (0, 1)]  # fmt: skip
    rows.append({"step": 10, "seed": 2, "lr_d": 1e-4, "d_loss": None, "diverged": True})
    with EventFile(tmp_path, ["lr_d"]) as events:
        events.scalars(rows)
    shown = shown_runs(tmp_path)
    assert shown["lr_d_0.0002_seed_1"]["d_loss"] == [(10, pytest.approx(1 + 2e-3))]
    assert shown["lr_d_0.0001_mean"]["d_loss"] == [(10, pytest.approx(0.5 + 1e-3))]
    assert "lr_d_0.0001_seed_2" not in shown  # a diverged replica's None is no point
    assert not any(t in ("diverged", "seed", "lr_d", "time") for r in shown.values() for t in r)
    for run in ("lr_d_0.0002_seed_1", "lr_d_0.0001_mean"):
        values = [v for e in read_events(tmp_path / "tb" / run)[0] for v in e.summary.value]
        sessions = [v for v in values if v.tag == "_hparams_/session_start_info"]
        if run.endswith("mean"):
            assert sessions == []  # a mean is no session of the HParams table
            continue
        (session,) = sessions
        assert session.metadata.plugin_data.plugin_name == "hparams"
        data = HParamsPluginData.FromString(session.metadata.plugin_data.content)
        hp = data.session_start_info.hparams
        assert (hp["lr_d"].number_value, hp["seed"].number_value) == (2e-4, 1)


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

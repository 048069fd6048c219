"""TensorBoard event files beside the JSON lines: `tensorboard --logdir runs/` shows every
run's losses and quality metrics per replica and their mean, and the sample panels of each
evaluation, over steps. The JSON lines stay the source of truth; events are a view.

Written with tensorboardX's record writer and protos: pure Python and protobuf, no
TensorFlow or PyTorch (clu's metric writers need TensorFlow for this), and already a small
dependency. Not its `SummaryWriter`: that one sends each value through a 10-slot
multiprocessing queue to a thread, whose `put` blocks once 10 are waiting (32 seeds x 7
metrics is 224 values a chunk), and starts a thread per run. Here one event per step
carries all its values, written synchronously between chunks while the device runs the
next one, and synced to disk at each evaluation or every few seconds.

Events never stop training: only the primary process writes, and a failure to write is
one warning, after which the run goes on without events.
"""

from __future__ import annotations

import contextlib
import math
import socket
import struct
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from gancli.core.host import is_primary
from gancli.run.rundir import warn

SYNC_S = 5.0  # at most this long between a logged value and its sync to disk
LABELS = ("step", "seed", "diverged")  # row fields that are not values
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def replica_tag(row: dict, swept: list[str]) -> str:
    """'seed_3', or in a sweep 'lr_d_0.0002_seed_3': the second half of a value's tag
    (TensorBoard's tag characters: letters, digits, _ - . /)."""
    return "_".join([*(f"{k}_{row[k]:.3g}" for k in swept), f"seed_{row['seed']}"])


def mean_tag(row: dict, swept: list[str]) -> str:
    """'mean', or in a sweep 'lr_d_0.0002_mean': the mean over a point's seeds."""
    return "_".join([*(f"{k}_{row[k]:.3g}" for k in swept), "mean"])


def _values(row: dict, swept: list[str]) -> dict[str, float]:
    """A log row's finite numbers, without its labels (step, seed, swept values, diverged)."""
    labels = {*LABELS, *swept}
    numbers = {k: v for k, v in row.items() if k not in labels and not isinstance(v, bool)}
    return {k: v for k, v in numbers.items() if isinstance(v, int | float) and math.isfinite(v)}


class EventFile:
    """One run's event file; `scalars` takes the rows written to the JSON lines.

    `start` is the step training starts from: on a resume, TensorBoard hides the events
    an earlier process wrote after it (a SessionLog.START at start + 1, as tensorboardX's
    `purge_step` writes; TensorBoard also drops a tag's points at or above a step that
    arrives out of order), so the curves match the logs that `cut_logs` kept.
    """

    def __init__(self, run_dir: str | Path, swept: list[str] | tuple = (), start: int = 0):
        self.swept = list(swept)
        self.path: Path | None = None
        self._writer = None
        self._synced = time.monotonic()
        if not is_primary():
            return
        try:
            from tensorboardX.proto.event_pb2 import Event, SessionLog
            from tensorboardX.record_writer import RecordWriter

            name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
            self.path = Path(run_dir) / f"{name}.{time.time_ns()}"  # sorts by start
            self._writer = RecordWriter(str(self.path))
            self._write(Event(wall_time=time.time(), file_version="brain.Event:2"))
            start_log = SessionLog(status=SessionLog.START)
            self._write(Event(wall_time=time.time(), step=start + 1, session_log=start_log))
            self._writer.flush()
        except Exception as e:  # events are a view: they never stop training
            self._fail(e)

    def __enter__(self) -> EventFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, event) -> None:
        self._writer.write(event.SerializeToString())

    def _fail(self, e: Exception) -> None:
        writer, self._writer = self._writer, None
        warn(
            f"TensorBoard events are no longer written ({type(e).__name__}: {e}); training "
            "goes on and metrics.jsonl and eval.jsonl keep every value"
        )
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()

    def _add(self, step: int, values: list, sync: bool) -> None:
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary

        if self._writer is None or not values:
            return
        try:
            self._write(Event(wall_time=time.time(), step=step, summary=Summary(value=values)))
            if sync or time.monotonic() - self._synced > SYNC_S:
                self._writer.flush()
                self._synced = time.monotonic()
        except Exception as e:
            self._fail(e)

    def scalars(self, rows: list[dict]) -> None:
        """Each row's values as '<name>/seed_<s>', and per point '<name>/mean', at its step."""
        from tensorboardX.proto.summary_pb2 import Summary

        def scalar(tag: str, v: float):
            return Summary.Value(tag=tag, simple_value=v)

        if self._writer is None:
            return
        by_step: dict[int, list] = defaultdict(list)
        groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            for name, v in _values(row, self.swept).items():
                by_step[row["step"]].append(scalar(f"{name}/{replica_tag(row, self.swept)}", v))
                groups[row["step"], mean_tag(row, self.swept)][name].append(v)
        for (step, tag), names in groups.items():
            for name, vs in names.items():
                by_step[step].append(scalar(f"{name}/{tag}", float(np.mean(vs))))
        for step, summaries in sorted(by_step.items()):
            self._add(step, summaries, sync=False)

    def image(self, tag: str, png: str | Path, step: int) -> None:
        """A PNG already written (the evaluation's sample panels) as an image at `step`,
        its bytes as they are (TensorBoard shows PNGs; nothing is decoded or re-encoded)."""
        from tensorboardX.proto.summary_pb2 import Summary

        if self._writer is None:
            return
        try:
            data = Path(png).read_bytes()
            if data[:8] != PNG_SIGNATURE:
                raise ValueError(f"{png} is not a PNG")
            width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
        except Exception as e:
            self._fail(e)
            return
        image = Summary.Image(height=height, width=width, colorspace=4, encoded_image_string=data)
        self._add(step, [Summary.Value(tag=tag, image=image)], sync=True)

    def close(self) -> None:
        if self._writer is None:
            return
        try:
            self._writer.flush()
            self._writer.close()
        except Exception as e:
            self._fail(e)
        self._writer = None

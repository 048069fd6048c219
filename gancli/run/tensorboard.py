"""TensorBoard event files beside the JSON lines: `tensorboard --logdir runs/` shows every
run's losses and quality metrics over steps, each replica as a TensorBoard run of its own
(`RUN/tb/seed_3`, so a chart overlays the seeds) beside their mean (`RUN/tb/mean`), and the
sample panels of each evaluation (`RUN/tb/samples`). In a sweep each replica run is
`RUN/tb/lr_d_0.0002_seed_3`, with a mean per point, and carries the HParams plugin's
session data (its swept values and seed), so the HParams table compares the points. The
JSON lines stay the source of truth; events are a view.

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

from gancli.errors import warn
from gancli.machine.host import is_primary

SYNC_S = 5.0  # at most this long between a logged value and its sync to disk
LABELS = ("step", "seed", "diverged", "time")  # row fields that are not values
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def replica_tag(row: dict, swept: list[str]) -> str:
    """'seed_3', or in a sweep 'lr_d_0.0002_seed_3': a replica's TensorBoard run."""
    return "_".join([*(f"{k}_{row[k]:.3g}" for k in swept), f"seed_{row['seed']}"])


def mean_tag(row: dict, swept: list[str]) -> str:
    """'mean', or in a sweep 'lr_d_0.0002_mean': the run of the mean over a point's seeds."""
    return "_".join([*(f"{k}_{row[k]:.3g}" for k in swept), "mean"])


def _values(row: dict, swept: list[str]) -> dict[str, float]:
    """A log row's finite numbers, without its labels (step, seed, swept values, diverged)."""
    labels = {*LABELS, *swept}
    numbers = {k: v for k, v in row.items() if k not in labels and not isinstance(v, bool)}
    return {k: v for k, v in numbers.items() if isinstance(v, int | float) and math.isfinite(v)}


TB_DIR = "tb"  # inside a run directory: one subdirectory per TensorBoard run


class EventFile:
    """The event files of one gancli run: a TensorBoard run per replica, per point's mean
    and for the sample panels, each made at its first value; `scalars` takes the rows
    written to the JSON lines.

    `start` is the step training starts from: on a resume, TensorBoard hides the events
    an earlier process wrote after it (a SessionLog.START at start + 1, as tensorboardX's
    `purge_step` writes; TensorBoard also drops a tag's points at or above a step that
    arrives out of order), so the curves match the logs that `cut_logs` kept.
    """

    def __init__(self, run_dir: str | Path, swept: list[str] | tuple = (), start: int = 0):
        self.swept = list(swept)
        self.root = Path(run_dir) / TB_DIR
        self.start = start
        self.writers: dict[str, object] = {}
        self.failed = not is_primary()
        self._synced = time.monotonic()

    def __enter__(self) -> EventFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _writer(self, run: str, hparams: dict | None = None):
        """The record writer of TensorBoard run `run`, made with its first events."""
        from tensorboardX.proto.event_pb2 import Event, SessionLog
        from tensorboardX.record_writer import RecordWriter

        if run in self.writers:
            return self.writers[run]
        directory = self.root / run
        directory.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        writer = RecordWriter(str(directory / f"{name}.{time.time_ns()}"))  # sorts by start
        self.writers[run] = writer
        now = time.time()
        writer.write(Event(wall_time=now, file_version="brain.Event:2").SerializeToString())
        start_log = SessionLog(status=SessionLog.START)
        event = Event(wall_time=now, step=self.start + 1, session_log=start_log)
        writer.write(event.SerializeToString())
        if hparams:  # the HParams plugin's session: this replica's swept values and seed
            from tensorboardX.summary import hparams as hparams_summaries

            _, session_start, _ = hparams_summaries(hparams, {})
            writer.write(Event(wall_time=now, summary=session_start).SerializeToString())
        writer.flush()
        return writer

    def _fail(self, e: Exception) -> None:
        self.failed = True
        warn(
            f"TensorBoard events are no longer written ({type(e).__name__}: {e}); training "
            "goes on and metrics.jsonl and eval.jsonl keep every value"
        )
        for writer in self.writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        self.writers = {}

    def _add(self, run: str, step: int, values: list, sync: bool, hparams=None) -> None:
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary

        if self.failed or not values:
            return
        try:
            writer = self._writer(run, hparams)
            event = Event(wall_time=time.time(), step=step, summary=Summary(value=values))
            writer.write(event.SerializeToString())
            if sync or time.monotonic() - self._synced > SYNC_S:
                for w in self.writers.values():
                    w.flush()
                self._synced = time.monotonic()
        except Exception as e:
            self._fail(e)

    def scalars(self, rows: list[dict]) -> None:
        """Each row's values in its replica's run, and per point their mean in the mean run,
        tagged by the value's name, at the row's step."""
        from tensorboardX.proto.summary_pb2 import Summary

        if self.failed:
            return
        by_run: dict[tuple[str, int], list] = defaultdict(list)
        labels: dict[str, dict] = {}
        groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            run = replica_tag(row, self.swept)
            labels[run] = {**{k: row[k] for k in self.swept}, "seed": row["seed"]}
            for name, v in _values(row, self.swept).items():
                by_run[run, row["step"]].append(Summary.Value(tag=name, simple_value=v))
                groups[mean_tag(row, self.swept), row["step"]][name].append(v)
        for (run, step), names in groups.items():
            for name, vs in names.items():
                by_run[run, step].append(Summary.Value(tag=name, simple_value=float(np.mean(vs))))
        for (run, step), summaries in sorted(by_run.items(), key=lambda kv: kv[0][1]):
            hparams = labels.get(run) if self.swept else None
            self._add(run, step, summaries, sync=False, hparams=hparams)

    def image(self, tag: str, png: str | Path, step: int) -> None:
        """A PNG already written (the evaluation's sample panels) as an image at `step` in
        the `samples` run, its bytes as they are (nothing is decoded or re-encoded)."""
        from tensorboardX.proto.summary_pb2 import Summary

        if self.failed:
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
        self._add("samples", step, [Summary.Value(tag=tag, image=image)], sync=True)

    def close(self) -> None:
        try:
            for writer in self.writers.values():
                writer.flush()
                writer.close()
        except Exception as e:
            self._fail(e)
        self.writers = {}

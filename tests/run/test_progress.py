"""The training progress display: readable at 80 columns, honest while compiling."""

import io

from rich.console import Console

from gancli.run.progress import TrainProgress


def _render(progress: TrainProgress, width: int) -> str:
    screen = Console(width=width, record=True, file=io.StringIO())
    screen.print(progress.bar.get_renderable())
    return screen.export_text()


def test_the_bar_reads_at_80_columns_and_says_compiling_first():
    terminal = Console(width=80, file=io.StringIO(), force_terminal=True)
    label = "wgan/a-rather-long-image-file-name-of-digits.npz"
    bar = TrainProgress(label, 0, 100_000, 32, console=terminal)
    try:
        bar.update(0, 0.5, 0.7)
        compiling = _render(bar, 80)
        bar.restart_clock(1000)
        bar.t0 -= 2.0  # two seconds of training since the first chunk compiled
        bar.update(5000, -0.01234, 1.5)
        running = _render(bar, 80)
    finally:
        bar.close()
    assert "compiling" in compiling and "seed-steps/s" not in compiling
    lines = running.splitlines()
    assert len(lines) == 2 and max(len(line) for line in lines) <= 80, running
    assert lines[0].startswith("wgan/") and "5000/100000" in lines[0] and "5%" in lines[0]
    for key in ("seed-steps/s", "eta 0:", "d_loss -0.0123", "g_loss 1.5000"):
        assert key in lines[1], running
    assert "compiling" not in running


def test_plain_lines_without_a_terminal(capsys):
    bar = TrainProgress("nsgan/ring8", 0, 100, 4, console=Console(file=io.StringIO()))
    bar.update(10, 0.5, 0.7, force=True)
    bar.restart_clock(10)
    bar.t0 -= 1.0
    bar.update(50, 0.5, 0.7, force=True)
    first, second = capsys.readouterr().err.splitlines()
    assert first.startswith("nsgan/ring8 step 10/100  compiling")
    assert second.startswith("nsgan/ring8 step 50/100  ") and "seed-steps/s  eta 0:00:" in second


def test_quiet_prints_nothing(capsys):
    bar = TrainProgress("nsgan/ring8", 0, 100, 4, quiet=True)
    bar.restart_clock(10)
    bar.update(100, 0.5, 0.7, force=True)
    assert capsys.readouterr().err == "" and bar.rate > 0

"""Pictures that read: sample scatters with axes, a legend and no blank strip; quality
plots whose titles and y axes say what is plotted."""

import matplotlib.image
import numpy as np

from gancli import plots
from gancli.data import load
from gancli.report import figures

RING = load("ring8").mixture


def _points(n=500):
    rng = np.random.default_rng(0)
    return RING.centers[rng.integers(0, 8, n)] + RING.std * rng.normal(size=(n, 2))


def _keep_figures(monkeypatch) -> list:
    kept = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path, **kw: kept.append(fig))
    return kept


def test_sample_panels_have_axes_and_a_legend_of_the_data_modes(monkeypatch):
    kept = _keep_figures(monkeypatch)
    plots.save_panels("x.png", [_points(), None], ["seed 0", "seed 1"], RING)
    (fig,) = kept
    ax = fig.axes[0]
    assert ax.xaxis.get_visible() and len(ax.get_xticklabels()) > 2
    assert any(t.get_text() for t in ax.get_yticklabels())
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["G's samples", "data modes", f"3 std of a mode ({3 * RING.std:g})"]


def test_sample_png_has_no_blank_strip(tmp_path):
    for n in (1, 3, 6):
        path = tmp_path / f"p{n}.png"
        plots.save_panels(path, [_points()] * n, ["r: nsgan, step 40\nseed 0"] * n, RING,
                          suptitle="gan-thin/ring8 step 40")  # fmt: skip
        ink = (matplotlib.image.imread(path)[..., :3] < 0.9).any(axis=-1)
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        h, w = ink.shape
        # cropped to what is drawn: the padding (0.08 in at 110 dpi) above and below; at the
        # sides the legend's own margin too
        assert rows[0] <= 12 and h - 1 - rows[-1] <= 12, (n, h, rows[[0, -1]])
        assert cols[0] <= 24 and w - 1 - cols[-1] <= 24, (n, w, cols[[0, -1]])


def test_quality_plot_titles_and_y_axes_say_what_is_plotted(monkeypatch):
    kept = _keep_figures(monkeypatch)
    ev = [{"step": t, "seed": s, "w1": 1.0 / (1 + t), "modes": t % 9}
          for t in (0, 100, 200) for s in range(3)]  # fmt: skip
    seeds = {"seeds": [{"seed": s} for s in range(3)]}
    runs = {name: {"loss": name.split("-")[0], "weak": "-" in name, "eval": ev, "summary": seeds}
            for name in ("gan", "wgan", "gan-thin")}  # fmt: skip
    figures.plot_quality(runs, "w1", "modes", "q.png")
    (fig,) = kept
    w1, modes = fig.axes
    assert w1.get_title().startswith("Wasserstein-1 distance to the data (lower is better)")
    assert w1.get_ylabel() == "W1 to the data (w1)"
    assert modes.get_title().startswith("modes covered") and "higher is better" in modes.get_title()
    assert modes.get_ylabel() == "modes covered (modes)"
    assert "95% t interval" in w1.get_title()

"""Pictures of samples: 2-D scatters over the data's density, image grids.

Image grids are drawn pixel for pixel: each sample pixel becomes an s x s block (nearest
neighbour, s an integer), so no interpolation blurs them, and every panel has a caption
above it saying whose samples they are (run, step, seed).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gancli.data.mixtures import Mixture2D  # noqa: E402

GRID_PX = 512  # an image grid is upscaled by the largest integer keeping it within this
DPI = 100
CAPTION_PT = 9
LINE_PX = 16  # one caption line at CAPTION_PT and DPI
GAP_PX = 8  # between panels


def _extent(mixture: Mixture2D) -> float:
    return float(np.abs(mixture.centers).max()) * 1.5 + 0.5


SAMPLE_STYLE = dict(s=2, alpha=0.35, color="tab:blue", lw=0)
MODE_STYLE = dict(s=12, marker="+", color="tab:red", lw=0.8)
DISC_STYLE = dict(color="0.6", alpha=0.6, lw=0)


def draw_mixture(ax, x_Nx2: np.ndarray, mixture: Mixture2D, title: str = "") -> None:
    """Samples (blue) over the data's modes (red +, grey discs of radius 3 std), on axes
    with their coordinates."""
    lim = _extent(mixture)
    for c in mixture.centers:
        ax.add_patch(plt.Circle(c, 3 * mixture.std, **DISC_STYLE))
    x = np.asarray(x_Nx2)
    x = x[np.isfinite(x).all(1)]
    ax.scatter(x[:, 0], x[:, 1], **SAMPLE_STYLE)
    ax.scatter(*mixture.centers.T, **MODE_STYLE)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7, length=2)
    ax.grid(lw=0.3, color="0.9")
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, fontsize=8)


def mixture_legend(fig, mixture: Mixture2D) -> None:
    """One legend under the panels: what the dots, crosses and discs are."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], ls="", marker="o", ms=3, color=SAMPLE_STYLE["color"], label="G's samples"),
        Line2D([], [], ls="", marker="+", ms=6, color=MODE_STYLE["color"], label="data modes"),
        Patch(**DISC_STYLE, label=f"3 std of a mode ({3 * mixture.std:g})"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False)


def image_grid(images_NxHxWxC: np.ndarray, cols: int | None = None) -> np.ndarray:
    """Tile images in [-1, 1] into one (rows*H, cols*W, C) array in [0, 1]."""
    x = np.clip((np.asarray(images_NxHxWxC) + 1) / 2, 0, 1)
    n, h, w, c = x.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + 1) + 1, cols * (w + 1) + 1, c), x.dtype)
    for i in range(n):
        r, q = divmod(i, cols)
        grid[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + q * (w + 1) : 1 + q * (w + 1) + w] = x[i]
    return grid


def grid_scale(grid_HxW: tuple[int, int]) -> int:
    """The integer upscaling of a grid of this size: the largest within GRID_PX, at least 1."""
    return max(1, GRID_PX // max(grid_HxW))


def upscale(grid: np.ndarray, s: int) -> np.ndarray:
    """Nearest neighbour: every pixel becomes an s x s block."""
    return np.repeat(np.repeat(grid, s, axis=0), s, axis=1)


def _wrap(text: str, width_px: int) -> list[str]:
    chars = max(20, width_px // 7)  # about 7 px a character at CAPTION_PT
    return [line for part in text.split("\n") for line in textwrap.wrap(part, chars) or [""]]


def save_image_panels(
    path: str | Path,
    samples: list[np.ndarray | None],
    captions: list[str],
    cols: int | None = None,
    title: str = "",
    max_images: int = 64,
) -> None:
    """One grid per sample set (None: an empty cell), captioned above, at an integer scale.

    The PNG is the upscaled grids pixel for pixel: a single set gives a PNG exactly
    `upscale(image_grid(x), s)` wide, with its caption lines above."""
    grids = [None if x is None else image_grid(np.asarray(x)[:max_images]) for x in samples]
    gh = max(g.shape[0] for g in grids if g is not None)
    gw = max(g.shape[1] for g in grids if g is not None)
    s = grid_scale((gh, gw))
    cell_w, n = gw * s, len(grids)
    cols = cols or min(n, 4)
    rows = math.ceil(n / cols)
    wrapped = [_wrap(c, cell_w) for c in captions]
    cap_h = LINE_PX * max(len(w) for w in wrapped) + 4
    cell_h = cap_h + gh * s
    title_h = LINE_PX * len(_wrap(title, cols * cell_w)) + 6 if title else 0
    W = cols * cell_w + (cols - 1) * GAP_PX
    H = title_h + rows * cell_h + (rows - 1) * GAP_PX
    canvas = np.ones((H, W, 3))
    texts = [(0, 0, "\n".join(_wrap(title, W)))] if title else []
    for i, (g, lines) in enumerate(zip(grids, wrapped, strict=True)):
        r, q = divmod(i, cols)
        top, left = title_h + r * (cell_h + GAP_PX), q * (cell_w + GAP_PX)
        texts.append((left, top, "\n".join(lines)))
        if g is not None:
            big = upscale(g, s)
            if big.shape[-1] == 1:
                big = np.repeat(big, 3, axis=-1)
            canvas[top + cap_h : top + cap_h + big.shape[0], left : left + big.shape[1]] = big
    fig = plt.figure(figsize=(W / DPI, H / DPI), dpi=DPI)
    fig.figimage(canvas, xo=0, yo=0, origin="upper", resize=False)  # no resampling
    for x, y, text in texts:
        fig.text((x + 2) / W, 1 - (y + 2) / H, text, va="top", ha="left", fontsize=CAPTION_PT,
                 linespacing=1.1)  # fmt: skip
    save_figure(fig, path, dpi=DPI)


def save_panels(
    path: str | Path,
    samples: list[np.ndarray | None],
    titles: list[str],
    mixture: Mixture2D | None,
    cols: int | None = None,
    suptitle: str = "",
) -> None:
    """One panel per sample set (a seed, or a loss x seed), captioned, written atomically.

    Images go through `save_image_panels` (nearest neighbour, integer scale); 2-D samples
    are scatters over the data's modes. None leaves a panel empty."""
    if mixture is None:
        save_image_panels(path, samples, titles, cols, suptitle)
        return
    n = len(samples)
    cols = cols or min(n, 4)
    rows = math.ceil(n / cols)
    lines = max(t.count("\n") + 1 for t in titles)
    # Every length in inches, fixed: constrained layout plus a tight crop measured every
    # tick label twice (two panels took 0.6 s to write, now 0.33 s).
    side, left, right = 2.3, 0.4, 0.12  # the square axes; tick labels on the left
    head, foot = 0.17 * lines + 0.08, 0.25  # the caption above; tick labels below
    top, legend = (0.32 if suptitle else 0.06), 0.28
    pw, ph = left + side + right, head + side + foot
    W, H = cols * pw, top + rows * ph + legend
    fig = plt.figure(figsize=(W, H))
    for i in range(rows * cols):
        r, q = divmod(i, cols)
        y0 = H - top - r * ph - head - side
        ax = fig.add_axes(((q * pw + left) / W, y0 / H, side / W, side / H))
        x, t = (samples[i], titles[i]) if i < n else (None, "")
        if x is None:
            ax.axis("off")
            ax.set_title(t, fontsize=8)
        else:
            draw_mixture(ax, x, mixture, t)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10, y=1 - 0.06 / H, va="top")
    mixture_legend(fig, mixture)
    save_figure(fig, path)


def save_figure(fig, path: str | Path, dpi: int = 110, tight: bool = False) -> None:
    """Written atomically; `tight` crops the figure to what is drawn (never for image grids,
    which are drawn pixel for pixel)."""
    from gancli.run.files import atomic_path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    crop = dict(bbox_inches="tight", pad_inches=0.08) if tight else {}
    try:
        with atomic_path(path) as tmp:  # the same writer as every other file
            fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png", **crop)
    finally:
        plt.close(fig)

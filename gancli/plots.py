"""Pictures of samples: 2-D scatters over the data's density, image grids."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gancli.data.mixtures import Mixture2D  # noqa: E402


def _extent(mixture: Mixture2D) -> float:
    return float(np.abs(mixture.centers).max()) * 1.5 + 0.5


def draw_mixture(ax, x_Nx2: np.ndarray, mixture: Mixture2D, title: str = "") -> None:
    """Samples (blue) over the data's modes (grey discs of radius 3 std)."""
    lim = _extent(mixture)
    for c in mixture.centers:
        ax.add_patch(plt.Circle(c, 3 * mixture.std, color="0.6", alpha=0.6, lw=0))
    x = np.asarray(x_Nx2)
    x = x[np.isfinite(x).all(1)]
    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.35, color="tab:blue", lw=0)
    ax.scatter(*mixture.centers.T, s=12, marker="+", color="tab:red", lw=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


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


def draw_images(ax, images: np.ndarray, title: str = "", max_images: int = 64) -> None:
    grid = image_grid(images[:max_images])
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def save_panels(
    path: str | Path,
    samples: list[np.ndarray],
    titles: list[str],
    mixture: Mixture2D | None,
    cols: int | None = None,
    suptitle: str = "",
) -> None:
    """One panel per sample set (a seed, or a loss x seed), written atomically."""
    n = len(samples)
    cols = cols or min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, x, t in zip(axes.flat, samples, titles, strict=False):
        if mixture is not None:
            draw_mixture(ax, x, mixture, t)
        else:
            draw_images(ax, x, t)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    tmp.replace(path)

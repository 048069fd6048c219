"""The report's figures: training losses, quality over steps, final samples, the claims'
probes and verdicts, and the tuning curves. Each takes what it draws and a path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gancli import estimates, plots
from gancli.quality.evaluator import REJECT
from gancli.report.claims import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED
from gancli.report.runs import budgets, grid


def plot_training(runs: dict, path: Path) -> None:
    """One column per loss, d_loss over g_loss; in each panel one colour per seed, the
    default generator solid and the weak one dashed, on one y axis. gan and nsgan train D
    with the same loss, so their d_loss panels share the y axis too."""
    import matplotlib.pyplot as plt

    losses = list(dict.fromkeys(r["loss"] for r in runs.values()))
    fig, axes = plt.subplots(
        2, len(losses), figsize=(3.8 * len(losses), 5.6), squeeze=False, sharex=True
    )
    bce = [i for i, loss in enumerate(losses) if loss in ("gan", "nsgan")]
    for i in bce[1:]:
        axes[0, i].sharey(axes[0, bce[0]])
    for col, loss in zip(axes.T, losses, strict=True):
        for ax, key in zip(col, ("d_loss", "g_loss"), strict=True):
            for run in (r for r in runs.values() if r["loss"] == loss):
                steps = sorted({r["step"] for r in run["metrics"]})
                for i, y in enumerate(grid(run, key, steps, "metrics")):
                    ax.plot(steps, y, lw=0.8, color=f"C{i}", ls="--" if run["weak"] else "-")
            ax.set_title(f"{loss}: {key}", fontsize=9)
            ax.tick_params(labelsize=7)
        col[-1].set_xlabel("generator step", fontsize=8)
    seeds = next(iter(runs.values()))["summary"]["seeds"]
    handles = [plt.Line2D([], [], color=f"C{i}", label=f"seed {s['seed']}")
               for i, s in enumerate(seeds)]  # fmt: skip
    if any(r["weak"] for r in runs.values()):
        handles += [plt.Line2D([], [], color="0.3", label="default G"),
                    plt.Line2D([], [], color="0.3", ls="--", label="weak G")]  # fmt: skip
    axes[0, 0].legend(handles=handles, fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


# What a quality metric is, as a plot says it: (y-axis label, title).
METRIC_WORDS = {
    "w1": ("W1 to the data", "Wasserstein-1 distance to the data (lower is better)"),
    "fd": ("Fréchet distance", "Fréchet distance to the data, in features (lower is better)"),
    "fd_pixels": ("FD of pixels", "Fréchet distance to the data, in pixels (lower is better)"),
    "modes": ("modes covered", "modes covered, >= 20 high-quality samples each (higher is better)"),
    "classes": ("classes covered", "classes covered with confidence (higher is better)"),
}  # fmt: skip


def plot_quality(runs: dict, distance: str, coverage: str | None, path: Path) -> None:
    """Per run and metric: thin lines per seed, the mean and its 95% t-interval band; one
    colour per loss, the weak generator's runs dashed."""
    import matplotlib.pyplot as plt

    keys = [distance] + ([coverage] if coverage else [])
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 3.9), squeeze=False)
    steps = sorted({r["step"] for run in runs.values() for r in run["eval"]})
    losses = list(dict.fromkeys(r["loss"] for r in runs.values()))
    for ax, key in zip(axes[0], keys, strict=True):
        for name, run in runs.items():
            color, ls = f"C{losses.index(run['loss'])}", "--" if run["weak"] else "-"
            values = grid(run, key, steps)
            for row in values:
                ax.plot(steps, row, lw=0.4, alpha=0.35, color=color, ls=ls)
            est = [estimates.mean_ci(col) for col in values.T]
            ax.plot(steps, [e.mean for e in est], lw=1.6, color=color, ls=ls, label=name)
            ax.fill_between(
                steps, [e.lo for e in est], [e.hi for e in est], color=color, alpha=0.15, lw=0
            )
        label, title = METRIC_WORDS.get(key, (key, key))
        ax.set_title(f"{title}\nthick: mean over seeds; band: its 95% t interval; thin: each seed",
                     fontsize=8)  # fmt: skip
        ax.set_xlabel("generator step", fontsize=8)
        ax.set_ylabel(f"{label} ({key})" if label != key else key, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_samples(runs: dict, mixture, path: Path) -> None:
    """Final samples: one row per run, one panel per seed, each captioned with its step."""
    sets, titles = [], []
    cols = max(len(r["samples"]) for r in runs.values())
    for name, run in runs.items():
        step = run["summary"]["step"]
        for i, s in enumerate(run["summary"]["seeds"]):
            sets.append(run["samples"][i][:1000] if mixture is not None else run["samples"][i])
            titles.append(f"{name}, step {step}\nseed {s['seed']}")
        sets += [None] * (cols - len(run["samples"]))
        titles += [""] * (cols - len(run["samples"]))
    plots.save_panels(path, sets, titles, mixture, cols=cols)


def plot_probe(escape: dict, path: Path) -> None:
    """Per start: both generator gradient norms against D(G(z)) as D alone trains."""
    import matplotlib.pyplot as plt

    starts = escape["starts"]
    fig, axes = plt.subplots(1, len(starts), figsize=(4.6 * len(starts), 3.6), squeeze=False,
                             sharey=True)  # fmt: skip
    for ax, (name, start) in zip(axes[0], starts.items(), strict=True):
        probe = start["probe"]
        d_fake = np.asarray(probe["d_fake"]).ravel()
        for key, label in (("grad_minimax", "minimax (gan)"),
                           ("grad_nonsaturating", "non-saturating (nsgan)")):  # fmt: skip
            ax.scatter(d_fake, np.asarray(probe[key]).ravel(), s=8, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axvline(REJECT, color="0.5", lw=0.8, ls="--")
        ax.set_xlabel("batch-mean D(G(z)) as D alone trains", fontsize=8)
        ax.set_title(f"G at {'initialisation' if name == 'init' else 'mid-run'}", fontsize=9)
    axes[0, 0].set_ylabel("||grad_G L_G||", fontsize=8)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_tracking(runs: dict, distance: str, path: Path) -> None:
    """Per run, each seed's path through (-L_D, distance) over the budgets; shared distance
    axis."""
    import matplotlib.pyplot as plt

    names = [n for n, r in runs.items() if not r["weak"]]
    fig, axes = plt.subplots(
        1, len(names), figsize=(4 * len(names), 3.2), squeeze=False, sharey=True
    )
    steps = budgets(runs)
    for ax, name in zip(axes[0], names, strict=True):
        est = -grid(runs[name], "d_loss", steps, "metrics")
        q = grid(runs[name], distance, steps)
        seeds = [s["seed"] for s in runs[name]["summary"]["seeds"]]
        for i, (seed, e_row, q_row) in enumerate(zip(seeds, est, q, strict=True)):
            ax.plot(e_row, q_row, marker=".", lw=0.5, ms=4, color=f"C{i}", label=f"seed {seed}")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("-L_D (divergence estimate)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel(distance, fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_escape(escape: dict, path: Path) -> None:
    """Rows: starts; columns: each arm's displacement of G and distance to the data; one
    colour per generator loss (mean, 95% CI band, thin line per seed)."""
    import matplotlib.pyplot as plt

    starts, arms, steps = escape["starts"], escape["arms"], escape["steps"]
    panels = [(arm, q) for arm in arms for q in ("displacement", "distance")]
    fig, axes = plt.subplots(len(starts), len(panels), figsize=(3.3 * len(panels),
                             2.9 * len(starts)), squeeze=False)  # fmt: skip
    for r, (name, start) in enumerate(starts.items()):
        for c, (arm, q) in enumerate(panels):
            ax = axes[r, c]
            for i, (loss, label) in enumerate((("gan", "minimax"), ("nsgan", "non-saturating"))):
                v = np.asarray(start["arms"][arm][loss][q], float)
                for row in v:
                    ax.plot(steps, row, lw=0.4, alpha=0.35, color=f"C{i}")
                est = [estimates.mean_ci(col) for col in v.T]
                ax.plot(steps, [e.mean for e in est], lw=1.6, color=f"C{i}", label=label)
                ax.fill_between(steps, [e.lo for e in est], [e.hi for e in est],
                                color=f"C{i}", alpha=0.15, lw=0)  # fmt: skip
            if q == "displacement":
                ax.set_yscale("symlog", linthresh=1e-3)
            what = "||theta_G - theta_G(0)||" if q == "displacement" else escape["metric"]
            ax.set_ylabel(what, fontsize=8)
            where = "G at init" if name == "init" else "G mid-run"
            lr = f" {escape['sgd_lr']:g}" if arm == "sgd" else ""
            ax.set_title(f"{where}, {arm.upper()}{lr}", fontsize=9)
            ax.tick_params(labelsize=7)
            if r == len(starts) - 1:
                ax.set_xlabel("generator steps after D rejects G", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("claim 1: from a rejecting D, how far each G moves and where it goes",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_verdicts(claim_list: list[dict], path: Path) -> None:
    """One row per claim, one marker per budget, coloured by verdict."""
    import matplotlib.pyplot as plt

    colors = {SUPPORTED: "tab:green", NOT_SUPPORTED: "tab:red", INCONCLUSIVE: "tab:orange"}
    fig, axes = plt.subplots(
        len(claim_list), 1, figsize=(7, 0.9 * len(claim_list) + 0.8), squeeze=False
    )
    for i, (ax, c) in enumerate(zip(axes[:, 0], claim_list, strict=True), 1):
        for b in c["by_budget"]:
            primary = b["budget"] == c.get("primary_budget")
            ring = dict(s=150, edgecolors="black", linewidths=1.5) if primary else dict(s=40)
            ax.scatter([b["budget"]], [0], color=colors[b["verdict"]], zorder=3, **ring)
        ax.set_yticks([])
        ax.set_ylabel(f"claim {i}", rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("budget (generator steps; claim 1: steps after D rejects); the "
                           "ringed marker is the primary budget, the others descriptive",
                           fontsize=8)  # fmt: skip
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in colors.items()]
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    plots.save_figure(fig, path)


def plot_coverage(hist: dict, coverage: str, num_modes: int, anchors: list, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ks = np.arange(num_modes + 1)
    for i, (name, shares) in enumerate(hist.items()):
        ax.step(ks, shares, where="post", label=name, color=f"C{i}")
    for label, value, _, _ in anchors:
        ax.axvline(value, color="0.4", ls=":", lw=1)
        ax.text(value, 1.02, label.split(",")[0], fontsize=6, rotation=90, va="bottom")
    ax.set_xlabel(f"{coverage} covered (k)", fontsize=8)
    ax.set_ylabel(f"share of seeds with at most k {coverage}", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_budget_curves(result: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for i, (loss, r) in enumerate(result["losses"].items()):
        curve = r["budget_curve"]
        ax.plot(range(1, len(curve) + 1), curve, marker="o", ms=3, color=f"C{i}", label=loss)
    ax.set_yscale("log")  # one exploded point can be 1000x the others at k = 1
    ax.set_xlabel("hyper-parameter points tried (k)", fontsize=8)
    ax.set_ylabel(f"expected best {result['metric']} (tuning seeds)", fontsize=8)
    ax.set_title("budget curve (Lucic et al. 2018): lower is better", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_sensitivity(result: dict, path: Path) -> None:
    """Quality against each hyper-parameter, one panel per field, one colour per loss."""
    import matplotlib.pyplot as plt

    fields = sorted({f for r in result["losses"].values() for p in r["points"] for f in p})
    fig, axes = plt.subplots(
        1, len(fields), figsize=(3.2 * len(fields), 3.2), squeeze=False, sharey=True
    )
    for ax, field in zip(axes[0], fields, strict=True):
        for i, (loss, r) in enumerate(result["losses"].items()):
            xs = [p[field] for p in r["points"] if field in p]
            ys = [s for p, s in zip(r["points"], r["scores"], strict=True) if field in p]
            if xs:
                ax.scatter(xs, ys, s=14, color=f"C{i}", label=loss)
        if field.startswith("lr") or field == "clip":
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(field, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel(result["metric"], fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


def plot_reproduce_trend(report: dict, path: Path) -> None:
    """`gancli reproduce`: the paper's three figures against epoch (mean over seeds, 95% t
    band), one colour per variant, beside the paper's row after its full budget (dashed,
    ± its standard error), so a reader sees how far a short run is from it and where it
    is heading."""
    import matplotlib.pyplot as plt

    labels = {"modes": "modes (>= 1 HQ sample)", "hq_pct": "HQ %", "reverse_kl": "reverse KL"}
    anchor = report.get("anchor", {})
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, (variant, t) in enumerate(report["trend"].items()):
        x = t["epochs"] or t["steps"]
        for ax, m in zip(axes, labels, strict=True):
            st = t["stats"][m]
            mean = [np.nan if s["mean"] is None else s["mean"] for s in st]
            lo = [np.nan if s["ci_low"] is None else s["ci_low"] for s in st]
            hi = [np.nan if s["ci_high"] is None else s["ci_high"] for s in st]
            ax.plot(x, mean, color=f"C{i}", lw=1.4, label=f"{variant} ({st[-1]['n']} seeds)")
            ax.fill_between(x, lo, hi, color=f"C{i}", alpha=0.2, lw=0)
    full = report.get("paper", {}).get("name", "paper")
    for ax, m in zip(axes, labels, strict=True):
        if anchor.get(m) is not None:
            v, pm = anchor[m], anchor.get(f"{m}_pm") or 0.0
            ax.axhline(v, color="black", ls="--", lw=1, label="paper, full budget (± s.e.)")
            if pm:
                ax.axhspan(v - pm, v + pm, color="black", alpha=0.08, lw=0)
        ax.set_title(labels[m], fontsize=9)
        first = next(iter(report["trend"].values()))
        ax.set_xlabel("epoch" if first["epochs"] else "generator step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{full}: our runs at every evaluation against the paper's row", fontsize=9)
    fig.tight_layout()
    plots.save_figure(fig, path)
    plt.close(fig)

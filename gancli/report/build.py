"""The compare-losses report: tables with confidence intervals, plots, and the claims'
verdicts at every budget (`gancli.report.claims`).

Nothing is asserted in advance: every verdict is computed from this run's logs with the
rule and the test printed beside it, and a claim the run does not support is reported as
such.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from pathlib import Path

import numpy as np

from gancli import data as data_lib
from gancli import plots, stats
from gancli.report import claims
from gancli.report.claims import INCONCLUSIVE, NOT_SUPPORTED, REJECT, SUPPORTED
from gancli.rundir import RunDir, read_jsonl

# The settings a reader needs to judge a comparison, read from each run's config.toml.
SETTINGS = (
    "optimizer",
    "lr_g",
    "lr_d",
    "beta1",
    "beta2",
    "clip",
    "n_critic",
    "batch_size",
    "generator_variant",
)


# ---- reading runs -------------------------------------------------------------------------


def load_runs(comparison, out: Path) -> dict[str, dict]:
    runs = {}
    for name, loss, weak in comparison.run_names():
        rd = RunDir(out / name)
        runs[name] = {
            "name": name,
            "loss": loss,
            "weak": weak,
            "dir": rd.path,
            "cfg": rd.saved_config(),
            "summary": json.loads(rd.summary.read_text()),
            "metrics": read_jsonl(rd.metrics),
            "eval": read_jsonl(rd.eval_log),
            "samples": np.load(rd.samples / "final.npy"),
        }
    return runs


def metric_names(runs: dict) -> list[str]:
    first = next(iter(runs.values()))["summary"]["seeds"][0]
    return [k for k in first if k not in ("seed", "diverged_at")]


def series(rows: list[dict], seed: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], r[key]) for r in rows if r["seed"] == seed and r.get(key) is not None]
    if not pts:
        return np.zeros(0), np.zeros(0)
    s, v = zip(*pts, strict=True)
    return np.asarray(s), np.asarray(v, float)


# ---- plots --------------------------------------------------------------------------------


def _plot_training(runs: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    names = [n for n, r in runs.items() if not r["weak"]]
    fig, axes = plt.subplots(len(names), 2, figsize=(10, 2.6 * len(names)), squeeze=False)
    for row, name in zip(axes, names, strict=True):
        run = runs[name]
        for ax, key in zip(row, ("d_loss", "g_loss"), strict=True):
            for s in run["summary"]["seeds"]:
                x, y = series(run["metrics"], s["seed"], key)
                ax.plot(x, y, lw=0.8)
            ax.set_title(f"{name}: {key}", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


def _plot_quality(runs: dict, distance: str, coverage: str | None, path: Path) -> None:
    """Per run and metric: thin lines per seed, the mean and its 95% bootstrap band."""
    import matplotlib.pyplot as plt

    keys = [distance] + ([coverage] if coverage else [])
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 3.6), squeeze=False)
    steps = sorted({r["step"] for run in runs.values() for r in run["eval"]})
    for ax, key in zip(axes[0], keys, strict=True):
        for i, (name, run) in enumerate(runs.items()):
            color = f"C{i}"
            values = claims.grid(run, key, steps)
            for row in values:
                ax.plot(steps, row, lw=0.4, alpha=0.35, color=color)
            est = [stats.mean_ci(col) for col in values.T]
            ax.plot(steps, [e.mean for e in est], lw=1.6, color=color, label=name)
            ax.fill_between(
                steps, [e.lo for e in est], [e.hi for e in est], color=color, alpha=0.15, lw=0
            )
        ax.set_title(f"{key}: mean, 95% bootstrap CI, seeds (thin)", fontsize=9)
        ax.set_xlabel("generator step", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


def _plot_samples(runs: dict, mixture, path: Path) -> None:
    sets, titles = [], []
    cols = max(len(r["samples"]) for r in runs.values())
    for name, run in runs.items():
        for i, s in enumerate(run["summary"]["seeds"]):
            sets.append(run["samples"][i][:1000] if mixture is not None else run["samples"][i])
            titles.append(f"{name} seed {s['seed']}")
        for _ in range(cols - len(run["samples"])):
            sets.append(np.full_like(run["samples"][0], np.nan))
            titles.append("")
    plots.save_panels(path, sets, titles, mixture, cols=cols)


def _plot_probe(probe: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    d_fake = np.asarray(probe["d_fake"]).ravel()
    mm = np.asarray(probe["grad_minimax"]).ravel()
    ns = np.asarray(probe["grad_nonsaturating"]).ravel()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.scatter(d_fake, mm, s=8, label="minimax (gan)")
    ax.scatter(d_fake, ns, s=8, label="non-saturating (nsgan)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axvline(REJECT, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("mean D(G(z)) as D alone trains")
    ax.set_ylabel("||grad_G L_G||")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


def _plot_tracking(runs: dict, distance: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    names = [n for n, r in runs.items() if not r["weak"]]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    steps = claims.budgets(runs)
    for ax, name in zip(axes[0], names, strict=True):
        est = -claims.grid(runs[name], "d_loss", steps, "metrics")
        q = claims.grid(runs[name], distance, steps)
        for e_row, q_row in zip(est, q, strict=True):
            ax.plot(e_row, q_row, marker=".", lw=0.5, ms=4)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("-L_D (divergence estimate)", fontsize=8)
        ax.set_ylabel(distance, fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


def _plot_escape(escape: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    steps = escape["steps"]
    for i, (loss, label) in enumerate((("gan", "minimax"), ("nsgan", "non-saturating"))):
        d = np.asarray(escape[loss]["distance"])
        for row in d:
            ax.plot(steps, row, lw=0.4, alpha=0.35, color=f"C{i}")
        est = [stats.mean_ci(col) for col in d.T]
        ax.plot(steps, [e.mean for e in est], lw=1.6, color=f"C{i}", label=label)
        ax.fill_between(
            steps, [e.lo for e in est], [e.hi for e in est], color=f"C{i}", alpha=0.15, lw=0
        )
    ax.set_xlabel("generator steps after D learned to reject G", fontsize=8)
    ax.set_ylabel(escape["metric"], fontsize=8)
    ax.set_title("claim 1: from the same state, how far each G gets", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


def _plot_verdicts(claim_list: list[dict], path: Path) -> None:
    """One row per claim, one marker per budget, coloured by verdict."""
    import matplotlib.pyplot as plt

    colors = {SUPPORTED: "tab:green", NOT_SUPPORTED: "tab:red", INCONCLUSIVE: "tab:orange"}
    fig, axes = plt.subplots(
        len(claim_list), 1, figsize=(7, 0.9 * len(claim_list) + 0.8), squeeze=False
    )
    for i, (ax, c) in enumerate(zip(axes[:, 0], claim_list, strict=True), 1):
        for b in c["by_budget"]:
            ax.scatter([b["budget"]], [0], color=colors[b["verdict"]], s=60)
        ax.set_yticks([])
        ax.set_ylabel(f"claim {i}", rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("budget (generator steps; claim 1: steps after D rejects)", fontsize=8)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in colors.items()]
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    plots.save_figure(fig, path)


def _plot_coverage(hist: dict, coverage: str, num_modes: int, anchors: list, path: Path) -> None:
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


# ---- writing ------------------------------------------------------------------------------


def summary_rows(runs: dict, names: list[str]) -> list[dict]:
    rows = []
    for name, run in runs.items():
        for s in run["summary"]["seeds"]:
            rows.append(
                {
                    "run": name,
                    "loss": run["loss"],
                    "weak_generator": run["weak"],
                    "seed": s["seed"],
                    **{k: s.get(k) for k in names},
                    "diverged": s["diverged_at"] is not None,
                    "wall_time_s": run["summary"]["wall_time_s"],
                }
            )
    return rows


def _probes(comparison, data, out: Path) -> tuple[dict | None, dict | None]:
    """The gradient and escape probes (claim 1), cached in the report directory."""
    from gancli.report.probe import escape_probe

    if not {"gan", "nsgan"} <= set(comparison.losses):
        return None, None
    cfg = comparison.config_for("gan", False)
    path = out / "escape_probe.json"
    steps = comparison.escape_steps
    key = {"config": cfg.to_dict(), "escape_steps": steps}
    if path.exists():
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["probe"], cached
    escape = escape_probe(cfg, data, g_steps=steps, every=max(1, steps // 6))
    escape["key"] = key
    path.write_text(json.dumps(escape, default=_num))
    return escape["probe"], escape


def write_report(comparison, out: Path, status: dict) -> dict:
    runs = load_runs(comparison, out)
    names = metric_names(runs)
    distance, coverage = claims.distance_metric(names), claims.coverage_metric(names)
    data = data_lib.load(comparison.base.dataset, comparison.base.image_size)
    num_modes = data.mixture.num_modes if data.mixture is not None else data.num_classes
    anchors = claims.ANCHORS.get(comparison.base.dataset, []) if coverage == "modes" else []

    probe, escape = _probes(comparison, data, out)
    claim_list = [
        claims.claim_gradient(probe, escape, runs),
        claims.claim_collapse(runs, coverage, num_modes),
        claims.claim_tracking(runs, distance),
        claims.claim_robustness(runs, distance, comparison.weak_variant),
    ]

    plot_dir = out / "plots"
    figures = {
        "verdict at each budget": plot_dir / "verdicts.png",
        "quality against step (mean, 95% CI, seeds)": plot_dir / "quality.png",
        "training losses (one line per seed)": plot_dir / "losses.png",
        "final samples (one panel per loss x seed)": plot_dir / "samples.png",
        "claim 3: divergence estimate against distance": plot_dir / "tracking.png",
    }
    _plot_verdicts(claim_list, figures["verdict at each budget"])
    _plot_quality(runs, distance, coverage, figures["quality against step (mean, 95% CI, seeds)"])
    _plot_training(runs, figures["training losses (one line per seed)"])
    _plot_samples(runs, data.mixture, figures["final samples (one panel per loss x seed)"])
    _plot_tracking(runs, distance, figures["claim 3: divergence estimate against distance"])
    if probe is not None:
        figures["claim 1: generator gradient as D gets better"] = plot_dir / "gradient_probe.png"
        _plot_probe(probe, figures["claim 1: generator gradient as D gets better"])
        figures["claim 1: how far each G gets from a rejecting D"] = plot_dir / "escape.png"
        _plot_escape(escape, figures["claim 1: how far each G gets from a rejecting D"])
    hist = claim_list[1]["figures"].get("coverage_histogram")
    if hist:
        figures[f"claim 2: share of seeds with at most k {coverage}"] = plot_dir / "coverage.png"
        _plot_coverage(
            hist,
            coverage,
            num_modes,
            anchors,
            figures[f"claim 2: share of seeds with at most k {coverage}"],
        )

    rows = summary_rows(runs, names)
    with (out / "summary.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    table = {
        name: {
            "loss": run["loss"],
            "weak_generator": run["weak"],
            "settings": {k: getattr(run["cfg"], k) for k in SETTINGS},
            "mean": run["summary"]["mean"],
            "ci95": {
                m: stats.mean_ci([s.get(m) for s in run["summary"]["seeds"]]).to_dict()
                for m in names
            },
            "seeds": run["summary"]["seeds"],
            "diverged": run["summary"]["diverged"],
            "wall_time_s": run["summary"]["wall_time_s"],
            "status": status.get(name, ""),
        }
        for name, run in runs.items()
    }
    result = {
        "dataset": comparison.base.dataset,
        "seeds": comparison.base.seed_list,
        "steps": comparison.base.steps,
        "metrics": names,
        "statistics": "mean over seeds with a 95% percentile bootstrap CI "
        f"({stats.RESAMPLES} resamples); tests: one-sided Mann-Whitney U (independent runs), "
        f"Wilcoxon signed-rank (paired), alpha {stats.ALPHA}",
        "anchors": [
            {"source": a, "modes_any": m, "pm": pm, "hq_percent": hq} for a, m, pm, hq in anchors
        ],
        "runs": table,
        "claims": claim_list,
        "figures": {k: str(v.relative_to(out)) for k, v in figures.items()},
    }
    (out / "summary.json").write_text(json.dumps(result, indent=2, default=_num) + "\n")
    md = render_markdown(result, comparison)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(render_html(result, comparison, out))
    return result


def _num(o):
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def fmt_ci(d: dict) -> str:
    if d is None or d.get("mean") is None:
        return "-"
    if d.get("ci_lo") is None:
        return f"{d['mean']:.3g}"
    return f"{d['mean']:.3g} [{d['ci_lo']:.3g}, {d['ci_hi']:.3g}]"


def table_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """Final-evaluation table: mean [95% CI] per metric and run."""
    header = ["run", *result["metrics"], "diverged", "wall s"]
    rows = []
    for name, r in result["runs"].items():
        cells = [fmt_ci(r["ci95"].get(m)) for m in result["metrics"]]
        rows.append([name, *cells, f"{r['diverged']}/{len(r['seeds'])}", _fmt(r["wall_time_s"])])
    return header, rows


def settings_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", *SETTINGS]
    return header, [
        [n, *(_fmt(r["settings"][k]) for k in SETTINGS)] for n, r in result["runs"].items()
    ]


def per_seed_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", *result["metrics"]]
    rows = []
    for name, r in result["runs"].items():
        cells = [", ".join(_fmt(s.get(m)) for s in r["seeds"]) for m in result["metrics"]]
        rows.append([name, *cells])
    return header, rows


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(r) + " |" for r in rows],
    ]


def render_markdown(result: dict, comparison) -> str:
    lines = [
        f"# Loss comparison on {result['dataset']}",
        "",
        f"{len(result['seeds'])} seeds ({result['seeds'][0]}..{result['seeds'][-1]}), "
        f"{result['steps']} generator steps per run. Statistics: {result['statistics']}. "
        "Rerun: `gancli compare-losses --config comparison.toml --out <this directory>`.",
        "",
        "## Settings used (from each run's config.toml)",
        "",
        *_md_table(*settings_rows(result)),
        "",
        "## Final evaluation: mean [95% CI] over seeds",
        "",
        *_md_table(*table_rows(result)),
        "",
        "Per-seed values:",
        "",
        *_md_table(*per_seed_rows(result)),
        "",
    ]
    if result["anchors"]:
        lines += [
            "Published GAN rows on this dataset (modes with at least one high-quality sample = "
            "our `modes_any`; other architectures and budgets, so context only):",
            "",
        ]
        lines += [
            f"- {a['source']}: {a['modes_any']}"
            + (f" ± {a['pm']}" if a["pm"] else "")
            + f" modes, {a['hq_percent']}% HQ"
            for a in result["anchors"]
        ]
        lines.append("")
    lines += ["## Claims", ""]
    for i, c in enumerate(result["claims"], 1):
        lines += [
            f"### {i}. {c['claim']}",
            "",
            f"**{c['headline']}.**",
            "",
            f"At the largest budget: {c['why']}.",
            "",
            "| budget | verdict |",
            "|---|---|",
            *[f"| {b['budget']} | {b['verdict']} |" for b in c["by_budget"]],
            "",
            f"How: {c['how']}",
            "",
        ]
        figs = {k: v for k, v in c["figures"].items() if k != "coverage_histogram"}
        if figs:
            lines += ["Figures: " + ", ".join(f"`{k}` = {_fmt(v)}" for k, v in figs.items()), ""]
    lines += ["## Plots", ""]
    lines += [f"![{k}]({v})" for k, v in result["figures"].items()]
    return "\n".join(lines) + "\n"


def render_html(result: dict, comparison, out: Path) -> str:
    esc = html.escape

    def table(header, rows):
        return (
            "<table><tr>"
            + "".join(f"<th>{esc(h)}</th>" for h in header)
            + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
            + "</table>"
        )

    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>gancli: loss comparison on {esc(result['dataset'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "img{max-width:100%}.supported{color:#070}.not{color:#a00}.inconclusive{color:#a60}"
        "</style>",
        f"<h1>Loss comparison on {esc(result['dataset'])}</h1>",
        f"<p>{len(result['seeds'])} seeds, {result['steps']} generator steps per run. "
        f"{esc(result['statistics'])}.</p>",
        "<h2>Settings used</h2>",
        table(*settings_rows(result)),
        "<h2>Final evaluation: mean [95% CI] over seeds</h2>",
        table(*table_rows(result)),
        "<p>Per-seed values:</p>",
        table(*per_seed_rows(result)),
        "<h2>Claims</h2>",
    ]
    for i, c in enumerate(result["claims"], 1):
        cls = {SUPPORTED: "supported", NOT_SUPPORTED: "not"}.get(c["verdict"], "inconclusive")
        parts += [
            f"<h3>{i}. {esc(c['claim'])}</h3>",
            f"<p><b class='{cls}'>{esc(c['headline'])}</b>.</p>",
            f"<p>At the largest budget: {esc(c['why'])}.</p>",
            f"<p><small>How: {esc(c['how'])}</small></p>",
        ]
    parts.append("<h2>Plots</h2>")
    for title, rel in result["figures"].items():
        b64 = base64.b64encode((out / rel).read_bytes()).decode()
        parts.append(f"<h3>{esc(title)}</h3><img src='data:image/png;base64,{b64}'>")
    return "\n".join(parts) + "\n"


# ---- tuning (compare-losses --tune) ---------------------------------------------------------


def _plot_budget_curves(result: dict, path: Path) -> None:
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


def _plot_sensitivity(result: dict, path: Path) -> None:
    """Quality against each hyper-parameter, one panel per field, one colour per loss."""
    import matplotlib.pyplot as plt

    fields = sorted({f for r in result["losses"].values() for p in r["points"] for f in p})
    fig, axes = plt.subplots(1, len(fields), figsize=(3.2 * len(fields), 3.2), squeeze=False)
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
        ax.set_ylabel(result["metric"], fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    plots.save_figure(fig, path)


def write_tuning(result: dict, out: Path) -> None:
    """tune.json, tune.md and the budget-curve and sensitivity plots."""
    (out / "plots").mkdir(parents=True, exist_ok=True)
    _plot_budget_curves(result, out / "plots" / "budget_curve.png")
    _plot_sensitivity(result, out / "plots" / "sensitivity.png")
    (out / "tune.json").write_text(json.dumps(result, indent=2, default=_num) + "\n")
    metric = result["metric"]
    lines = [
        "# Every loss at its best",
        "",
        f"Each loss drew {result['k']} points from its own search space and trained them on "
        f"{result['tune_seeds']} tuning seeds ({result['seed_base']}, ...) for the comparison's "
        f"steps; its best point (lowest mean final {metric} over the tuning seeds) was retrained "
        "on the comparison's own seeds, which tuning never saw: the held-out figures below "
        "carry no selection bias. Full held-out report with the claims: `tuned/report.md`.",
        "",
        "Search spaces: "
        + "; ".join(
            f"{loss}: " + ", ".join(f"{f} {s[0]} {list(s[1:])}" for f, s in sp.items())
            for loss, sp in result["spaces"].items()
            if loss in result["losses"]
        ),
        "",
        f"| loss | chosen point | tuning {metric} (best / median of {result['k']}) "
        f"| held-out {metric}, mean [95% CI] |",
        "|---|---|---|---|",
    ]
    for loss, r in result["losses"].items():
        finite = [s for s in r["scores"] if s is not None and math.isfinite(s)]
        point = ", ".join(f"{k} {v:.3g}" for k, v in r["best_point"].items())
        held = result["held_out"].get(loss, {}).get("ci95", {}).get(metric)
        lines.append(
            f"| {loss} | {point} | {min(finite):.3g} / {np.median(finite):.3g} | {fmt_ci(held)} |"
        )
    lines += ["", "Claims on the tuned, held-out runs:", ""]
    lines += [f"{i}. {c['claim']} **{c['headline']}**." for i, c in
              enumerate(result["claims_held_out"], 1)]  # fmt: skip
    lines += ["", "![budget curve](plots/budget_curve.png)", "",
              "![sensitivity](plots/sensitivity.png)", ""]  # fmt: skip
    (out / "tune.md").write_text("\n".join(lines))

"""The compare-losses report: tables, plots, and a measured verdict on each claim.

Nothing is asserted in advance: every verdict is computed from this run's logs with the
rule printed beside it, and a claim the run does not support is reported as such.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from gancli import data as data_lib
from gancli import plots
from gancli.metrics import mean_std
from gancli.rundir import read_jsonl

REJECT = 0.1  # D(G(z)) below this: D rejects G's samples confidently
GRAD_RATIO = 2.0  # nsgan/gan gradient ratio that counts as "vanishes"
TRACK_RHO = 0.5  # Spearman rho that counts as "tracks"
TRACK_MARGIN = 0.3  # and by how much WGAN must beat the others
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"


# ---- reading runs -------------------------------------------------------------------------


def load_runs(comparison, out: Path) -> dict[str, dict]:
    runs = {}
    for name, loss, weak in comparison.run_names():
        d = out / name
        summary = json.loads((d / "summary.json").read_text())
        runs[name] = {
            "name": name,
            "loss": loss,
            "weak": weak,
            "dir": d,
            "summary": summary,
            "metrics": read_jsonl(d / "metrics.jsonl"),
            "eval": read_jsonl(d / "eval.jsonl"),
            "samples": np.load(d / "samples" / "final.npy"),
        }
    return runs


def metric_names(runs: dict) -> list[str]:
    first = next(iter(runs.values()))["summary"]["seeds"][0]
    return [k for k in first if k not in ("seed", "diverged_at")]


def distance_metric(names: list[str]) -> str:
    """The lower-is-better distance to the data: W1 (2-D) or the Fréchet distance (images)."""
    return next(m for m in ("w1", "fd", "fd_pixels") if m in names)


def coverage_metric(names: list[str]) -> str | None:
    return next((m for m in ("modes", "classes") if m in names), None)


def series(rows: list[dict], seed: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], r[key]) for r in rows if r["seed"] == seed and r.get(key) is not None]
    if not pts:
        return np.zeros(0), np.zeros(0)
    s, v = zip(*pts, strict=True)
    return np.asarray(s), np.asarray(v, float)


# ---- the claims ---------------------------------------------------------------------------


def _median(values) -> float:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(np.median(v)) if v else float("nan")


def claim_gradient(runs: dict, probe: dict | None) -> dict:
    """1. The minimax G gradient vanishes when D rejects confidently; NS's does not."""
    figures: dict = {}
    verdict, why = INCONCLUSIVE, "needs both gan and nsgan"
    if probe is not None:
        d_fake = np.asarray(probe["d_fake"])
        mm, ns = np.asarray(probe["grad_minimax"]), np.asarray(probe["grad_nonsaturating"])
        rejected = d_fake < REJECT
        figures["probe_points_rejected"] = int(rejected.sum())
        figures["probe_points"] = int(rejected.size)
        if rejected.any():
            ratio = ns[rejected] / np.maximum(mm[rejected], 1e-30)
            figures["probe_median_ratio_ns_over_mm"] = float(np.median(ratio))
            figures["probe_median_grad_minimax"] = float(np.median(mm[rejected]))
            figures["probe_median_grad_nonsaturating"] = float(np.median(ns[rejected]))
            figures["probe_median_d_fake"] = float(np.median(d_fake[rejected]))
            ok = figures["probe_median_ratio_ns_over_mm"] >= GRAD_RATIO
            verdict = SUPPORTED if ok else NOT_SUPPORTED
            why = (
                f"with G fixed and D trained until D(G(z)) < {REJECT} "
                f"({figures['probe_points_rejected']} of {figures['probe_points']} probe points), "
                f"the non-saturating gradient is {figures['probe_median_ratio_ns_over_mm']:.3g}x "
                f"the minimax one (median; '{SUPPORTED}' needs >= {GRAD_RATIO}x)"
            )
        else:
            why = f"D never reached D(G(z)) < {REJECT} in the probe"
    # the same question asked of the training logs
    for loss in ("gan", "nsgan"):
        run = runs.get(loss)
        if run is None:
            continue
        rows = [r for r in run["metrics"] if r.get("g_grad_norm") is not None]
        steps = sorted({r["step"] for r in rows})
        early = set(steps[: max(1, len(steps) // 10)])
        figures[f"{loss}_early_grad_norm"] = _median(
            [r["g_grad_norm"] for r in rows if r["step"] in early]
        )
        rej = [r["g_grad_norm"] for r in rows if r["d_fake"] < REJECT]
        figures[f"{loss}_rejected_rows"] = len(rej)
        figures[f"{loss}_rejected_grad_norm"] = _median(rej)
    if "gan_early_grad_norm" in figures and "nsgan_early_grad_norm" in figures:
        figures["training_early_ratio_ns_over_gan"] = (
            figures["nsgan_early_grad_norm"] / figures["gan_early_grad_norm"]
        )
    return {
        "claim": "The minimax generator's gradient vanishes when D rejects its samples "
        "confidently; the non-saturating loss's does not.",
        "verdict": verdict,
        "why": why,
        "how": "Probe: every seed's initial G is frozen and D alone is trained (Adam 1e-3); "
        "every 10 D steps both generator losses' gradient norms are taken at the same G and "
        f"D. Points with mean D(G(z)) < {REJECT} count. Training logs: median generator "
        "gradient norm of the gan and nsgan runs over the first 10% of logged steps, and over "
        f"logged steps where mean D(G(z)) < {REJECT}.",
        "figures": figures,
    }


def claim_collapse(runs: dict, coverage: str | None, num_modes: int | None) -> dict:
    """2. GANs collapse onto few modes."""
    figures, missing = {}, {}
    if coverage is None or num_modes is None:
        why = "this dataset has no modes or classes to count"
        return {"claim": "GANs collapse onto few modes.", "verdict": INCONCLUSIVE, "why": why,
                "how": "", "figures": {}}  # fmt: skip
    learned = {}
    for name, run in runs.items():
        if run["weak"]:
            continue
        seeds = [s for s in run["summary"]["seeds"] if s[coverage] is not None]
        vals = [s[coverage] for s in seeds]
        m, sd = mean_std(vals)
        figures[f"{name}_{coverage}"] = f"{m:.2f} ± {sd:.2f}"
        # Collapsed: it has learned to produce data (most samples on some mode) but misses
        # modes. A seed still producing mostly off-mode samples has not converged yet.
        done = [s for s in seeds if _converged(s, coverage)]
        missing[name] = sum(s[coverage] < num_modes for s in done) / max(len(seeds), 1)
        learned[name] = len(done) / max(len(seeds), 1)
        figures[f"{name}_seeds_collapsed"] = f"{missing[name]:.0%}"
        figures[f"{name}_seeds_not_converged"] = f"{1 - learned[name]:.0%}"
    gans = [x for x in ("gan", "nsgan") if x in missing]
    if not gans:
        verdict, why = INCONCLUSIVE, "needs gan or nsgan"
    elif max(learned[x] for x in gans) < 0.5:
        verdict = INCONCLUSIVE
        why = (
            "most gan/nsgan seeds have not converged (fewer than half their samples lie on a "
            "mode or are classified with confidence): train longer"
        )
    else:
        worst = max(gans, key=lambda x: missing[x])
        verdict = SUPPORTED if missing[worst] >= 0.5 else NOT_SUPPORTED
        why = (
            f"at the last evaluation {missing[worst]:.0%} of the {worst} seeds have converged "
            f"but cover fewer than all {num_modes} {coverage} ('{SUPPORTED}' needs half the "
            "seeds of gan or nsgan)"
        )
    return {
        "claim": "GANs collapse onto few modes.",
        "verdict": verdict,
        "why": why,
        "how": f"{coverage} covered at the final evaluation, per seed (a mode counts with at "
        "least 20 high-quality samples per 2,500). A seed has collapsed when it has converged "
        "(at least half its samples within 3 std of a mode, or for images classified with "
        "probability >= 0.9) but covers fewer than all; "
        "a seed that has not converged does not count either way.",
        "figures": figures,
    }


def _converged(seed_row: dict, coverage: str) -> bool:
    """Most samples look like data: 2-D, within 3 std of a mode; images, classified with
    probability >= 0.9 (both are `hq_frac`). Older image summaries without it: any class."""
    if "hq_frac" in seed_row:
        return seed_row["hq_frac"] is not None and seed_row["hq_frac"] >= 0.5
    return seed_row[coverage] > 0


def claim_tracking(runs: dict, distance: str) -> dict:
    """3. The WGAN critic's loss tracks sample quality; the other losses' do not."""
    figures, medians = {}, {}
    for name, run in runs.items():
        if run["weak"]:
            continue
        rhos = []
        for s in run["summary"]["seeds"]:
            est, q = rho_series(run, s["seed"], distance)
            if len(q) >= 4 and np.ptp(est) > 0 and np.ptp(q) > 0:
                rhos.append(float(spearmanr(est, q).statistic))
        medians[name] = _median(rhos)
        figures[f"{name}_median_rho"] = medians[name]
        figures[f"{name}_rho_per_seed"] = [round(r, 3) for r in rhos]
    w = medians.get("wgan", float("nan"))
    others = {k: v for k, v in medians.items() if k != "wgan"}
    if not np.isfinite(w) or not others:
        verdict, why = INCONCLUSIVE, "needs wgan and another loss with enough evaluations"
    else:
        best_other = max(others.values(), key=lambda v: v if np.isfinite(v) else -1)
        ok = w >= TRACK_RHO and (not np.isfinite(best_other) or w - best_other >= TRACK_MARGIN)
        verdict = SUPPORTED if ok else NOT_SUPPORTED
        why = (
            f"median Spearman rho between -L_D and {distance}: wgan {w:.2f}, "
            + ", ".join(f"{k} {v:.2f}" for k, v in others.items())
            + f" ('{SUPPORTED}' needs wgan >= {TRACK_RHO} and {TRACK_MARGIN} above the others)"
        )
    return {
        "claim": "The WGAN critic's loss tracks sample quality; the other losses do not.",
        "verdict": verdict,
        "why": why,
        "how": f"Per seed, the Spearman rank correlation over the evaluation steps (after step 0) "
        f"between the discriminator's divergence estimate -L_D (for WGAN the W estimate; for "
        f"gan/nsgan log 2 - L_D estimates the JS divergence, up to the constant) logged at that "
        f"step and the {distance} distance to the data. Positive: the loss falls as quality rises.",
        "figures": figures,
    }


def rho_series(run: dict, seed: int, distance: str) -> tuple[np.ndarray, np.ndarray]:
    """(-L_D, distance) at the evaluation steps after 0, where both were logged."""
    loss = {r["step"]: r["d_loss"] for r in run["metrics"] if r["seed"] == seed}
    pts = [
        (-loss[r["step"]], r[distance])
        for r in run["eval"]
        if r["seed"] == seed and r["step"] > 0 and r["step"] in loss
        and loss[r["step"]] is not None and r.get(distance) is not None
    ]  # fmt: skip
    if not pts:
        return np.zeros(0), np.zeros(0)
    est, q = zip(*pts, strict=True)
    return np.asarray(est), np.asarray(q)


def claim_robustness(runs: dict, distance: str, variant: str | None) -> dict:
    """4. WGAN is more robust to a weaker generator."""
    figures, change, weak_q = {}, {}, {}
    for run in runs.values():
        if not run["weak"]:
            continue
        base = runs.get(run["loss"])
        if base is None:
            continue
        q0 = base["summary"]["mean"].get(distance)
        q1 = run["summary"]["mean"].get(distance)
        if q0 is None or q1 is None:
            continue
        change[run["loss"]] = (q1 - q0) / q0
        weak_q[run["loss"]] = q1
        figures[f"{run['loss']}_{distance}_default"] = q0
        figures[f"{run['loss']}_{distance}_{variant}"] = q1
        figures[f"{run['loss']}_relative_change"] = change[run["loss"]]
    if "wgan" not in change or len(change) < 2:
        verdict, why = INCONCLUSIVE, "needs wgan and another loss, each with a weak-G run"
    else:
        least = min(change, key=change.get) == "wgan"
        best = min(weak_q, key=weak_q.get) == "wgan"
        verdict = SUPPORTED if least and best else NOT_SUPPORTED
        why = (
            f"relative change of mean {distance} with the '{variant}' generator: "
            + ", ".join(f"{k} {v:+.0%}" for k, v in change.items())
            + f"; wgan degrades {'least' if least else 'not least'} and is "
            f"{'the best' if best else 'not the best'} with the weak generator "
            f"('{SUPPORTED}' needs both)"
        )
    return {
        "claim": "WGAN is more robust when the generator is made weaker.",
        "verdict": verdict,
        "why": why,
        "how": f"Each loss trained again with the '{variant}' generator (same seeds, data and "
        f"settings); change of the seed-mean {distance} at the final evaluation.",
        "figures": figures,
    }


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
    import matplotlib.pyplot as plt

    keys = [distance] + ([coverage] if coverage else [])
    fig, axes = plt.subplots(len(runs), len(keys), figsize=(5 * len(keys), 2.4 * len(runs)),
                             squeeze=False)  # fmt: skip
    for row, (name, run) in zip(axes, runs.items(), strict=True):
        for ax, key in zip(row, keys, strict=True):
            for s in run["summary"]["seeds"]:
                x, y = series(run["eval"], s["seed"], key)
                ax.plot(x, y, lw=0.8, marker=".", ms=3)
            ax.set_title(f"{name}: {key}", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
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
    for ax, name in zip(axes[0], names, strict=True):
        for s in runs[name]["summary"]["seeds"]:
            est, q = rho_series(runs[name], s["seed"], distance)
            ax.plot(est, q, marker=".", lw=0.5, ms=4)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("-L_D (divergence estimate)", fontsize=8)
        ax.set_ylabel(distance, fontsize=8)
    fig.tight_layout()
    plots.save_figure(fig, path)


# ---- writing ------------------------------------------------------------------------------


def summary_rows(runs: dict, names: list[str]) -> list[dict]:
    rows = []
    for name, run in runs.items():
        for s in run["summary"]["seeds"]:
            rows.append({
                "run": name, "loss": run["loss"], "weak_generator": run["weak"], "seed": s["seed"],
                **{k: s.get(k) for k in names},
                "diverged": s["diverged_at"] is not None,
                "wall_time_s": run["summary"]["wall_time_s"],
            })  # fmt: skip
    return rows


def write_report(comparison, out: Path, status: dict) -> dict:
    from gancli.probes import gradient_probe

    runs = load_runs(comparison, out)
    names = metric_names(runs)
    distance, coverage = distance_metric(names), coverage_metric(names)
    data = data_lib.load(comparison.base.dataset, comparison.base.image_size)
    num_modes = data.mixture.num_modes if data.mixture is not None else data.num_classes

    probe_path = out / "gradient_probe.json"
    probe = None
    if {"gan", "nsgan"} <= set(comparison.losses):
        cfg = comparison.config_for("nsgan", False)
        if probe_path.exists():
            probe = json.loads(probe_path.read_text())
        else:
            probe = gradient_probe(cfg, data)
            probe_path.write_text(json.dumps(probe))

    claims = [
        claim_gradient(runs, probe),
        claim_collapse(runs, coverage, num_modes),
        claim_tracking(runs, distance),
        claim_robustness(runs, distance, comparison.weak_variant),
    ]

    plot_dir = out / "plots"
    figures = {
        "training losses (one line per seed)": plot_dir / "losses.png",
        "quality against step (one line per seed)": plot_dir / "quality.png",
        "final samples (one panel per loss x seed)": plot_dir / "samples.png",
        "claim 3: divergence estimate against distance": plot_dir / "tracking.png",
    }
    _plot_training(runs, figures["training losses (one line per seed)"])
    _plot_quality(runs, distance, coverage, figures["quality against step (one line per seed)"])
    _plot_samples(runs, data.mixture, figures["final samples (one panel per loss x seed)"])
    _plot_tracking(runs, distance, figures["claim 3: divergence estimate against distance"])
    if probe is not None:
        figures["claim 1: generator gradient as D gets better"] = plot_dir / "gradient_probe.png"
        _plot_probe(probe, figures["claim 1: generator gradient as D gets better"])

    rows = summary_rows(runs, names)
    with (out / "summary.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    table = {
        name: {
            "loss": run["loss"],
            "weak_generator": run["weak"],
            "mean": run["summary"]["mean"],
            "std": run["summary"]["std"],
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
        "runs": table,
        "claims": claims,
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


def table_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", *result["metrics"], "diverged", "wall s"]
    rows = []
    for name, r in result["runs"].items():
        cells = [f"{_fmt(r['mean'].get(m))} ± {_fmt(r['std'].get(m))}" for m in result["metrics"]]
        rows.append([name, *cells, f"{r['diverged']}/{len(r['seeds'])}", _fmt(r["wall_time_s"])])
    return header, rows


def render_markdown(result: dict, comparison) -> str:
    header, rows = table_rows(result)
    lines = [
        f"# Loss comparison on {result['dataset']}",
        "",
        f"{len(result['seeds'])} seeds ({result['seeds'][0]}..{result['seeds'][-1]}), "
        f"{result['steps']} generator steps per run. Mean ± std over seeds at the final "
        "evaluation; per-seed values in `summary.csv`. Rerun: "
        "`gancli compare-losses --config comparison.toml --out <this directory>`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(r) + " |" for r in rows],
        "",
        "## Claims",
        "",
    ]
    for i, c in enumerate(result["claims"], 1):
        lines += [
            f"### {i}. {c['claim']}",
            "",
            f"**{c['verdict']}**: {c['why']}.",
            "",
            f"How: {c['how']}",
            "",
            "Figures: " + ", ".join(f"`{k}` = {_fmt(v)}" for k, v in c["figures"].items()),
            "",
        ]
    lines += ["## Plots", ""]
    lines += [f"![{k}]({v})" for k, v in result["figures"].items()]
    return "\n".join(lines) + "\n"


def render_html(result: dict, comparison, out: Path) -> str:
    header, rows = table_rows(result)
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>gancli: loss comparison on {esc(result['dataset'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "img{max-width:100%}.supported{color:#070}.not{color:#a00}.inconclusive{color:#a60}"
        "</style>",
        f"<h1>Loss comparison on {esc(result['dataset'])}</h1>",
        f"<p>{len(result['seeds'])} seeds, {result['steps']} generator steps per run; "
        "mean ± std over seeds at the final evaluation.</p>",
        "<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>",
        *["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows],
        "</table><h2>Claims</h2>",
    ]
    for i, c in enumerate(result["claims"], 1):
        cls = {SUPPORTED: "supported", NOT_SUPPORTED: "not"}.get(c["verdict"], "inconclusive")
        parts += [
            f"<h3>{i}. {esc(c['claim'])}</h3>",
            f"<p><b class='{cls}'>{esc(c['verdict'])}</b>: {esc(c['why'])}.</p>",
            f"<p><small>How: {esc(c['how'])}</small></p>",
        ]
    parts.append("<h2>Plots</h2>")
    for title, rel in result["figures"].items():
        b64 = base64.b64encode((out / rel).read_bytes()).decode()
        parts.append(f"<h3>{esc(title)}</h3><img src='data:image/png;base64,{b64}'>")
    return "\n".join(parts) + "\n"

"""`gancli reproduce PRESET`: a published 2-D GAN row, rerun over the paper's seeds.

The preset (`gancli.studies.reproduce_preset`) holds the paper's setup, its row, two
budgets and the variants. Each variant is one ordinary run directory, trained to the
first budget, scored with the paper's metrics (`gancli.quality.paper`), resumed to the
next, and so on; a rerun skips finished stages.

Intervals: the 95% Student's t interval of the mean over seeds (`gancli.estimates`, which
says why: the percentile bootstrap under-covers at 5-10 seeds), beside the std and the
standard error. A stage or run directory stored with other settings than the command
asks for (another beta1, seed count, ...) is never returned as if it were the new one:
it is refused with the differing fields, or retrained with `force`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from pathlib import Path

from gancli import config_io, estimates, stats
from gancli.config import Config, ConfigError
from gancli.quality.paper import PAPER_METRICS, paper_quality
from gancli.report.reproduce import inside, report_markdown  # noqa: F401 (inside: API)
from gancli.run import files, runner
from gancli.run.rundir import RunDir
from gancli.studies.reproduce_preset import BUDGETS, Preset

CI_LEVEL = 0.95


# ---- statistics -----------------------------------------------------------------------------


def mean_ci(values: list[float]) -> dict:
    """Mean, std (ddof 1), standard error and the 95% t interval of the mean (NaN where
    undefined; JSON-ready through `files.json_default`)."""
    est = estimates.mean_ci(values)
    mean, std = estimates.mean_std(values)
    se = std / math.sqrt(est.n) if est.n > 1 else math.nan
    return {"n": est.n, "mean": mean, "std": std, "se": se, "ci_low": est.lo, "ci_high": est.hi}


# ---- running ----------------------------------------------------------------------------------


def budget_note(preset: Preset, variant: str, steps: int) -> str:
    """How this stage's length compares with the paper's (in epochs where the preset has a
    training set), per variant: WGAN's 400 epochs are fewer generator steps."""
    full = preset.steps_for(variant, "full")[-1]
    try:
        per_epoch = preset.epoch_steps(variant)
        epochs = f" ({steps / per_epoch:g} of the paper's {full / per_epoch:g} epochs)"
    except ConfigError:
        epochs = ""
    if steps >= full:
        return f"{variant}: full budget, {steps:,} generator steps{epochs}"
    return (
        f"{variant}: REDUCED BUDGET, {steps:,} generator steps{epochs}, {100 * steps / full:.2f}% "
        f"of the paper's {full:,}; figures are not the paper's protocol"
    )


def _latest_checkpoint(run_dir: Path) -> int | None:
    steps = RunDir(run_dir).checkpoint_steps()
    return steps[-1] if steps else None


def run_stage(preset: Preset, variant: str, budget: str, steps: int, run_dir: Path,
              seeds: int | None, quiet: bool, log=print, force: bool = False) -> dict:  # fmt: skip
    """Train (or resume) one variant to `steps` and score it with the paper's metrics. A
    run already trained past `steps` without this stage is refused (retraining it would
    destroy it), or with `force` retrained from scratch."""
    rd = RunDir(run_dir)
    stage_file = rd.stage_file(steps)
    cfg = preset.config_for(variant, steps, seeds)
    if stage_file.exists():
        stage = json.loads(stage_file.read_text())
        if not _stage_differences(stage, cfg):
            return stage
    t0 = time.perf_counter()
    latest = _latest_checkpoint(run_dir)
    if latest is not None and latest > steps and not force:
        raise ConfigError(
            f"{run_dir} holds a run trained to step {latest:,}, past this budget's "
            f"{steps:,}, with no stage recorded there: use another --out, or --force to "
            "retrain it from scratch"
        )
    if latest is None or latest > steps:
        log(f"{variant}: training {cfg.seeds} seeds x {steps:,} steps")
        result = runner.train(cfg, run_dir, force=True, quiet=quiet)
    else:
        log(f"{variant}: resuming from step {latest:,} to {steps:,}")
        result = runner.resume(run_dir, {"steps": steps}, quiet=quiet)
    wall = time.perf_counter() - t0
    x = rd.load_final_samples()  # (S, eval_samples, 2), fixed z, eval mode
    from gancli.data import load as load_data

    mixture = load_data(cfg.dataset).mixture
    per_seed = [paper_quality(xs, mixture) for xs in x]
    stage = {
        "variant": variant,
        "budget": budget,
        "note": budget_note(preset, variant, steps),
        "steps": steps,
        "seeds": cfg.seed_list,
        "wall_time_s": round(wall, 1),
        "train_wall_time_s": result.summary.get("wall_time_s"),
        "per_seed": per_seed,
        "stats": {m: mean_ci([s[m] for s in per_seed]) for m in PAPER_METRICS},
        "loss": cfg.loss,
        "config": _stored(cfg),
    }
    rd.write_stage(steps, stage)
    return files.json_safe(stage)  # as a rerun reads it back: null, not NaN


def _stored(cfg: Config) -> dict:
    """What a stage records of its config, as JSON reads it back."""
    return files.json_safe({k: v for k, v in cfg.to_dict().items() if v is not None})


def _stage_differences(stage: dict, wanted: Config) -> list[str]:
    """A stored stage's settings against these, by the rule stored runs are held to
    (`compare.config_differences`); an unreadable stored config is a difference."""
    from gancli.studies.compare import config_differences

    try:
        saved = config_io.from_mapping(stage.get("config", {}), source="a stored stage")
    except ConfigError as e:
        return [str(e)]
    return config_differences(saved, wanted)


def plan_stages(preset: Preset, chosen: list[str], budget: str, out: Path, seeds, force: bool):
    """Refuse, before anything trains, a variant whose stored run or stages used other
    settings than these (with `force`, such a variant's directory is cleared instead)."""
    from gancli.studies.compare import config_differences

    for v in chosen:
        run_dir = out / v
        last = preset.steps_for(v, budget)[-1]
        wanted = preset.config_for(v, last, seeds)
        diffs = []
        saved = RunDir(run_dir).saved_config() if run_dir.is_dir() else None
        if saved is not None:
            diffs = config_differences(saved, wanted)
        for f in RunDir(run_dir).stage_files():
            stage = json.loads(f.read_text())
            diffs += _stage_differences(stage, preset.config_for(v, stage["steps"], seeds))
        diffs = list(dict.fromkeys(diffs))
        if diffs and not force:
            raise ConfigError(
                f"{run_dir} was trained with other settings ({'; '.join(diffs)}): use another "
                "--out, or --force to retrain it"
            )
        if diffs:
            shutil.rmtree(run_dir)


def run_preset(preset: Preset, out: str | Path, budget: str = "reduced",
               variants: list[str] | None = None, seeds: int | None = None,
               quiet: bool = False, log=print, force: bool = False) -> dict:  # fmt: skip
    kind, _, n = budget.partition(":")
    if budget not in BUDGETS and not (kind in ("epochs", "steps") and n.isdigit() and int(n)):
        raise ConfigError(f"--budget must be one of {', '.join(BUDGETS)}, got {budget!r}")
    chosen = variants or list(preset.variants)
    bad = [v for v in chosen if v not in preset.variants]
    if bad:
        raise ConfigError(
            f"unknown variant(s) {', '.join(bad)} in {preset.path}: "
            f"choose from {', '.join(preset.variants)}"
        )
    out = Path(out)
    plan_stages(preset, chosen, budget, out, seeds, force)
    out.mkdir(parents=True, exist_ok=True)
    for v in chosen:
        for steps in preset.steps_for(v, budget):
            run_stage(preset, v, budget, steps, out / v, seeds, quiet, log, force)
    return write_report(preset, out, budget)


def _shown_path(path: Path) -> str:
    """A preset shipped in the package as `gancli/experiments/...` (the same on every
    machine); a user's own file as given."""
    package = Path(__file__).resolve().parents[1]
    try:
        return str(Path(path).resolve().relative_to(package.parent))
    except ValueError:
        return str(path)


def write_report(preset: Preset, out: Path, budget: str) -> dict:
    """The report of a directory: every stage of every variant stored in it (runs made by
    earlier commands with other budgets included, each stage with its own note), the
    trend of the paper's figures at every evaluation, and each variant against the
    paper's, paired by seed."""
    from gancli.report.figures import plot_reproduce_trend

    stages = [files.json_safe(json.loads(f.read_text())) for v in preset.variants
              for f in RunDir(out / v).stage_files()]  # fmt: skip
    trends = {v: trend(preset, v, out / v) for v in preset.variants if (out / v).is_dir()}
    trends = {v: t for v, t in trends.items() if t["steps"]}
    report = {
        "preset": _shown_path(preset.path),
        "paper": preset.paper,
        "anchor": preset.anchor,
        "budget": budget,
        "ci": f"{int(CI_LEVEL * 100)}% Student's t interval of the mean over seeds",
        "stages": stages,
        "trend": {v: {k: t[k] for k in ("epochs", "steps", "stats")} for v, t in trends.items()},
        "full_steps": {v: preset.steps_for(v, "full")[-1] for v in preset.variants},
        "paired": paired_variants(preset, trends),
        "unpaired": unpaired(preset, trends),
    }
    if trends:
        report["figures"] = {"trend": "trend.png"}
        plot_reproduce_trend(report, out / "trend.png")
    files.ReportDir(out).write_json("report.json", report)
    files.ReportDir(out).write("report.md", report_markdown(report))
    return files.json_safe(report)


# the paper's figures as every evaluation records them (gancli.quality.mixture)
TREND_KEYS = {"modes": ("modes_any", 1.0), "hq_pct": ("hq_frac", 100.0),
              "reverse_kl": ("hq_kl", 1.0)}  # fmt: skip


def trend(preset: Preset, variant: str, run_dir: Path) -> dict:
    """Per evaluation step, the paper's three figures per seed (from eval.jsonl) and their
    mean with a t interval; epochs where the preset has a training set."""
    from gancli.run.rundir import read_jsonl

    rows = read_jsonl(run_dir / "eval.jsonl") if (run_dir / "eval.jsonl").is_file() else []
    steps = sorted({r["step"] for r in rows if r["step"] > 0})
    per_seed: dict = {m: {} for m in TREND_KEYS}
    for r in rows:
        for m, (key, scale) in TREND_KEYS.items():
            v = r.get(key)
            if r["step"] in steps and v is not None:
                per_seed[m].setdefault(r["step"], {})[r["seed"]] = scale * v
    try:
        per_epoch = preset.epoch_steps(variant)
    except ConfigError:
        per_epoch = None
    return {
        "steps": steps,
        "epochs": [s / per_epoch for s in steps] if per_epoch else None,
        "per_seed": per_seed,
        "stats": {
            m: [mean_ci(list(per_seed[m].get(s, {}).values())) for s in steps] for m in TREND_KEYS
        },  # fmt: skip
    }


def _epoch_steps(preset: Preset, variant: str) -> int | None:
    try:
        return preset.epoch_steps(variant)
    except ConfigError:
        return None


def unpaired(preset: Preset, trends: dict) -> dict:
    """Variants that cannot be paired with the paper's own, and why: a step is another
    amount of training where a generator step takes another number of batches."""
    base = preset.paper.get("variant")
    if base not in trends:
        return {}
    own = _epoch_steps(preset, base)
    return {v: f"its epoch is {_epoch_steps(preset, v)} generator steps, the paper's "
               f"variant's {own}: equal steps are not equal training"
            for v in trends if v != base and _epoch_steps(preset, v) != own}  # fmt: skip


def paired_variants(preset: Preset, trends: dict) -> list[dict]:
    """Each variant against the paper's own, at the last evaluation step both reached,
    paired by seed (the seeds draw the same data and z; only the variant differs):
    two-sided Wilcoxon signed-rank per figure, Holm over the three. Only variants whose
    epoch has as many generator steps (`unpaired` says why the others are not)."""
    base = preset.paper.get("variant")
    if base not in trends:
        return []
    out = []
    skip = unpaired(preset, trends)
    for v, t in trends.items():
        common = sorted(set(t["steps"]) & set(trends[base]["steps"]))
        if v == base or not common or v in skip:
            continue
        step = common[-1]
        tests, figures = [], {}
        for m in TREND_KEYS:
            a, b = t["per_seed"][m].get(step, {}), trends[base]["per_seed"][m].get(step, {})
            seeds = sorted(set(a) & set(b))
            x, y = [a[s] for s in seeds], [b[s] for s in seeds]
            tests.append(replace_label(stats.wilcoxon(x, y, "two-sided"), f"{v} vs {base}: {m}"))
            figures[m] = {"variant": mean_ci(x), "paper_variant": mean_ci(y)}
        out.append({"variant": v, "against": base, "step": step, "figures": figures,
                    "tests": [t.to_dict() for t in stats.holm(tests)]})  # fmt: skip
    return out


def replace_label(test: stats.Test, label: str) -> stats.Test:
    return dataclasses.replace(test, label=label)

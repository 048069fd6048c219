"""`gancli compare-losses`: every loss over the same seeds and data, and what it shows.

Each loss (and, for the robustness claim, each loss with a weakened generator) is an
ordinary run directory inside the report directory, so it can be sampled, evaluated and
resumed on its own. Rerunning the command skips finished runs and resumes unfinished
ones.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from gancli import config as config_lib
from gancli import config_io
from gancli import data as data_lib
from gancli.config import COMPARE_DEFAULTS, HOST_FIELDS, LOSS_NAMES, Config, ConfigError
from gancli.run import files, runner
from gancli.run.rundir import RunDir

# Compare-specific keys of an experiment file, beside the Config fields.
COMPARE_KEYS = ("losses", "weak_variant", "escape_steps", "primary_budget", "probe_trained_steps")


@dataclasses.dataclass(frozen=True)
class Comparison:
    base: Config
    losses: tuple[str, ...] = LOSS_NAMES
    per_loss: dict = dataclasses.field(default_factory=dict)  # loss -> {field: value}
    # the weakened generators of the robustness claim, each run with every loss (): none
    weak_variants: tuple[str, ...] = ("thin",)
    escape_steps: int = 600  # claim 1: steps after D rejects, for each generator loss
    # Claims 2-4 are judged at this step, declared before the runs (None: the final step);
    # the verdicts at other evaluation steps are descriptive.
    primary_budget: int | None = None
    # Claim 1's second start: G trained this many steps before D rejects it (None: half
    # the run, 0: only the start at initialisation).
    probe_trained_steps: int | None = None

    @property
    def primary(self) -> int:
        return self.primary_budget if self.primary_budget is not None else self.base.steps

    @property
    def trained_steps(self) -> int:
        if self.probe_trained_steps is not None:
            return self.probe_trained_steps
        return self.base.steps // 2

    def run_names(self) -> list[tuple[str, str, str | None]]:
        """(run name, loss, weak generator variant or None) for every run of the comparison."""
        names: list[tuple[str, str, str | None]] = [(loss, loss, None) for loss in self.losses]
        for v in self.weak_variants:
            names += [(f"{loss}-{v}", loss, v) for loss in self.losses]
        return names

    def config_for(self, loss: str, weak: str | None) -> Config:
        changes: dict[str, Any] = {"loss": loss, **self.per_loss.get(loss, {})}
        if weak:
            changes["generator_variant"] = weak
        return config_lib.resolve(self.base.replace(**changes))


def parse_losses(text: str | list) -> tuple[str, ...]:
    items = text if isinstance(text, list) else [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in LOSS_NAMES]
    if bad or not items:
        raise ConfigError(
            f"--losses must name some of {', '.join(LOSS_NAMES)}, got {','.join(map(str, items))!r}"
        )
    return tuple(dict.fromkeys(items))


def load_comparison(path: str | Path | None, flags: dict, losses: str | None, weak: str | None):
    """Build a Comparison from an optional TOML file, then flags on top of it."""
    base = Config(**COMPARE_DEFAULTS)
    per_loss: dict[str, dict] = {}
    file_losses, file_weak = None, "auto"
    escape_steps = Comparison.escape_steps
    primary = trained = None
    if path is not None:
        values = config_io.read_toml(path)
        file_losses = values.pop("losses", None)
        file_weak = values.pop("weak_variant", file_weak)
        escape_steps = values.pop("escape_steps", Comparison.escape_steps)
        if not _is_int(escape_steps) or escape_steps < 6:
            raise ConfigError(f"escape_steps in {path} must be an integer >= 6")
        primary = values.pop("primary_budget", None)
        trained = values.pop("probe_trained_steps", None)
        for key, v in (("primary_budget", primary), ("probe_trained_steps", trained)):
            if v is not None and (not _is_int(v) or v < 0):
                raise ConfigError(f"{key} in {path} must be a non-negative integer")
        tables = values.pop("per_loss", {})
        if not isinstance(tables, dict):
            raise ConfigError(f"per_loss in {path} must be a table of [per_loss.LOSS] tables")
        for loss, table in tables.items():
            if loss not in LOSS_NAMES or not isinstance(table, dict):
                names = ", ".join(LOSS_NAMES)
                raise ConfigError(f"[per_loss.{loss}] in {path}: not a loss ({names})")
            config_io.from_mapping(table, source=f"[per_loss.{loss}] in {path}")  # check types
            per_loss[loss] = {k.replace("-", "_"): v for k, v in table.items()}
        base = config_io.from_mapping(values, base, source=str(path))
    base = config_io.from_mapping(flags, base, source="flags")
    chosen = parse_losses(losses if losses is not None else (file_losses or list(LOSS_NAMES)))
    weak_variants = parse_weak(weak if weak is not None else file_weak, base.dataset)
    comparison = Comparison(base, chosen, per_loss, weak_variants, escape_steps, primary, trained)
    check_primary(comparison)
    for _, loss, is_weak in comparison.run_names():  # validate every run before training any
        comparison.config_for(loss, is_weak)
    return comparison


def parse_weak(value: str | list, dataset: str) -> tuple[str, ...]:
    """`--weak-variant` / `weak_variant`: variants (a comma list or a TOML list), `none`, or
    `auto`: the WGAN paper's own weakened generators (section 4.3) for images, a DCGAN G
    without batchnorm and with constant filters and a 4 x 512 ReLU MLP; for 2-D data (no
    batchnorm in our MLP) one eighth of the width."""
    items = value if isinstance(value, list) else [s.strip() for s in str(value).split(",")]
    items = [s for s in items if s not in ("", "none")]
    if items == ["auto"]:
        items = ["nobn-const", "mlp"] if config_lib.is_image_dataset(dataset) else ["thin"]
    bad = [s for s in items if s not in config_lib.GENERATOR_VARIANTS[1:]]
    if bad:
        raise ConfigError(
            f"--weak-variant must be some of {', '.join(config_lib.GENERATOR_VARIANTS[1:])}, "
            f"auto or none, got {','.join(map(str, bad))!r}"
        )
    return tuple(dict.fromkeys(items))


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_primary(c: Comparison) -> None:
    """The primary budget must be a step at which every run is evaluated."""
    p, cfg = c.primary, c.base
    if not 0 < p <= cfg.steps or (p % cfg.eval_every and p != cfg.steps):
        raise ConfigError(
            f"primary_budget {p} must be an evaluation step: a multiple of eval_every "
            f"({cfg.eval_every}) up to steps ({cfg.steps}), or steps itself"
        )


def check_declared(c: Comparison, out: Path, force: bool) -> None:
    """The primary budget and the probe's length are declared with the first runs (in
    comparison.toml): a rerun that changes them would relabel stored runs' verdicts after
    seeing them. Refused, or taken with `force`."""
    path = out / "comparison.toml"
    if force or not path.is_file():
        return
    try:
        stored = config_io.read_toml(path)
    except ConfigError:
        return
    diffs = [f"{k} {stored[k]!r} -> {v!r}" for k, v in
             (("primary_budget", c.primary), ("escape_steps", c.escape_steps))
             if k in stored and stored[k] != v]  # fmt: skip
    if diffs:
        raise ConfigError(
            f"{out} declared other budgets before its runs ({'; '.join(diffs)}): a verdict's "
            "budget is fixed before the results are seen; use another --out, or --force"
        )


def _finished(run_dir: Path, steps: int) -> bool:
    summary = RunDir(run_dir).summary
    if not summary.exists():
        return False
    try:
        return json.loads(summary.read_text())["step"] >= steps
    except (OSError, ValueError, KeyError):
        return False


def _has_checkpoint(run_dir: Path) -> bool:
    return bool(RunDir(run_dir).checkpoint_steps())


def config_differences(saved: Config, wanted: Config) -> list[str]:
    """Fields that differ, other than those that do not change the computation.

    More steps than stored is not a difference: the run resumes. Fewer is one: the
    stored runs went further than the report would say."""
    diffs = []
    for k, v in wanted.to_dict().items():
        old = getattr(saved, k)
        # eval_samples moves the mode threshold and W1's noise: the logs would mix two
        if k in HOST_FIELDS and k != "eval_samples" and not (k == "steps" and v < old):
            continue
        if old != v:
            diffs.append(f"{k} {old!r} -> {v!r}")
    if saved.sweep != wanted.sweep:
        diffs.append(f"sweep of {len(saved.points)} -> {len(wanted.points)} points")
    return diffs


def plan_runs(runs: list[tuple[str, Config, Path]], force: bool) -> list[tuple]:
    """(name, cfg, run_dir, retrain?) per run; refuses a stored run with other settings.

    Checked for every run before any trains, so a refusal costs nothing."""
    plan = []
    for name, cfg, run_dir in runs:
        saved = RunDir(run_dir).saved_config() if run_dir.is_dir() else None
        diffs = config_differences(saved, cfg) if saved is not None else []
        if diffs and not force:
            raise ConfigError(
                f"{run_dir} was trained with other settings ({'; '.join(diffs)}): "
                "use another --out, or --force to retrain it"
            )
        plan.append((name, cfg, run_dir, bool(diffs)))
    return plan


def execute(plan: list[tuple], quiet: bool, log) -> dict[str, str]:
    """Train, resume or skip each planned run; returns a status line per run."""
    status = {}
    for name, cfg, run_dir, retrain in plan:
        t0 = time.perf_counter()
        if not retrain and _finished(run_dir, cfg.steps):
            status[name] = "done earlier"
            continue
        if not retrain and _has_checkpoint(run_dir):
            log(f"{name}: resuming")
            runner.resume(run_dir, {"steps": cfg.steps}, quiet=quiet)
            status[name] = "resumed"
        else:
            log(f"{name}: training {cfg.num_replicas} replicas x {cfg.steps} steps")
            runner.train(cfg, run_dir, force=True, quiet=quiet)
            status[name] = "trained"
        status[name] += f" in {time.perf_counter() - t0:.0f}s"
    return status


def run_comparison(
    comparison: Comparison, out: str | Path, quiet: bool = False, log=print, force: bool = False
) -> dict:
    """Train (or resume, or skip) every run, then write the report. Returns the report data.

    A run directory trained with other settings than the comparison asks for is never
    reused silently: it is refused with the differing fields, or retrained with `force`.
    """
    from gancli.report import build as report

    out = Path(out)
    runs = [(name, comparison.config_for(loss, weak), out / name)
            for name, loss, weak in comparison.run_names()]  # fmt: skip
    plan = plan_runs(runs, force)
    check_declared(comparison, out, force)
    out.mkdir(parents=True, exist_ok=True)
    files.ReportDir(out).write("comparison.toml", comparison_toml(comparison))
    status = execute(plan, quiet, log)
    return report.write_report(comparison, out, status, run_probes(comparison, out))


def run_probes(comparison, out: Path) -> dict | None:
    """Claim 1's probe (`gancli.studies.probe.escape_probe`), cached in the report directory under
    a key of everything it depends on."""
    from gancli.quality.evaluator import REJECT
    from gancli.studies.probe import PROBE_LR_D, PROBE_VERSION, SGD_LR, escape_probe

    if not {"gan", "nsgan"} <= set(comparison.losses):
        return None
    cfg = comparison.config_for("gan", False)
    path = out / "escape_probe.json"
    steps, trained = comparison.escape_steps, comparison.trained_steps
    key = {"config": cfg.to_dict(), "escape_steps": steps, "trained_steps": trained,
           "version": PROBE_VERSION, "sgd_lr": SGD_LR, "probe_lr_d": PROBE_LR_D,
           "reject": REJECT}  # fmt: skip
    if path.exists():
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached
    t0 = time.perf_counter()
    data = data_lib.load(cfg.dataset, cfg.image_size)
    escape = escape_probe(cfg, data, g_steps=steps, every=max(1, steps // 6),
                          trained_steps=trained)  # fmt: skip
    escape["key"] = key
    escape["wall_time_s"] = round(time.perf_counter() - t0, 1)
    files.write_json(path, escape)
    return escape


def comparison_toml(c: Comparison) -> str:
    base = {k: v for k, v in c.base.to_dict().items() if v is not None and k != "loss"}
    text = config_io.to_toml(
        base,
        header="gancli compare-losses experiment: rerun with `gancli compare-losses --config`",
    )
    text += f"losses = [{', '.join(json.dumps(x) for x in c.losses)}]\n"
    text += f"weak_variant = {json.dumps(list(c.weak_variants))}\n"
    text += f"escape_steps = {c.escape_steps}\n"
    text += f"primary_budget = {c.primary}\n"
    text += f"probe_trained_steps = {c.trained_steps}\n"
    for loss, table in c.per_loss.items():
        text += f"\n[per_loss.{loss}]\n" + config_io.to_toml(table)
    return text

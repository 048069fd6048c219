"""`gancli atlas STUDY`: the four claims judged on every dataset of a study file.

A study file names one compare-losses experiment file per dataset (so every dataset keeps
its own steps, batch and architecture, and its report stays an ordinary compare-losses
report, reproducible alone with `gancli compare-losses --config`):

    tune = 4            # also compare every loss tuned at equal budget (0: not)
    tune_seeds = 2      # tuning seeds per point (never the comparison's seeds)
    budget = "..."      # the declared budget, in words: printed on the atlas
    [datasets.ring8]
    experiment = "compare_ring8_long"   # a shipped name, or a path (relative to the study)
    [datasets.mnist]
    experiment = "compare_digits"
    dataset = "~/data/train-images-idx3-ubyte"   # any Config field overrides the file
    tune = 0                                     # per dataset: tune, losses, weak_variant

The atlas (atlas.md, atlas.json, atlas.png) is a table of claims x datasets: in each cell
the verdict at that report's primary budget, the test that decides it (its mean
difference with a 95% t interval and its Holm-adjusted p), and, where a claim cannot be
judged on a dataset, why. Tuned verdicts sit beside the paper-settings ones. Everything
in it is read back from the per-dataset summary.json files: rerunning on a finished
study trains nothing and rewrites the same atlas.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

from gancli import config_io, presets
from gancli.config import ConfigError
from gancli.report.claims import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, primary_row
from gancli.run import files

STUDY_KEYS = ("tune", "tune_seeds", "budget", "name", "datasets")
ENTRY_KEYS = ("experiment", "tune", "losses", "weak_variant")
COMPARISON_KEYS = ("escape_steps", "primary_budget", "probe_trained_steps")  # Comparison fields
SETTINGS = ("paper", "tuned")  # the two columns of every dataset
CLAIM_NAMES = ("1. minimax gradient vanishes", "2. GANs collapse", "3. WGAN loss tracks",
               "4. WGAN survives a weak G")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    experiment: Path
    overrides: dict  # Config fields over the experiment file
    tune: int
    losses: str | None = None
    weak_variant: str | None = None
    comparison: dict = dataclasses.field(default_factory=dict)  # COMPARISON_KEYS set here


@dataclasses.dataclass(frozen=True)
class Study:
    path: Path
    name: str
    budget: str
    tune_seeds: int
    entries: tuple[Entry, ...]


def _int(value: Any, where: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(f"{where} must be an integer >= {low}, got {value!r}")
    return value


def load_study(path: str | Path) -> Study:
    """A study file (or a shipped one by name, e.g. `atlas_quick`), every dataset's
    comparison checked before anything trains."""
    path = presets.find(path)
    values = config_io.read_toml(path)
    unknown = sorted(set(values) - set(STUDY_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} (a study file has "
                          f"{', '.join(STUDY_KEYS)})")  # fmt: skip
    tables = values.get("datasets")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: no [datasets.NAME] tables (one per dataset of the atlas)")
    tune = _int(values.get("tune", 0), f"tune in {path}", 0)
    if tune == 1:
        raise ConfigError(f"tune in {path} must be 0 (no tuning) or at least 2 points")
    entries = []
    for name, table in tables.items():
        where = f"[datasets.{name}] in {path}"
        if not isinstance(table, dict) or "experiment" not in table:
            raise ConfigError(f"{where}: needs experiment = a compare-losses file")
        exp = Path(str(table["experiment"])).expanduser()
        exp = path.parent / exp if not exp.is_absolute() and (path.parent / exp).exists() else exp
        fields = {k: v for k, v in table.items() if k not in ENTRY_KEYS + COMPARISON_KEYS}
        extra = {k: _int(table[k], f"{k} in {where}", 6 if k == "escape_steps" else 0)
                 for k in COMPARISON_KEYS if k in table}  # fmt: skip
        if isinstance(fields.get("dataset"), str) and fields["dataset"].startswith("~"):
            fields["dataset"] = str(Path(fields["dataset"]).expanduser())  # a user's file
        config_io.from_mapping(fields, source=where)  # names and types, before any run
        entry_tune = _int(table.get("tune", tune), f"tune in {where}", 0)
        losses = table.get("losses")
        weak = table.get("weak_variant")
        entries.append(Entry(name, presets.find(exp), fields, entry_tune,
                             ",".join(losses) if isinstance(losses, list) else losses,
                             ",".join(weak) if isinstance(weak, list) else weak,
                             extra))  # fmt: skip
    tune_seeds = _int(values.get("tune_seeds", 2), f"tune_seeds in {path}", 1)
    study = Study(path, str(values.get("name", path.stem)), str(values.get("budget", "")),
                  tune_seeds, tuple(entries))  # fmt: skip
    for e in study.entries:
        comparison(e)
    return study


def comparison(entry: Entry):
    from gancli.studies import compare

    c = compare.load_comparison(entry.experiment, entry.overrides, entry.losses,
                                entry.weak_variant)  # fmt: skip
    if entry.comparison:
        c = dataclasses.replace(c, **entry.comparison)
        compare.check_primary(c)
    return c


def run_study(study: Study, out: str | Path, quiet: bool = False, log=print,
              force: bool = False, only: list[str] | None = None) -> dict:  # fmt: skip
    """Train (or resume, or skip) every dataset's comparison and its tuned twin, then
    write the atlas. Datasets run in the file's order; each report is written as soon
    as its runs finish, so a stopped study keeps every finished dataset."""
    from gancli.studies import compare
    from gancli.studies.tune import run_tuning

    out = Path(out)
    names = [e.name for e in study.entries]
    bad = [n for n in only or [] if n not in names]
    if bad:
        raise ConfigError(f"--only: no dataset {', '.join(bad)} in {study.path} "
                          f"(it has {', '.join(names)})")  # fmt: skip
    chosen = [e for e in study.entries if not only or e.name in only]
    for e in chosen:  # refuse any stale run before training any
        c = comparison(e)
        runs = [(n, c.config_for(loss, weak), out / e.name / n) for n, loss, weak in c.run_names()]
        compare.plan_runs(runs, force)
        compare.check_declared(c, out / e.name, force)
    out.mkdir(parents=True, exist_ok=True)
    walls = _read_walls(out)
    for e in chosen:
        t0, started = time.perf_counter(), time.time()
        log(f"atlas: {e.name} ({e.experiment.name}{', tuned' if e.tune else ''})")
        c = comparison(e)
        compare.run_comparison(c, out / e.name, quiet=quiet, log=log, force=force)
        if e.tune:
            run_tuning(c, out / e.name, e.tune, study.tune_seeds, quiet, log, force)
        if _trained_since(out / e.name, started):  # a re-render adds nothing
            walls[e.name] = walls.get(e.name, 0.0) + round(time.perf_counter() - t0, 1)
            files.write_json(out / "walls.json", walls)
    return write_atlas(study, out)


def _trained_since(folder: Path, since: float) -> bool:
    """Whether any run under `folder` logged a training step after `since` (a run appends
    to its metrics.jsonl as it trains; a report re-rendered from finished runs does not)."""
    return any(p.stat().st_mtime >= since for p in folder.glob("**/metrics.jsonl"))


def _read_walls(out: Path) -> dict:
    try:
        return json.loads((out / "walls.json").read_text())
    except (OSError, ValueError):
        return {}


# ---- the atlas: read back, one cell per claim x dataset x setting ---------------------------


def _p(t: dict) -> float:
    v = t.get("p_adj") if t.get("p_adj") is not None else t.get("p")
    return v if isinstance(v, int | float) and math.isfinite(v) else math.inf


def deciding_test(row: dict) -> dict | None:
    """The test a verdict rests on, by the family's rule (`decide` records it: "all" of
    its tests had to be significant, or "any" one). Supported under "all": the weakest
    significant test for the claim (the largest adjusted p; every one had to pass); under
    "any": the strongest. Not supported, the same for the tests against it. Inconclusive:
    under "all", the test for the claim that fell shortest (largest p); under "any", the
    one that came closest (smallest p), since one would have been enough."""
    tests = row.get("tests") or {}
    rule = tests.get("rule") or {"forward": "all", "reverse": "any"}
    fwd, rev = tests.get("forward", []), tests.get("reverse", [])

    def pick(family: list[dict], how: str) -> dict | None:
        return (max if how == "all" else min)(family, key=_p) if family else None

    if row.get("verdict") == SUPPORTED:
        return pick([t for t in fwd if t.get("significant")], rule["forward"])
    if row.get("verdict") == NOT_SUPPORTED:
        return pick([t for t in rev if t.get("significant")], rule["reverse"])
    return pick([t for t in fwd if not t.get("significant")], rule["forward"])


TEST_FIELDS = ("label", "name", "n_a", "n_b", "effect", "diff", "diff_lo", "diff_hi",
               "diff_what", "p", "p_adj", "family", "inconclusive_reason")  # fmt: skip


def cell(claim: dict | None, why_missing: str = "") -> dict:
    """One atlas cell from a claim of a summary.json (None: the report does not exist).
    A claim is judged when at least one test for it could run (a finite p); the cell
    counts, per family, how many tests were significant of how many."""
    if claim is None:
        return {"verdict": None, "why": why_missing or "not run"}
    row = primary_row(claim.get("by_budget", []), claim.get("primary_budget")) or {}
    verdict = claim.get("verdict", INCONCLUSIVE)
    out = {"verdict": verdict, "budget": claim.get("primary_budget"), "why": claim.get("why", "")}
    tests = row.get("tests") or {}
    if not any(_p(t) < math.inf for t in tests.get("forward", [])):
        out["judged"] = False  # no test could run: the why says why
        return out
    rule = tests.get("rule") or {"forward": "all", "reverse": "any"}
    out["counts"] = {
        family: {
            "significant": sum(bool(t.get("significant")) for t in tests.get(family, [])),
            "of": len(tests.get(family, [])),
            "rule": rule[family],
        }  # fmt: skip
        for family in ("forward", "reverse")
    }
    t = deciding_test({**row, "verdict": verdict})
    if t is not None:
        out["test"] = {k: t.get(k) for k in TEST_FIELDS}
    out["judged"] = True
    return out


def _train_wall(folder: Path, summary: dict, tuning: Path | None = None) -> float | None:
    """Seconds the report's runs took, as they recorded it (claim 1's probe included, and
    for the tuned report the tuning runs in `tuning`): the cost of the cell, not of this
    command."""
    walls = [r.get("wall_time_s") for r in summary.get("runs", {}).values()]
    for f in sorted(tuning.glob("*/summary.json")) if tuning else []:
        walls.append((_summary(f) or {}).get("wall_time_s"))
    walls.append((_summary(folder / "escape_probe.json") or {}).get("wall_time_s"))
    known = [w for w in walls if isinstance(w, int | float)]
    return round(sum(known), 1) if known else None


def _summary(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def build_atlas(study: Study, out: Path) -> dict:
    datasets = []
    walls = _read_walls(out)
    for e in study.entries:
        reports = {"paper": out / e.name, "tuned": out / e.name / "tuned"}
        cols = {}
        meta = {}
        for setting, folder in reports.items():
            summary = _summary(folder / "summary.json")
            if summary is None:
                why = ("tune = 0 for this dataset" if setting == "tuned" and not e.tune
                       else "no report yet")  # fmt: skip
                cols[setting] = [cell(None, why) for _ in CLAIM_NAMES]
                continue
            claims = summary.get("claims", [])
            cols[setting] = [cell(claims[i] if i < len(claims) else None)
                             for i in range(len(CLAIM_NAMES))]  # fmt: skip
            tuning = out / e.name / "tune" if setting == "tuned" else None  # its cost
            meta[setting] = {"report": str((folder / "report.md").relative_to(out)),
                             "train_wall_s": _train_wall(folder, summary, tuning),
                             "seeds": len(summary.get("seeds", [])),
                             "steps": summary.get("steps"),
                             "primary_budget": summary.get("primary_budget"),
                             "dataset": summary.get("dataset")}  # fmt: skip
        datasets.append({"name": e.name, "experiment": str(e.experiment.name),
                         "tune": e.tune, "wall_time_s": walls.get(e.name),
                         "cells": cols, "reports": meta})  # fmt: skip
    return {
        "study": study.name,
        "file": str(study.path.name),
        "budget": study.budget,
        "claims": list(CLAIM_NAMES),
        "settings": list(SETTINGS),
        "datasets": datasets,
    }


def write_atlas(study: Study, out: Path) -> dict:
    from gancli.report.atlas import plot_atlas, render_atlas

    atlas = build_atlas(study, Path(out))
    report = files.ReportDir(out)
    report.write_json("atlas.json", atlas)
    plot_atlas(atlas, report / "atlas.png")
    report.write("atlas.md", render_atlas(atlas))
    return files.json_safe(atlas)

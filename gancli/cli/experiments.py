"""The commands that train: `train`, `compare-losses` and `reproduce`."""

import dataclasses
from pathlib import Path
from typing import Annotated, Literal

import typer

from gancli import config as config_lib
from gancli import config_help, config_io, presets
from gancli.cli.app import app, log, out, print_json
from gancli.cli.options import (
    COMPARE,
    ConfigFile,
    Json,
    Quiet,
    Set,
    config_flags,
    examples,
    force,
    overrides,
)
from gancli.cli.tables import comparison_tables, metric_table, result_line, rows_table
from gancli.config import LOSS_NAMES, ConfigError
from gancli.run.rundir import check_creatable, fresh_run_dir

BUDGETS = config_lib.REPRODUCE_BUDGETS

EXAMPLE_TRAIN = examples(
    "gancli train --loss nsgan --dataset ring8 --seeds 4 --steps 5000",
    "# 3 clips x 2 learning rates x 4 seeds: 24 replicas in one program",
    "gancli train --loss wgan --clip 0.005,0.01,0.02 --lr-d 5e-5,2e-4 --seeds 4",
    "gancli train --loss wgan --clip 0.01 --n-critic 5 --seeds 8 --out runs/w",
    "gancli train --config wgan_paper_ring8 --steps 2000",
    "gancli train --loss wgan --set beta2=0.9 --set eval_samples=5000",
    "gancli train --config demo_nsgan_ring8 --seeds 2 --print-config",
    "gancli train --resume runs/w --steps 10000",
)


@app.command(short_help="Train a GAN over many seeds; write a run directory.", epilog=EXAMPLE_TRAIN)
@config_flags("train", sweep=True)
def train(
    flags: dict,
    sets: Set = None,
    config: ConfigFile = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run directory; refused if it holds another run (default: the first free "
            "of runs/LOSS-DATASET, runs/LOSS-DATASET-2, ...).",
        ),
    ] = None,
    force: force("a non-empty --out directory") = False,
    resume: Annotated[
        Path | None, typer.Option(help="Continue RUN_DIR from its latest checkpoint.")
    ] = None,
    from_step: Annotated[
        int | None,
        typer.Option(
            help="With --resume: continue from this checkpoint step instead; the checkpoints "
            "after it are deleted and the logs cut back to it."
        ),
    ] = None,
    print_config: Annotated[
        bool,
        typer.Option(
            "--print-config",
            help="Print the resolved experiment as TOML, every field with its meaning, and "
            "exit without training (rerunnable as --config).",
        ),
    ] = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train a GAN over many seeds at once and write a run directory."""
    from gancli.run import runner

    flags = overrides(flags, sets)
    if from_step is not None and resume is None:
        raise ConfigError("--from-step needs --resume RUN_DIR")
    if resume is not None:
        if config is not None or out_dir is not None:
            raise ConfigError("--resume continues a run with its saved config: drop --config/--out")
        if print_config:
            saved = runner.RunDir(resume).saved_config()
            if saved is None:
                raise ConfigError(f"--resume {resume}: no config.toml in it")
            print(config_help.annotated_toml(runner.check_resume_overrides(saved, flags)), end="")
            return
        result = runner.resume(resume, flags, quiet=quiet, step=from_step)
    else:
        base, given = config_lib.Config(), set(flags)
        if config is not None:
            path = presets.find(config)
            base, given = config_io.load(path), given | set(config_io.file_settings(path))
        cfg = config_lib.resolve(config_io.from_mapping(flags, base, source="flags"))
        for line in config_lib.ignored_settings(cfg, given):
            log(f"warning: {line}")
        if print_config:
            print(config_help.annotated_toml(cfg), end="")
            return
        target = out_dir
        if target is None:  # a fresh directory each time, as Lightning's version_N
            target = fresh_run_dir(Path("runs") / f"{cfg.loss}-{Path(cfg.dataset).stem}", cfg)
            if not quiet:
                log(f"run directory: {target}")
        result = runner.train(cfg, target, force=force, quiet=quiet)
    if as_json:
        print_json(result.summary)
        return
    if not quiet:
        title = f"{result.cfg.loss} on {result.cfg.dataset}, step {result.step}"
        out.print(metric_table(title, result.seeds, result.summary))
    out.print(result_line(result.summary, result.run_dir), highlight=False, soft_wrap=True)


@app.command(
    name="compare-losses",
    short_help="Train every loss on the same seeds; judge the claims.",
    epilog=examples(
        "gancli compare-losses --dataset ring8 --seeds 8",
        "gancli compare-losses --config compare_grid25 --out reports/grid",
        "gancli compare-losses --dataset digits --losses nsgan,wgan --steps 2000",
    ),
)
@config_flags("compare-losses", COMPARE)
def compare_losses(
    flags: dict,
    losses: Annotated[
        str | None,
        typer.Option(help=f"Comma-separated losses.  [default: {','.join(LOSS_NAMES)}]"),
    ] = None,
    sets: Set = None,
    escape_steps: Annotated[
        int | None,
        typer.Option(help="Claim 1: generator steps after D rejects, per generator loss."),
    ] = None,
    weak_variant: Annotated[
        str | None,
        typer.Option(
            help="Weaker generators for the robustness claim (comma-separated, of "
            f"{', '.join(config_lib.GENERATOR_VARIANTS[1:])}), auto or none.  "
            "[default: auto: thin for 2-D data; nobn-const,mlp for images, the WGAN paper's]",
        ),
    ] = None,
    config: ConfigFile = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report directory (default reports/DATASET).")
    ] = None,
    force: force("runs in --out trained with other settings (same settings: reused)") = False,
    tune: Annotated[
        int | None,
        typer.Option(
            help="Also compare every loss at its best: K points from its search space on "
            "tuning seeds, the best retrained on the comparison's seeds (see tune.md)."
        ),
    ] = None,
    tune_seeds: Annotated[int, typer.Option(help="Tuning seeds per point (with --tune).")] = 2,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Train every loss over the same seeds and data; report and test the theory's claims."""
    from gancli.studies import compare

    flags = overrides(flags, sets)
    if "loss" in flags:
        raise ConfigError("compare-losses trains every loss of --losses: drop --set loss")
    if tune is not None and tune < 2:
        raise ConfigError(f"--tune must be at least 2 points, got {tune}")
    if tune_seeds < 1:
        raise ConfigError(f"--tune-seeds must be at least 1, got {tune_seeds}")
    if config is not None:
        config = presets.find(config)
        loss = config_io.read_toml(config).get("loss")
        if loss is not None:
            log(
                f"warning: loss = {loss!r} in {config} is ignored: compare-losses trains every "
                "loss of --losses (in a file: losses = [...])"
            )
    comparison = compare.load_comparison(config, flags, losses, weak_variant)
    if escape_steps is not None:
        if escape_steps < 6:
            raise ConfigError(f"--escape-steps must be at least 6, got {escape_steps}")
        comparison = dataclasses.replace(comparison, escape_steps=escape_steps)
    target = out_dir or Path("reports") / Path(comparison.base.dataset).stem
    check_creatable(target, "--out")
    result = compare.run_comparison(comparison, target, quiet=quiet, log=log, force=force)
    tuned = None
    if tune is not None:
        from gancli.studies.tune import run_tuning

        tuned = run_tuning(comparison, target, tune, tune_seeds, quiet, log, force)
    if as_json:
        print_json(result if tuned is None else {**result, "tuning": tuned})
        return
    keep = ["modes", "classes", "hq_frac", "mode_kl", "class_kl", "w1", "fd", "fd_pixels"]
    out.print(comparison_tables(result, [m for m in result["metrics"] if m in keep]))
    for i, c in enumerate(result["claims"], 1):
        out.print(f"{i}. {c['claim']} [bold]{c['headline']}[/bold].", highlight=False)
    out.print(f"report: {target / 'report.md'} (and report.html, summary.csv, plots/)")
    if tuned is not None:
        from gancli.report.render import fmt_ci

        metric = tuned["metric"]
        for loss, r in tuned["losses"].items():
            point = ", ".join(f"{k} {v:.3g}" for k, v in r["best_point"].items())
            held = fmt_ci(tuned["held_out"][loss]["ci95"][metric])
            out.print(f"tuned {loss}: {point}; held-out {metric} {held}", highlight=False)
        for i, c in enumerate(tuned["claims_held_out"], 1):
            out.print(f"{i}. (tuned) {c['claim']} [bold]{c['headline']}[/bold].", highlight=False)
        out.print(
            f"tuning: {target / 'tune.md'}; held-out report: {target / 'tuned' / 'report.md'}"
        )


@app.command(
    short_help="The four claims judged on every dataset of a study.",
    epilog=examples(
        "gancli atlas atlas_quick                 # ~10 min: ring8, grid25, digits",
        "gancli atlas atlas --out docs/results/atlas",
        "gancli atlas my_study.toml --only digits",
    ),
)
def atlas(
    study: Annotated[
        Path, typer.Argument(help="A study file, or a shipped one's name (atlas, atlas_quick).")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory (default reports/atlas/STUDY).")
    ] = None,
    only: Annotated[
        str | None, typer.Option(help="Comma-separated datasets of the study (default all).")
    ] = None,
    force: force("runs in --out trained with other settings (same settings: reused)") = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Run compare-losses (and its tuned twin) on every dataset of a study file; write the
    claims atlas: verdicts, deciding effects and Holm p per claim and dataset."""
    from gancli.report.atlas import cell_text
    from gancli.studies import atlas as atlas_lib

    s = atlas_lib.load_study(study)
    target = out_dir or Path("reports") / "atlas" / s.path.stem
    check_creatable(target, "--out")
    chosen = [n.strip() for n in only.split(",") if n.strip()] if only else None
    result = atlas_lib.run_study(s, target, quiet=quiet, log=log, force=force, only=chosen)
    if as_json:
        print_json(result)
        return
    for which in result["settings"]:
        header = ["claim", *(d["name"] for d in result["datasets"])]
        rows = [[claim, *(cell_text(d["cells"][which][i], "short").replace("\n", " ")
                          for d in result["datasets"])]
                for i, claim in enumerate(result["claims"])]  # fmt: skip
        out.print(rows_table(f"{which} settings", header, rows, keys=(0,)))
    out.print(f"atlas: {target / 'atlas.md'} (and atlas.png, atlas.json)", highlight=False)


@app.command(
    short_help="Rerun a published 2-D GAN row: paper vs ours, 95% CIs.",
    epilog=examples(
        "gancli reproduce pacgan_ring",
        "gancli reproduce pacgan_grid --variants nsgan,wgan",
        "gancli reproduce veegan_grid --budget full --json",
    ),
)
def reproduce(
    preset: Annotated[
        Path, typer.Argument(help="A preset's name (see `gancli presets`) or its file.")
    ],
    budget: Annotated[
        Literal[BUDGETS],
        typer.Option(parser=str, help="reduced (under ~1 h on 2 CPU cores) or the paper's."),
    ] = "reduced",
    epochs: Annotated[
        int | None,
        typer.Option(help="Any budget in epochs (passes over the training set), not --budget."),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Any budget in generator steps, not --budget.")
    ] = None,
    variants: Annotated[
        str | None, typer.Option(help="Comma-separated variants of the preset (default all).")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Seeds per variant (default: the paper's run count).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory (default reports/reproduce/PRESET).")
    ] = None,
    force: force("variants in --out trained with other settings (same settings: reused)") = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Rerun a published 2-D GAN row over the paper's seeds: paper vs ours, 95% CIs."""
    from gancli.studies import reproduce as rep
    from gancli.studies import reproduce_preset

    p = reproduce_preset.load_preset(preset)
    budget = reproduce_preset.budget_name(budget, epochs, steps)
    chosen = [v.strip() for v in variants.split(",") if v.strip()] if variants else None
    target = out_dir or Path("reports") / "reproduce" / p.name
    check_creatable(target, "--out")
    report = rep.run_preset(p, target, budget, chosen, seeds, quiet=quiet, log=log, force=force)
    if as_json:
        print_json(report)
        return
    from gancli.report.reproduce import table_rows

    header, rows = table_rows(report)
    title = f"{p.paper.get('name', p.name)}: paper vs ours ({report['ci']})"
    for note in sorted({st["note"] for st in report["stages"]}):
        out.print(note, highlight=False, soft_wrap=True)
    out.print(rows_table(title, header, rows, keys=(0, 1, 3)))  # variant, steps, metric
    out.print(f"paper ±: {p.paper.get('pm', 'not stated')}", highlight=False, soft_wrap=True)
    out.print(f"report: {target / 'report.md'} (and report.json)", highlight=False)

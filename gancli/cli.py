"""The `gancli` command line: parse, build a config, call one function, print.

Diagnostics go to stderr, results to stdout. Known errors become one line on stderr and
a non-zero exit code (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.exceptions import TyperException

from gancli import config as config_lib
from gancli.config import ConfigError

app = typer.Typer(
    name="gancli",
    help="GAN experiments on JAX: many seeds in one compiled program.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console()
if not out.is_terminal and "COLUMNS" not in os.environ:
    # Piped to a file or a log: rich would squeeze tables to 80 columns and wrap every
    # cell; keep them whole (COLUMNS still wins when set).
    out = Console(width=200)
err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from importlib import metadata

        out.print(f"gancli {metadata.version('gancli')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version, exit."
        ),
    ] = False,
) -> None:
    """GAN experiments on JAX: many seeds in one compiled program."""


EXAMPLE_TRAIN = """
Examples:

  gancli train --loss nsgan --dataset ring8 --seeds 4 --steps 5000

  gancli train --loss wgan --clip 0.005,0.01,0.02 --lr-d 5e-5,2e-4 --seeds 4   # 24 replicas

  gancli train --loss wgan --clip 0.01 --n-critic 5 --seeds 8 --out runs/w

  gancli train --config experiments/wgan_paper_ring8.toml --steps 2000

  gancli train --resume runs/w --steps 10000
"""

# ---- shared options -----------------------------------------------------------------------

_LIST = " A comma-separated list sweeps it: every combination trains in one program."
SweepClip = Annotated[
    str | None, typer.Option(help="WGAN: clip critic weights to [-clip, clip]." + _LIST)
]
SweepLrG = Annotated[str | None, typer.Option("--lr-g", help="Generator learning rate." + _LIST)]
SweepLrD = Annotated[
    str | None, typer.Option("--lr-d", help="Discriminator/critic learning rate." + _LIST)
]
SweepBeta1 = Annotated[str | None, typer.Option("--beta1", help="Adam beta1." + _LIST)]
SweepBeta2 = Annotated[str | None, typer.Option("--beta2", help="Adam beta2." + _LIST)]

Loss = Annotated[str | None, typer.Option(help="gan (minimax), nsgan (non-saturating) or wgan.")]
Dataset = Annotated[
    str | None, typer.Option(help="ring8, grid25, ring8-pacgan, digits, or an IDX/.npz path.")
]
Steps = Annotated[int | None, typer.Option(help="Generator updates in total.")]
Seeds = Annotated[int | None, typer.Option(help="Independent replicas trained together.")]
Seed = Annotated[int | None, typer.Option(help="Base seed: replica i uses seed + i.")]
Clip = Annotated[float | None, typer.Option(help="WGAN: clip critic weights to [-clip, clip].")]
NCritic = Annotated[
    int | None, typer.Option("--n-critic", help="Critic updates per generator update.")
]
BatchSize = Annotated[int | None, typer.Option(help="Batch size for both players.")]
LrG = Annotated[float | None, typer.Option("--lr-g", help="Generator learning rate.")]
LrD = Annotated[float | None, typer.Option("--lr-d", help="Discriminator/critic learning rate.")]
Optimizer = Annotated[str | None, typer.Option(help="adam, rmsprop or sgd.")]
ZDim = Annotated[int | None, typer.Option("--z-dim", help="Latent dimension.")]
Hidden = Annotated[int | None, typer.Option(help="Width (MLP units; DCGAN features).")]
Depth = Annotated[int | None, typer.Option(help="MLP hidden layers.")]
Variant = Annotated[
    str | None,
    typer.Option(
        help="Generator variant: default, narrow (1/2 width), thin (1/8); images also nobn, "
        "nobn-const (no batchnorm, constant filters), mlp (4x512 MLP)."
    ),
]
LogEvery = Annotated[int | None, typer.Option(help="Steps between logged metrics.")]
EvalEvery = Annotated[int | None, typer.Option(help="Steps between quality evaluations.")]
CkptEvery = Annotated[int | None, typer.Option(help="Steps between checkpoints.")]
Keep = Annotated[int | None, typer.Option(help="Newest checkpoints kept.")]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML experiment file; flags override it.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def json_safe(obj):
    """JSON has no NaN or Infinity: non-finite floats become null."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _rows_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    """A table of preformatted cells, right-aligned (compare-losses, reproduce)."""
    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="right")
    for r in rows:
        table.add_row(*r)
    return table


def _overrides(**flags) -> dict:
    return {k: v for k, v in flags.items() if v is not None}


def _metric_table(title: str, rows: list[dict], summary: dict | None = None) -> Table:
    """Per replica rows; a sweep's rows grouped by point, each group with its mean."""
    table = Table(title=title)
    swept = (summary or {}).get("swept", [])
    skip = ("seed", "diverged_at", "step", "diverged", *swept)
    names = [k for k in rows[0] if k not in skip]
    for c in ("seed", *swept):
        table.add_column(c, justify="right")
    for n in names:
        table.add_column(n, justify="right")
    table.add_column("status")

    def fmt(v) -> str:
        if v is None:
            return "-"
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    def add(r):
        status = f"diverged@{r['diverged_at']}" if r.get("diverged_at") is not None else "ok"
        labels = [str(r["seed"]), *(fmt(r[k]) for k in swept)]
        table.add_row(*labels, *[fmt(r.get(n)) for n in names], status)

    blank = [""] * len(swept)
    if swept:
        per = len(rows) // len(summary["points"])
        for p, point in enumerate(summary["points"]):
            for r in rows[p * per : (p + 1) * per]:
                add(r)
            cis = [point["ci95"].get(n) or [None, None] for n in names]
            means = [fmt(point["mean"].get(n)) for n in names]
            table.add_row("mean", *(fmt(point[k]) for k in swept), *means, "", style="bold")
            table.add_row("95% CI", *blank, *[f"{fmt(lo)}..{fmt(hi)}" for lo, hi in cis], "")
            table.add_section()
        return table
    for r in rows:
        add(r)
    if summary:
        table.add_section()
        table.add_row("mean", *[fmt(summary["mean"].get(n)) for n in names],
                      f"{summary['diverged']} diverged", style="bold")  # fmt: skip
        table.add_row("± std", *[fmt(summary["std"].get(n)) for n in names], "")
        if "ci95" in summary:
            cis = [summary["ci95"].get(n) or [None, None] for n in names]
            table.add_row("95% CI", *[f"{fmt(lo)}..{fmt(hi)}" for lo, hi in cis], "bootstrap")
    return table


# ---- commands -----------------------------------------------------------------------------


@app.command(epilog=EXAMPLE_TRAIN)
def train(
    loss: Loss = None,
    dataset: Dataset = None,
    steps: Steps = None,
    seeds: Seeds = None,
    seed: Seed = None,
    clip: SweepClip = None,
    n_critic: NCritic = None,
    batch_size: BatchSize = None,
    lr_g: SweepLrG = None,
    lr_d: SweepLrD = None,
    beta1: SweepBeta1 = None,
    beta2: SweepBeta2 = None,
    optimizer: Optimizer = None,
    z_dim: ZDim = None,
    hidden: Hidden = None,
    depth: Depth = None,
    generator_variant: Variant = None,
    critic_boost: Annotated[
        bool | None,
        typer.Option(
            "--critic-boost/--no-critic-boost",
            help="WGAN paper: 100 critic updates in the first 25 and every 500th G step.",
        ),
    ] = None,
    image_size: Annotated[int | None, typer.Option(help="Image side (image data).")] = None,
    log_every: LogEvery = None,
    eval_every: EvalEvery = None,
    checkpoint_every: CkptEvery = None,
    keep: Keep = None,
    config: ConfigFile = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Run directory (default runs/LOSS-DATASET).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty run directory.")] = False,
    resume: Annotated[
        Path | None, typer.Option(help="Continue RUN_DIR from its latest checkpoint.")
    ] = None,
    from_step: Annotated[
        int | None, typer.Option(help="With --resume: start from this checkpoint step.")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Train a GAN over many seeds at once and write a run directory."""
    from gancli import runner
    from gancli.sweep import parse_list

    swept = {"clip": clip, "lr_g": lr_g, "lr_d": lr_d, "beta1": beta1, "beta2": beta2}
    flags = _overrides(
        loss=loss, dataset=dataset, steps=steps, seeds=seeds, seed=seed,
        n_critic=n_critic, batch_size=batch_size, optimizer=optimizer,
        z_dim=z_dim, hidden=hidden, depth=depth, generator_variant=generator_variant,
        critic_boost=critic_boost, image_size=image_size, log_every=log_every,
        eval_every=eval_every, checkpoint_every=checkpoint_every, keep=keep,
        **{k: parse_list(v, "--" + k.replace("_", "-")) for k, v in swept.items() if v},
    )  # fmt: skip
    if from_step is not None and resume is None:
        raise ConfigError("--from-step needs --resume RUN_DIR")
    if resume is not None:
        if config is not None or out_dir is not None:
            raise ConfigError("--resume continues a run with its saved config: drop --config/--out")
        result = runner.resume(resume, flags, quiet=quiet, step=from_step)
    else:
        base = config_lib.load(config) if config is not None else config_lib.Config()
        cfg = config_lib.resolve(config_lib.from_mapping(flags, base, source="flags"))
        target = out_dir or Path("runs") / f"{cfg.loss}-{Path(cfg.dataset).stem}"
        result = runner.train(cfg, target, force=force, quiet=quiet)
    if not quiet:
        title = f"{result.cfg.loss} on {result.cfg.dataset}, step {result.step}"
        out.print(_metric_table(title, result.seeds, result.summary))
    out.print(f"results in {result.run_dir}")


@app.command(
    name="compare-losses",
    epilog="Examples:\n\n  gancli compare-losses --dataset ring8 --seeds 8\n\n"
    "  gancli compare-losses --config experiments/compare_grid25.toml --out reports/grid\n\n"
    "  gancli compare-losses --dataset digits --losses nsgan,wgan --steps 2000",
)
def compare_losses(
    dataset: Dataset = None,
    losses: Annotated[
        str | None, typer.Option(help="Comma-separated losses (default gan,nsgan,wgan).")
    ] = None,
    steps: Steps = None,
    seeds: Seeds = None,
    seed: Seed = None,
    batch_size: BatchSize = None,
    z_dim: ZDim = None,
    hidden: Hidden = None,
    depth: Depth = None,
    clip: Clip = None,
    n_critic: NCritic = None,
    log_every: LogEvery = None,
    eval_every: EvalEvery = None,
    escape_steps: Annotated[
        int | None,
        typer.Option(help="Claim 1: generator steps after D rejects, per generator loss."),
    ] = None,
    weak_variant: Annotated[
        str | None,
        typer.Option(
            help="Weaker generator for the robustness claim (default thin for 2-D data, "
            "nobn-const for images; any --generator-variant, or none)."
        ),
    ] = None,
    config: ConfigFile = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report directory (default reports/DATASET).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Retrain runs whose stored settings differ (else refused).")
    ] = False,
    tune: Annotated[
        int | None,
        typer.Option(
            help="Also compare every loss at its best: K points from its search space on "
            "tuning seeds, the best retrained on the comparison's seeds (see tune.md)."
        ),
    ] = None,
    tune_seeds: Annotated[int, typer.Option(help="Tuning seeds per point (with --tune).")] = 2,
    quiet: Quiet = False,
) -> None:
    """Train every loss over the same seeds and data; report and test the theory's claims."""
    from gancli import compare

    flags = _overrides(
        dataset=dataset, steps=steps, seeds=seeds, seed=seed, batch_size=batch_size, z_dim=z_dim,
        hidden=hidden, depth=depth, clip=clip, n_critic=n_critic, log_every=log_every,
        eval_every=eval_every,
    )  # fmt: skip
    if tune is not None and tune < 2:
        raise ConfigError(f"--tune must be at least 2 points, got {tune}")
    if tune_seeds < 1:
        raise ConfigError(f"--tune-seeds must be at least 1, got {tune_seeds}")
    comparison = compare.load_comparison(config, flags, losses, weak_variant)
    if escape_steps is not None:
        if escape_steps < 6:
            raise ConfigError(f"--escape-steps must be at least 6, got {escape_steps}")
        comparison = dataclasses.replace(comparison, escape_steps=escape_steps)
    target = out_dir or Path("reports") / Path(comparison.base.dataset).stem
    result = compare.run_comparison(
        comparison, target, quiet=quiet, log=lambda m: err.print(m, highlight=False), force=force
    )
    from gancli.report.build import table_rows

    keep = ["modes", "classes", "hq_frac", "mode_kl", "class_kl", "w1", "fd", "fd_pixels"]
    header, rows = table_rows({**result, "metrics": [m for m in result["metrics"] if m in keep]})
    title = f"compare-losses on {result['dataset']}: mean [95% CI] over seeds"
    out.print(_rows_table(title, header, rows))
    for i, c in enumerate(result["claims"], 1):
        out.print(f"{i}. {c['claim']} [bold]{c['headline']}[/bold].", highlight=False)
    out.print(f"report: {target / 'report.md'} (and report.html, summary.csv, plots/)")
    if tune is not None:
        from gancli.report.build import fmt_ci
        from gancli.tune import run_tuning

        log = lambda m: err.print(m, highlight=False)  # noqa: E731
        tuned = run_tuning(comparison, target, tune, tune_seeds, quiet, log, force)
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
    epilog="Examples:\n\n  gancli reproduce experiments/reproduce/pacgan_ring.toml\n\n"
    "  gancli reproduce experiments/reproduce/pacgan_grid.toml --variants nsgan,wgan\n\n"
    "  gancli reproduce experiments/reproduce/veegan_grid.toml --budget full --format json",
)
def reproduce(
    preset: Annotated[Path, typer.Argument(help="A preset in experiments/reproduce/.")],
    budget: Annotated[
        str, typer.Option(help="reduced (under ~1 h on 2 CPU cores) or full (the paper's).")
    ] = "reduced",
    variants: Annotated[
        str | None, typer.Option(help="Comma-separated variants of the preset (default all).")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Seeds per variant (default: the paper's run count).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory (default reports/reproduce/PRESET).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    quiet: Quiet = False,
) -> None:
    """Rerun a published 2-D GAN row over the paper's seeds: paper vs ours, 95% CIs."""
    from gancli import reproduce as rep

    if fmt not in ("table", "json"):
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    p = rep.load_preset(preset)
    chosen = [v.strip() for v in variants.split(",") if v.strip()] if variants else None
    target = out_dir or Path("reports") / "reproduce" / p.name
    report = rep.run_preset(
        p, target, budget, chosen, seeds, quiet=quiet, log=lambda m: err.print(m, highlight=False)
    )
    if fmt == "json":
        out.print_json(json.dumps(report))
        return
    header, rows = rep.table_rows(report)
    title = f"{p.paper.get('name', p.name)}: paper vs ours ({report['ci']})"
    for note in sorted({st["note"] for st in report["stages"]}):
        out.print(note, highlight=False, soft_wrap=True)
    out.print(_rows_table(title, header, rows))
    out.print(f"paper ±: {p.paper.get('pm', 'not stated')}", highlight=False, soft_wrap=True)
    out.print(f"report: {target / 'report.md'} (and report.json)", highlight=False)


@app.command(
    epilog="Examples:\n\n  gancli sample runs/wgan-ring8 --n 1000 --out ring.png\n\n"
    "  gancli sample runs/w --all-seeds --step 2000 --out all.npy"
)
def sample(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with checkpoints.")],
    n: Annotated[int, typer.Option("--n", help="Samples per seed.")] = 1000,
    out_file: Annotated[
        Path, typer.Option("--out", help="Output: FILE.png and FILE.npy are both written.")
    ] = Path("samples.png"),
    step: Annotated[int | None, typer.Option(help="Checkpoint step (default latest).")] = None,
    seed_index: Annotated[int, typer.Option(help="Which replica (0-based).")] = 0,
    all_seeds: Annotated[
        bool, typer.Option(help="Every replica: (S, N, ...), a panel each.")
    ] = False,
    z_seed: Annotated[int, typer.Option(help="Seed of the latent noise.")] = 0,
) -> None:
    """Draw samples from a run's checkpoint; write a PNG and a .npy."""
    from gancli import sampling

    paths = sampling.sample_to_files(run_dir, n, out_file, step, seed_index, all_seeds, z_seed)
    for p in paths:
        out.print(str(p))


@app.command(name="eval", epilog="Example:\n\n  gancli eval runs/wgan-ring8 --step 2000 --json")
def eval_(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with checkpoints.")],
    step: Annotated[int | None, typer.Option(help="Checkpoint step (default latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Recompute the quality metrics of a checkpoint for every seed."""
    from gancli import sampling

    result = sampling.evaluate_run(run_dir, step)
    if as_json:
        print(json.dumps(json_safe(result), indent=2, allow_nan=False))
        return
    out.print(_metric_table(f"{run_dir} at step {result['step']}", result["seeds"], result))


@app.command(epilog="Examples:\n\n  gancli bench\n\n  gancli bench --quick --json bench.json")
def bench(
    quick: Annotated[bool, typer.Option(help="A few small configurations.")] = False,
    steps: Annotated[int | None, typer.Option(help="Timed steps per configuration.")] = None,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
    profile: Annotated[
        bool, typer.Option(help="Also profile each configuration: op time by kind.")
    ] = False,
    sweep: Annotated[
        bool,
        typer.Option(
            help="Time a 16-point x 2-seed sweep (one process) against 16 single-point "
            "`gancli train` processes, whole process; --steps sets the steps (default 1000)."
        ),
    ] = False,
    sweep_model: Annotated[
        str, typer.Option(help="With --sweep: default (128x3, batch 256) or narrow (64x3, 64).")
    ] = "default",
) -> None:
    """Throughput: seed-steps/s, compile time, memory, fraction of matmul peak."""
    from gancli.bench import suite as bench_lib

    if steps is not None and steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {steps}")
    log = lambda m: err.print(m, highlight=False, soft_wrap=True)  # noqa: E731
    if sweep:
        from gancli.bench.sweep import run_sweep_bench

        if sweep_model not in ("default", "narrow"):
            raise ConfigError(f"--sweep-model must be default or narrow, got {sweep_model!r}")
        result = run_sweep_bench(steps=steps or 1000, log=log, model=sweep_model)
        out.print(
            f"{result['model']}: "
            f"sweep of {result['points']} points x {result['seeds']} seeds x {result['steps']} "
            f"steps: {result['sweep_wall_s']} s in one process (peak RSS "
            f"{result['sweep_peak_rss_mib']} MiB); {result['separate_wall_s']} s as "
            f"{result['points']} processes; speed-up {result['speedup']}x"
        )
        if as_json is not None:
            as_json.write_text(json.dumps(result, indent=2) + "\n")
        return
    result = bench_lib.run_bench(quick=quick, steps=steps, log=log, profile=profile)
    for t in bench_lib.format_table(result):
        out.print(t)
    if as_json is not None:
        as_json.write_text(json.dumps(result, indent=2, default=str) + "\n")
        out.print(f"figures in {as_json}")


@app.command(
    epilog="Example:\n\n  XLA_FLAGS=--xla_force_host_platform_device_count=4 gancli devices"
)
def devices() -> None:
    """Print the JAX backend and the devices it sees."""
    import jax

    out.print(f"backend: {jax.default_backend()}")
    out.print(f"processes: {jax.process_count()} (this is process {jax.process_index()})")
    for d in jax.devices():
        out.print(f"  {d.id}: {d.device_kind} {d}")


# ---- entry point --------------------------------------------------------------------------


def _known_errors() -> tuple[type[BaseException], ...]:
    from gancli.checkpoint import CheckpointError
    from gancli.data.images import DataError
    from gancli.loop import TrainingStopped
    from gancli.rundir import RunDirError

    return ConfigError, DataError, CheckpointError, TrainingStopped, RunDirError


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) the exit code."""
    args = sys.argv[1:] if argv is None else argv
    code = 0
    from gancli.cpu_ops import unroll_threefry_on_cpu
    from gancli.jaxsetup import (
        check_platforms,
        enable_compilation_cache,
        maybe_initialize_distributed,
        quiet_library_logs,
    )

    enable_compilation_cache()
    unroll_threefry_on_cpu()
    quiet_library_logs()
    try:
        maybe_initialize_distributed()
        check_platforms()
        app(args=args, prog_name="gancli", standalone_mode=False)
    except TyperException as e:  # Typer's (vendored click's) usage errors
        ctx = getattr(e, "ctx", None)
        if type(e).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            code = 0
        else:
            cmd = ctx.command_path if ctx is not None else "gancli"
            err.print(
                f"error: {e.format_message()} (see `{cmd} --help`)", highlight=False, soft_wrap=True
            )
            code = e.exit_code
    except typer.Exit as e:
        code = e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted", highlight=False, soft_wrap=True)
        code = 130
    except _known_errors() as e:
        err.print(f"error: {e}", highlight=False, soft_wrap=True)
        code = getattr(e, "exit_code", 2)
    if argv is None:
        sys.exit(code)
    return code

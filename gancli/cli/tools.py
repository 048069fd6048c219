"""The commands around runs: `sample`, `eval`, `bench` and `devices`."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from gancli.bench.sweep import MODELS as SWEEP_MODELS
from gancli.cli.app import app, log, out, print_json
from gancli.cli.options import Json, Quiet, RunDirArg, Step, examples, force
from gancli.cli.tables import means_line, metric_table
from gancli.config import ConfigError


@app.command(
    short_help="Draw samples from a checkpoint: a PNG and a .npy.",
    epilog=examples(
        "gancli sample runs/wgan-ring8 --n 1000 --out ring.png",
        "gancli sample runs/w --all-seeds --step 2000 --out all.npy --force",
    ),
)
def sample(
    run_dir: RunDirArg,
    n: Annotated[int, typer.Option("--n", help="Samples per seed.")] = 1000,
    out_file: Annotated[
        Path, typer.Option("--out", help="Output: FILE.png and FILE.npy are both written.")
    ] = Path("samples.png"),
    step: Step = None,
    seed_index: Annotated[
        int | None, typer.Option(help="Which replica (0-based).  [default: 0]")
    ] = None,
    all_seeds: Annotated[
        bool, typer.Option("--all-seeds", help="Every replica: (S, N, ...), a panel each.")
    ] = False,
    z_seed: Annotated[int, typer.Option(help="Seed of the latent noise.")] = 0,
    force: force("an existing FILE.png or FILE.npy") = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Draw samples from a run's checkpoint; write a PNG and a .npy."""
    from gancli.run import sampling

    if all_seeds and seed_index is not None:
        raise ConfigError("--seed-index picks one replica and --all-seeds every one: give one")
    seed_index = seed_index or 0
    paths = sampling.sample_to_files(
        run_dir, n, out_file, step, seed_index, all_seeds, z_seed, force=force
    )
    if as_json:
        print_json({"files": [str(p) for p in paths]})
        return
    out.print(" ".join(str(p) for p in paths), highlight=False, markup=False, soft_wrap=True)


@app.command(
    name="eval",
    short_help="Recompute a checkpoint's quality metrics per seed.",
    epilog=examples("gancli eval runs/wgan-ring8 --step 2000 --json"),
)
def eval_(
    run_dir: RunDirArg, step: Step = None, quiet: Quiet = False, as_json: Json = False
) -> None:
    """Recompute the quality metrics of a checkpoint for every seed."""
    from gancli.run import sampling

    result = sampling.evaluate_run(run_dir, step)
    if as_json:
        print_json(result)
        return
    if not quiet:
        out.print(metric_table(f"{run_dir} at step {result['step']}", result["seeds"], result))
    out.print(means_line(result, f"{run_dir} at step {result['step']}"), highlight=False,
              markup=False, soft_wrap=True)  # fmt: skip


@app.command(
    short_help="Speed: seed-steps/s, compile time, memory, % of peak.",
    epilog=examples(
        "gancli bench",
        "gancli bench --only mlp-wide-nsgan-S8",
        "gancli bench --quick --json > bench.json",
    ),
)
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A few small configurations.")] = False,
    steps: Annotated[int | None, typer.Option(help="Timed steps per configuration.")] = None,
    as_json: Json = False,
    only: Annotated[
        str | None,
        typer.Option(
            metavar="NAME,...",
            help="Only these configurations (names as in the table, e.g. mlp-wide-nsgan-S8).",
        ),
    ] = None,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="Also profile each configuration: op time by kind, and its "
            "matmuls each timed alone (the ceiling for % of peak).",
        ),
    ] = False,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep",
            help="Time a 16-point x 2-seed sweep (one process) against 16 single-point "
            "`gancli train` processes, whole process; --steps sets the steps (default 1000).",
        ),
    ] = False,
    sweep_model: Annotated[
        Literal[tuple(SWEEP_MODELS)],
        typer.Option(
            parser=str, help="With --sweep: default (128x3, batch 256) or narrow (64x3, 64)."
        ),
    ] = "default",
) -> None:
    """Throughput: seed-steps/s, compile time, memory, fraction of matmul peak."""
    from gancli.bench import suite as bench_lib
    from gancli.bench.table import format_table

    if steps is not None and steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {steps}")
    if sweep_model not in SWEEP_MODELS:  # checked before minutes of benchmarking, not after
        raise ConfigError(f"--sweep-model must be {' or '.join(SWEEP_MODELS)}, got {sweep_model!r}")
    if sweep:
        from gancli.bench.sweep import run_sweep_bench

        result = run_sweep_bench(steps=steps or 1000, log=log, model=sweep_model)
        if as_json:
            print_json(result)
            return
        out.print(
            f"{result['model']}: "
            f"sweep of {result['points']} points x {result['seeds']} seeds x {result['steps']} "
            f"steps: {result['sweep_wall_s']} s in one process (peak RSS "
            f"{result['sweep_peak_rss_mib']} MiB); {result['separate_wall_s']} s as "
            f"{result['points']} processes; speed-up {result['speedup']}x"
        )
        for side, label in (("sweep_split_s", "sweep"), ("separate_split_s", "separate")):
            parts = result[side]
            out.print(
                f"  {label}: start-up {parts['startup_s']:.1f} s, compile + evaluation "
                f"{parts['compile_eval_s']:.1f} s, training {parts['train_s']:.1f} s"
            )
        out.print(
            "  ceiling (the separate processes against the sweep's training alone): "
            f"{result['speedup_ceiling']}x"
        )
        return
    configs = None
    if only is not None:
        from gancli.bench.configs import CONFIGS

        configs = [name.strip() for name in only.split(",") if name.strip()]
        unknown = [name for name in configs if name not in CONFIGS]
        if unknown or not configs:
            raise ConfigError(
                f"--only: unknown configuration {', '.join(unknown) or repr(only)}; "
                f"choose from {', '.join(CONFIGS)}"
            )
    result = bench_lib.run_bench(
        quick=quick, steps=steps, configs=configs, log=log, profile=profile
    )
    if as_json:
        print_json(result)
        return
    for t in format_table(result):
        out.print(t)


@app.command(
    short_help="Print the JAX backend and the devices it sees.",
    epilog=examples("XLA_FLAGS=--xla_force_host_platform_device_count=4 gancli devices"),
)
def devices(as_json: Json = False) -> None:
    """Print the JAX backend and the devices it sees."""
    import jax

    found = {
        "backend": jax.default_backend(),
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "devices": [{"id": d.id, "kind": d.device_kind, "name": str(d)} for d in jax.devices()],
    }
    if as_json:
        print_json(found)
        return
    out.print(f"backend: {found['backend']}")
    out.print(f"processes: {found['process_count']} (this is process {found['process_index']})")
    for d in found["devices"]:
        out.print(f"  {d['id']}: {d['kind']} {d['name']}")

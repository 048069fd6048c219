"""`make mutants`: cosmic-ray over the modules in mutants/map.toml, each against its tests.

The checkout is copied to a scratch directory first (cosmic-ray edits the source in place
while a mutant runs; the checkout is never touched), then per module: init, drop the
excluded operators and `# pragma: no mutate` lines, a baseline run, every mutant, and a
report. Prints each module's kill rate, surviving mutants and wall time.

    python mutants/run.py                         # every module not marked when_named
    python mutants/run.py gancli/core/losses.py   # just these
    python mutants/run.py --work DIR --survivors MODULE   # a run's survivors, today's tests
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPY = ("gancli", "tests", "experiments", "pyproject.toml")
UNSAMPLED = "not in the sample (--sample)"
UNCHANGED = "on a line not changed since --since"


def session_config(module: str, tests: list[str], exclude: list[str]) -> str:
    cmd = " ".join([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests])
    ops = ", ".join(f'"{e}"' for e in exclude)
    return (
        f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = 600.0\nexcluded-modules = []\n'
        f'test-command = "{cmd}"\n[cosmic-ray.distributor]\nname = "local"\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{ops}]\n"
    )


def outcomes(db: Path) -> dict:
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "select s.start_pos_row, s.operator_name, r.worker_outcome, r.test_outcome "
            "from work_results r join mutation_specs s on r.job_id = s.job_id"
        ).fetchall()
        skipped = dict(c.execute("select output, count(*) from work_results group by output"))
    mutants = [r for r in rows if r[2] != "SKIPPED"]
    survived = sorted((r[0], r[1]) for r in mutants if r[3] == "SURVIVED")
    killed = len(mutants) - len(survived)
    return {
        "mutants": len(mutants),
        "killed": killed,
        "survived": survived,
        "unsampled": skipped.get(UNSAMPLED, 0),
        "unchanged": skipped.get(UNCHANGED, 0),
    }


def changed_lines(module: str, rev: str, repo: Path = ROOT) -> set[int]:
    """The lines of `module` as it is in the working tree (uncommitted edits included) that
    differ from `rev` (added or edited; a pure deletion leaves no line to mutate), from
    `git diff -U0`'s hunk headers. Read before the checkout is copied, so a later edit or
    branch switch cannot shift them."""
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", module], cwd=repo,
                             capture_output=True)  # fmt: skip
    if tracked.returncode:
        sys.exit(f"--since {rev}: {module} is not tracked by git (every line would be new)")
    diff = subprocess.run(
        ["git", "diff", "--no-color", "--no-ext-diff", "-U0", rev, "--", module],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return hunk_lines(diff)


def hunk_lines(diff: str) -> set[int]:
    """The new side's line numbers of each hunk of a `-U0` diff (`@@ -a,b +start,count @@`)."""
    lines: set[int] = set()
    for line in diff.splitlines():
        if line.startswith("@@"):
            new = line.split()[2].removeprefix("+")  # "+start[,count]"
            start, _, count = new.partition(",")
            lines |= set(range(int(start), int(start) + int(count or 1)))
    return lines


def skip_pending(db: Path, why: str, keep) -> None:
    """Mark the mutants still to run that `keep` does not keep as skipped, with `why` as
    their output. `keep(pending)` gets the pending work items sorted by position (a fixed
    order) and returns the job ids to run."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(db), WorkDB.Mode.open) as work_db:
        pending = sorted(
            work_db.pending_work_items,
            key=lambda w: [(m.start_pos, m.operator_name, m.occurrence) for m in w.mutations],
        )
        kept = keep(pending)
        skip = WorkResult(output=why, worker_outcome=WorkerOutcome.SKIPPED)
        work_db.set_multiple_results([w.job_id for w in pending if w.job_id not in kept], skip)


def keep_lines(db: Path, lines: set[int]) -> None:
    """Mark the mutants still to run whose line is not in `lines` as skipped: after a
    module was mutated whole, `--since REV` runs only what the code changed since."""
    skip_pending(
        db, UNCHANGED,
        lambda pending: {w.job_id for w in pending
                         if any(m.start_pos[0] in lines for m in w.mutations)},
    )  # fmt: skip


def draw_sample(pending: list, size: int, starts: list[int] = (), seed: int = 0) -> set:
    """The sample `keep_a_sample` keeps: `size` of `pending` (in a fixed order), drawn with
    a fixed seed; with `starts`, the earlier runs' draws replayed in order first."""
    import random

    rng = random.Random(seed)
    sizes = [*starts, size]
    if starts and (sorted(sizes) != sizes or starts[0] < 0 or size > len(pending)):
        sys.exit(f"--sample {size} --sample-from {','.join(map(str, starts))}: need "
                 f"0 <= M1 <= M2 <= ... <= N <= {len(pending)}")  # fmt: skip
    ran: set = set()
    for a, b in itertools.pairwise([0, *starts]):  # the earlier runs' draws, in order
        ran |= set(rng.sample([j for j in pending if j not in ran], b - a))
    rest = [j for j in pending if j not in ran]
    return set(rng.sample(rest, min(size, len(pending)) - len(ran)))


def keep_a_sample(db: Path, size: int, starts: list[int] = (), seed: int = 0) -> None:
    """Mark all but a uniform random sample of the mutants still to run as skipped ("not
    in the sample"): a module whose mutants each take minutes (core/step.py recompiles its
    training programs per mutant) is measured on a sample, its kill rate an estimate with
    an exact interval, rather than not at all.

    `starts=[M]` extends an earlier run of `size=M` (same seed, the module unchanged): it
    redraws that run's sample, skips it, and runs `size - M` more drawn uniformly among
    the rest, so the two runs together are a uniform random sample of `size`. A chain
    `starts=[60, 100]` replays each earlier run's draws in order (a plain 60, then 40
    more), then draws `size - 100`. It holds only for the same mutants (the module,
    cosmic-ray and the operator filter unchanged) and the earlier runs' own sizes in
    order; nothing checks either: compare the redrawn job ids with the earlier databases."""
    skip_pending(
        db, UNSAMPLED, lambda pending: draw_sample([w.job_id for w in pending], size, starts, seed)
    )


def forget_survivors(db: Path) -> int:
    """Delete the survivors' results from a finished session, so `exec` runs them again
    (`--survivors`: against the tests written since). Returns how many."""
    if not db.exists():
        sys.exit(f"--survivors: no session {db.name} in {db.parent}")
    with sqlite3.connect(db) as c:
        return c.execute("delete from work_results where test_outcome = 'SURVIVED'").rowcount


def same_source(work: Path, module: str, root: Path = ROOT) -> bool:
    """The module in the scratch copy is the checkout's: a session's mutants (positions in
    the file) still point at the code they were made from. False without a copy."""
    copy = work / module
    return copy.is_file() and copy.read_bytes() == (root / module).read_bytes()


def session_files(work: Path, module: str) -> tuple[Path, Path]:
    """A module's cosmic-ray session in `work`: its config and its database, as absolute
    paths (cosmic-ray runs inside `work`, where a relative --work would not resolve)."""
    name = module.replace("/", "_").removesuffix(".py")
    work = work.resolve()
    return work / f"{name}.toml", work / f"{name}.sqlite"


def run_module(
    work: Path,
    module: str,
    tests: list[str],
    exclude: list[str],
    resume: bool = False,
    sample: int | None = None,
    sample_from: list[int] = (),
    lines: set[int] | None = None,
) -> dict:
    cfg, db = session_files(work, module)
    cfg.write_text(session_config(module, tests, exclude))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "JAX_PLATFORMS": "cpu"}
    bindir = str(Path(sys.executable).parent)

    def cr(*args):
        subprocess.run([f"{bindir}/{args[0]}", *args[1:]], cwd=work, env=env, check=True)

    t0 = time.time()
    if not (resume and db.exists()):  # --resume: only the mutants not run yet
        db.unlink(missing_ok=True)
        cr("cosmic-ray", "init", str(cfg), str(db))
        cr("cr-filter-operators", str(db), str(cfg))
        cr("cr-filter-pragma", str(db))
        if lines is not None:
            keep_lines(db, lines)
        if sample is not None:
            keep_a_sample(db, sample, sample_from)
        cr("cosmic-ray", "baseline", str(cfg))  # the tests pass on the unmutated code
    cr("cosmic-ray", "exec", str(cfg), str(db))
    return {**outcomes(db), "wall_s": time.time() - t0}


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> int:
    spec = tomllib.loads((ROOT / "mutants" / "map.toml").read_text())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="modules to mutate (default: all but when_named)")
    ap.add_argument("--work", help="scratch directory (default: a new temporary one)")
    ap.add_argument("--resume", action="store_true",
                    help="continue the sessions in --work where they stopped")  # fmt: skip
    ap.add_argument("--survivors", action="store_true",
                    help="rerun the survivors of the finished sessions in --work against the "
                         "checkout's tests (each module unchanged since)")  # fmt: skip
    ap.add_argument("--sample", type=int, metavar="N",
                    help="run a random sample of N mutants per module (fixed seed)")  # fmt: skip
    ap.add_argument("--sample-from", type=_sizes, default=[], metavar="M[,M2...]",
                    help="extend earlier --sample runs of these sizes, in order (60,100 after "
                         "--sample 60 and --sample 100 --sample-from 60): N-M more among the "
                         "rest")  # fmt: skip
    ap.add_argument("--since", metavar="REV",
                    help="only the mutants on lines changed since this git revision (a module "
                         "mutated whole at REV: what changed after it)")  # fmt: skip
    args = ap.parse_args()
    modules = args.modules or [m for m, v in spec["modules"].items() if not v.get("when_named")]
    unknown = [m for m in modules if m not in spec["modules"]]
    if unknown:
        sys.exit(f"not in mutants/map.toml: {', '.join(unknown)}")
    since = {m: changed_lines(m, args.since) for m in modules} if args.since else {}
    for m in [m for m in modules if args.since and not since[m]]:
        print(f"{m}: no line changed since {args.since}: nothing to mutate", flush=True)
    modules = [m for m in modules if not args.since or since[m]]
    if args.survivors and not args.work:
        sys.exit("--survivors needs --work: the directory of the sessions to rerun")
    work = Path(args.work or tempfile.mkdtemp(prefix="gancli-mutants-"))
    if args.survivors:
        changed = [m for m in modules if not same_source(work, m)]
        if changed:
            sys.exit(f"--survivors: changed since the session (its mutants point at the old "
                     f"code), or no session: {', '.join(changed)}")  # fmt: skip
        for m in modules:
            n = forget_survivors(session_files(work, m)[1])
            print(f"{m}: rerunning {n} survivors against the checkout's tests", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    for item in COPY:
        src, dst = ROOT / item, work / item
        if dst.exists():
            shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    print(f"mutating a copy of the checkout in {work}", flush=True)
    results = {}
    for m in modules:
        tests = spec["modules"][m]["tests"]
        results[m] = run_module(
            work,
            m,
            tests,
            spec["exclude_operators"],
            args.resume or args.survivors,
            args.sample,
            args.sample_from,
            since.get(m),
        )
        r = results[m]
        of = f" (a random sample; {r['unsampled']} more not run)" if r["unsampled"] else ""
        if r["unchanged"]:
            of += f" (changed lines only; {r['unchanged']} on lines unchanged since {args.since})"
        print(f"{m}: {r['killed']}/{r['mutants']} killed{of} in {r['wall_s']:.0f} s", flush=True)
    print("\n| module | mutants | killed | rate | wall | survivors (line: operator) |")
    print("|---|---|---|---|---|---|")
    for m, r in results.items():
        if not r["mutants"]:  # nothing ran: no rate, not 100 %
            print(f"| {m} | 0 | 0 | - | {r['wall_s'] / 60:.0f} min | - |")
            continue
        rate = 100 * r["killed"] / r["mutants"]
        surv = "; ".join(f"{line}: {op.removeprefix('core/')}" for line, op in r["survived"])
        print(
            f"| {m} | {r['mutants']} | {r['killed']} | {rate:.0f} % | {r['wall_s'] / 60:.0f} min "
            f"| {surv or '-'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""mutants/run.py's `--since` (which lines a diff changed), its sampler and its map (the
mutation run is outside `make test`; these parts of it are plain text handling)."""

import importlib.util
import random
import subprocess
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "mutants_run", Path(__file__).resolve().parents[1] / "mutants" / "run.py"
)
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)


def test_since_keeps_the_added_and_edited_lines_of_each_hunk_and_none_of_a_deletion():
    diff = (
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n"
        "@@ -4,2 +5,3 @@ def f():\n-a\n-b\n+a2\n+b2\n+c2\n"  # edited: new lines 5-7
        "@@ -20 +22 @@ x\n-y\n+y2\n"  # one line, counts omitted: line 22
        "@@ -30,2 +33,0 @@\n-gone\n-gone\n"  # a pure deletion: nothing to mutate
        "@@ -40,0 +41,2 @@\n+new\n+new\n"  # a pure addition: 41-42
    )
    assert run.hunk_lines(diff) == {5, 6, 7, 22, 41, 42}
    assert run.hunk_lines("") == set()


def test_a_sample_is_drawn_with_a_fixed_seed_and_extends_the_earlier_draws_it_names():
    pending = list(range(100))
    first = run.draw_sample(pending, 10)  # a plain --sample 10
    assert len(first) == 10 and first <= set(pending)
    assert run.draw_sample(pending, 10) == first  # the same draws every time
    more = run.draw_sample(pending, 25, [10])  # --sample 25 --sample-from 10: 15 more
    assert len(more) == 15 and not more & first
    last = run.draw_sample(pending, 40, [10, 25])  # a chain: replays both, then 15 more
    assert len(last) == 15 and not last & (first | more)
    assert run.draw_sample(pending, 500) == set(pending)  # more than there are: all of them


def test_the_recorded_runs_draws_are_replayed_exactly():
    # docs/mutants.md's step.py runs (60, then 40 and 60 more, then the other 42, of 202)
    # are only valid if the draws stay what they were: one random.Random(0) over the
    # mutants in order, each run drawing its share among those not drawn before.
    pending = list(range(202))
    rng = random.Random(0)
    drawn: list[int] = []
    for size in (60, 40, 60):
        drawn.append(set(rng.sample([j for j in pending if all(j not in d for d in drawn)], size)))
    assert run.draw_sample(pending, 60) == drawn[0]
    assert run.draw_sample(pending, 100, [60]) == drawn[1]
    assert run.draw_sample(pending, 160, [60, 100]) == drawn[2]
    assert run.draw_sample(pending, 202, [60, 100, 160]) == set(pending) - set().union(*drawn)


def test_since_reads_the_working_tree_against_a_revision_and_refuses_an_untracked_file(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "m.py").write_text("a\nb\nc\nd\n")
    git("add", "m.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    assert run.changed_lines("m.py", "HEAD", tmp_path) == set()  # nothing changed
    (tmp_path / "m.py").write_text("a\nB\nc\nd\ne\n")  # uncommitted: line 2 edited, 5 added
    assert run.changed_lines("m.py", "HEAD", tmp_path) == {2, 5}
    (tmp_path / "new.py").write_text("x\n")
    with pytest.raises(SystemExit, match="not tracked"):
        run.changed_lines("new.py", "HEAD", tmp_path)


def test_the_map_names_modules_and_tests_that_exist_and_covers_core_quality_and_the_report():
    import tomllib

    root = Path(__file__).resolve().parents[1]
    spec_ = tomllib.loads((root / "mutants" / "map.toml").read_text())
    for module, entry in spec_["modules"].items():
        assert (root / module).is_file(), module
        assert entry["tests"], module
        for test in entry["tests"]:
            assert (root / test.split("::")[0]).is_file(), (module, test)
    # issue 20: every module of core/ and quality/, stats.py and the report's rendering
    wanted = {
        str(p.relative_to(root))
        for d in ("gancli/core", "gancli/quality")
        for p in (root / d).glob("*.py")
        if p.name != "__init__.py"
    } | {"gancli/stats.py", "gancli/report/render.py"}
    assert wanted <= set(spec_["modules"]), sorted(wanted - set(spec_["modules"]))


def test_survivors_are_forgotten_so_they_run_again_and_only_on_unchanged_code(tmp_path):
    import sqlite3

    db = tmp_path / "m.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("create table work_results (job_id, worker_outcome, test_outcome)")
        c.executemany("insert into work_results values (?, ?, ?)",
                      [("a", "NORMAL", "KILLED"), ("b", "NORMAL", "SURVIVED"),
                       ("c", "SKIPPED", None), ("d", "NORMAL", "SURVIVED")])  # fmt: skip
    assert run.forget_survivors(db) == 2
    with sqlite3.connect(db) as c:
        assert sorted(r[0] for r in c.execute("select job_id from work_results")) == ["a", "c"]
    with pytest.raises(SystemExit, match="no session"):
        run.forget_survivors(tmp_path / "none.sqlite")
    for side in ("work", "root"):
        (tmp_path / side / "pkg").mkdir(parents=True)
        (tmp_path / side / "pkg" / "m.py").write_text("x = 1\n")
    assert run.same_source(tmp_path / "work", "pkg/m.py", tmp_path / "root")
    (tmp_path / "root" / "pkg" / "m.py").write_text("x = 2\n")
    assert not run.same_source(tmp_path / "work", "pkg/m.py", tmp_path / "root")
    assert not run.same_source(tmp_path / "empty", "pkg/m.py", tmp_path / "root")


def test_a_relative_work_directory_names_its_session_files_absolutely(tmp_path, monkeypatch):
    # cosmic-ray runs with the work directory as its cwd: `--work .mutwork/step` once made it
    # look for .mutwork/step/.mutwork/step/gancli_core_step.toml and stop
    monkeypatch.chdir(tmp_path)
    cfg, db = run.session_files(Path(".mutwork/step"), "gancli/core/step.py")
    assert cfg == tmp_path / ".mutwork" / "step" / "gancli_core_step.toml"
    assert db == tmp_path / ".mutwork" / "step" / "gancli_core_step.sqlite"

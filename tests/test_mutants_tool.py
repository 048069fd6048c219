"""mutants/run.py's `--since`: which lines a diff changed (the mutation run is outside
`make test`; this part of it is plain text handling)."""

import importlib.util
from pathlib import Path

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

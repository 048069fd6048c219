"""Bad paths are one line and a non-zero exit, never a traceback; readers and refused
writers create nothing (no run directory, no lock file)."""

import pytest

from gancli.cli import main
from gancli.run import files, runner
from tests.conftest import tiny


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"not a directory")
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("paths") / "run"
    runner.train(tiny(steps=20), out, quiet=True)
    return out


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--steps", "10", "--out", "{file}/run"],
        ["train", "--steps", "10", "--out", "{file}"],
        ["compare-losses", "--steps", "10", "--out", "{file}/rep"],
        ["reproduce", "pacgan_ring", "--out", "{file}/rep"],
    ],
)
def test_a_file_in_the_way_of_out_is_a_usage_error(a_file, capsys, argv):
    argv = [a.format(file=a_file) for a in argv]
    assert main([*argv, "-q"]) == 2
    line = one_line(capsys.readouterr().err)
    assert str(a_file) in line and "not a directory" in line, line


def test_sample_out_under_a_file_names_the_file(run_dir, a_file, capsys):
    assert main(["sample", str(run_dir), "--out", f"{a_file}/x.png"]) == 2
    assert one_line(capsys.readouterr().err) == (
        f"error: cannot write {a_file}/x.png: {a_file} is a file, not a directory"
    )


def test_an_out_that_cannot_be_created_is_one_line(capsys):
    assert main(["train", "--steps", "10", "--out", "/proc/gancli-test/run", "-q"]) != 0
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: ") and "/proc/gancli-test/run" in line, line


def test_any_other_file_system_error_is_one_line_exit_1(tmp_path, monkeypatch, capsys):
    def refuse(path, obj):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files, "write_json", refuse)
    assert main(["train", "--steps", "10", "--out", str(tmp_path / "r"), "-q"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line == f"error: Permission denied: {tmp_path / 'r' / 'env.json'}"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sample", "{dir}"], "no checkpoints in {dir}"),
        (["eval", "{dir}"], "no checkpoints in {dir}"),
        (["train", "--resume", "{dir}"], "no checkpoints in {dir}"),
        (["sample", "{missing}"], "run directory {missing} does not exist"),
        (["eval", "{missing}"], "run directory {missing} does not exist"),
        (["train", "--resume", "{missing}"], "--resume {missing} does not exist"),
        (["train", "--resume", "{file}"], "--resume {file} is a file, not a run directory"),
        (["eval", "{file}"], "run directory {file} is a file, not a run directory"),
    ],
)
def test_readers_and_refused_resumes_create_nothing(tmp_path, a_file, capsys, argv, message):
    empty, missing = tmp_path / "emptydir", tmp_path / "notrun"
    empty.mkdir()
    paths = dict(dir=empty, missing=missing, file=a_file)
    before = sorted(tmp_path.rglob("*"))
    assert main([a.format(**paths) for a in argv]) == 2
    assert one_line(capsys.readouterr().err) == "error: " + message.format(**paths)
    assert sorted(tmp_path.rglob("*")) == before  # no lock file, no directory

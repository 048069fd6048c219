"""Config errors name what they are about: a table's name in brackets reaches the user."""

import pytest

from gancli.cli import main


@pytest.mark.parametrize(
    "command, text, message",
    [
        ("train", "[bogus]\nx = 1\n", "unexpected table [bogus] in "),
        ("train", "loss = 'wgan'\n[sweep]\nbogus = 1\n", "unknown key(s) bogus in [sweep] in "),
        ("reproduce", "name = 'x'\n", "missing table [paper] of a reproduce preset"),
    ],
)
def test_config_errors_name_the_table(tmp_path, capsys, command, text, message):
    path = tmp_path / "foo.toml"
    path.write_text(text)
    argv = (
        [command, path.as_posix()] if command == "reproduce" else [command, "--config", str(path)]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert str(path) in err


def test_error_text_is_printed_as_is(capsys):
    """A message is not read as rich markup: brackets and what they hold stay."""
    from gancli.cli.app import log

    log("error: [budget.full] and [bold]x[/bold] in a[1].toml")
    assert capsys.readouterr().err == "error: [budget.full] and [bold]x[/bold] in a[1].toml\n"

"""`gancli` and `python -m gancli`: stop requests are recorded before anything else is
imported (`gancli.stopping`), then the command line runs."""


def main() -> None:
    from gancli import stopping

    stopping.install()
    with stopping.deferred():  # recorded during the imports; main's first safe point stops
        from gancli.cli import main as run

    run()


if __name__ == "__main__":
    main()

"""gancli sample: which samples (z seed, replica, checkpoint), the files written, their
captions, image grids at an integer scale, and one-line errors."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gancli import plots
from gancli.cli import main
from gancli.run import runner, sampling
from tests.conftest import tiny


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-seed nsgan run of 40 steps (checkpoints at 20 and 40), and the titles of the
    sample panels training drew."""
    out = tmp_path_factory.mktemp("sampling") / "nsgan-ring8"
    drawn = []
    save = plots.save_panels

    def record(path, samples, titles, mixture, cols=None, suptitle=""):
        drawn.append((path.name, titles, suptitle))
        save(path, samples, titles, mixture, cols, suptitle)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "save_panels", record)
        runner.train(tiny(loss="nsgan", seeds=2, steps=40), out, quiet=True)
    return out, drawn


def test_the_z_seed_fixes_the_samples(run):
    out, _ = run
    _, a = sampling.draw(out, 50, z_seed=3)
    _, b = sampling.draw(out, 50, z_seed=3)
    _, c = sampling.draw(out, 50, z_seed=4)
    assert a.shape == (50, 2) and np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_seed_index_and_step_choose_the_replica_and_the_checkpoint(run):
    out, _ = run
    latest, every = sampling.draw(out, 40, all_seeds=True)
    assert latest.step == 40 and every.shape == (2, 40, 2)
    for i in (0, 1):
        assert np.array_equal(sampling.draw(out, 40, seed_index=i)[1], every[i])
    older, earlier = sampling.draw(out, 40, step=20, all_seeds=True)
    assert older.step == 20 and not np.allclose(earlier, every)
    # the same z for every replica: replicas differ only by their generators
    assert not np.allclose(every[0], every[1])


def test_files_are_the_samples_with_a_caption_naming_run_step_and_seed(run, tmp_path, monkeypatch):
    out, _ = run
    titles, save = [], plots.save_panels

    def record(path, samples, panel_titles, *args):
        titles.extend(panel_titles)
        save(path, samples, panel_titles, *args)

    monkeypatch.setattr(plots, "save_panels", record)
    paths = sampling.sample_to_files(out, 30, tmp_path / "s", seed_index=1, z_seed=7)
    assert [p.name for p in paths] == ["s.png", "s.npy"]
    np.testing.assert_array_equal(np.load(paths[1]), sampling.draw(out, 30, 40, 1, z_seed=7)[1])
    assert plt.imread(paths[0]).shape[0] > 200
    assert titles == ["nsgan-ring8: nsgan on ring8, step 40\nseed 1, z seed 7"]


def test_training_titles_its_panels_by_run_step_and_seed(run):
    _, drawn = run
    steps = [(name, suptitle) for name, _, suptitle in drawn if name.startswith("step_")]
    assert steps == [(f"step_{s:07d}.png", f"nsgan/ring8 step {s}") for s in (0, 20, 40)]
    finals = {name: titles for name, titles, _ in drawn if name.startswith("final_")}
    assert finals["final_seed1.png"] == ["nsgan seed 1, step 40"]


def test_an_image_grid_png_is_the_grid_upscaled_by_an_integer(tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (10, 8, 8, 1)).astype(np.float32)
    plots.save_panels(tmp_path / "g.png", [x], ["run, step 5\nseed 0"], None)
    png = plt.imread(tmp_path / "g.png")[..., 0]
    pixels = np.clip((x[..., 0] + 1) / 2, 0, 1)
    gh, gw = 3 * 9 + 1, 4 * 9 + 1  # 10 images of 8 x 8 in 4 columns, 1 px apart
    s = png.shape[1] // gw
    assert png.shape[1] == gw * s and s >= 2 and png.shape[0] > gh * s  # a caption above
    grid = png[-gh * s :]
    # nearest neighbour: every s x s block is one grey level, that of its sample pixel
    assert np.array_equal(grid, np.repeat(np.repeat(grid[::s, ::s], s, 0), s, 1))
    small = grid[::s, ::s]
    np.testing.assert_allclose(small[1:9, 1:9], pixels[0], atol=1 / 255)
    np.testing.assert_allclose(small[19:27, 10:18], pixels[9], atol=1 / 255)  # row 2, col 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed-index", "2"], "--seed-index 2 is out of range: this run has 2 seeds (0..1)"),
        (["--n", "0"], "--n must be at least 1, got 0"),
        (["--step", "30"], "no checkpoint at step 30 in "),
        (["--out", "s.txt"], "use a .png or .npy name"),
    ],
)
def test_bad_requests_are_one_line_errors(run, args, message, capsys, tmp_path, monkeypatch):
    out, _ = run
    monkeypatch.chdir(tmp_path)
    assert main(["sample", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


def test_a_directory_without_checkpoints_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["sample", str(tmp_path / "empty"), "--out", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: no checkpoints in {tmp_path / 'empty'}"
    assert main(["sample", str(tmp_path / "gone"), "--out", str(tmp_path / "s.png")]) == 2
    assert "does not exist" in capsys.readouterr().err

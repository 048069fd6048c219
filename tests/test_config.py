import pytest

from gancli import config as C
from gancli import config_io


def test_per_loss_defaults():
    w = C.resolve(C.Config(loss="wgan"))
    assert (w.optimizer, w.lr_d, w.lr_g, w.clip, w.n_critic) == ("rmsprop", 5e-5, 5e-5, 0.01, 5)
    n = C.resolve(C.Config(loss="nsgan"))
    assert (n.optimizer, n.lr_d, n.beta1, n.n_critic) == ("adam", 1e-4, 0.5, 1)
    assert C.resolve(C.Config(loss="wgan", n_critic=2, optimizer="adam")).n_critic == 2


def test_toml_round_trip(tmp_path):
    cfg = C.resolve(C.Config(loss="wgan", seeds=3, clip=0.05, critic_boost=True))
    config_io.save(cfg, tmp_path / "c.toml")
    assert config_io.load(tmp_path / "c.toml") == cfg


def test_flags_override_file(tmp_path):
    (tmp_path / "c.toml").write_text('loss = "wgan"\nsteps = 100\nclip = 0.02\n')
    base = config_io.load(tmp_path / "c.toml")
    cfg = C.resolve(config_io.from_mapping({"steps": 7}, base))
    assert (cfg.loss, cfg.steps, cfg.clip) == ("wgan", 7, 0.02)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(loss="lsgan"), "unknown loss 'lsgan'"),
        (dict(dataset="moons"), "unknown dataset 'moons'"),
        (dict(clip=0.0), "clip must be a positive number"),
        (dict(clip=-0.01), "clip must be a positive number"),
        (dict(steps=0), "steps must be at least 1"),
        (dict(seeds=0), "seeds must be at least 1"),
        (dict(optimizer="lbfgs"), "unknown optimizer"),
        (dict(generator_variant="nobn"), "needs an image dataset"),
    ],
)
def test_bad_values(changes, message):
    with pytest.raises(C.ConfigError, match=message):
        C.resolve(C.Config(**changes))


@pytest.mark.parametrize(
    "text, message",
    [
        ("steps = 'many'\n", "setting 'steps' in .* must be int, got str"),
        ("stepz = 10\n", "unknown setting 'stepz'"),
        ("n-critic = 3\n", None),
        ("steps = [1\n", "is not valid TOML"),
        ("[wgan]\nclip = 1\n", "unexpected table"),
        ("clip = true\n", "must be float"),
    ],
)
def test_bad_files(tmp_path, text, message):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    if message is None:
        assert config_io.load(p).n_critic == 3
        return
    with pytest.raises(C.ConfigError, match=message):
        config_io.load(p)


def test_missing_file(tmp_path):
    with pytest.raises(C.ConfigError, match="config file not found"):
        config_io.load(tmp_path / "nope.toml")


def test_toml_round_trip_with_a_sweep_and_awkward_strings(tmp_path):
    cfg = config_io.from_mapping({"clip": [0.005, 0.01], "lr_d": [5e-5, 2e-4], "loss": "wgan"})
    cfg = cfg.replace(dataset='data/"odd" \\ name.npz', eval_samples=300, beta2=0.95)
    config_io.save(cfg, tmp_path / "c.toml")
    again = config_io.load(tmp_path / "c.toml")
    assert again == cfg and len(again.points) == 4


def test_dataset_names_are_the_mixtures_and_digits():
    from gancli.data.mixtures import MIXTURES

    assert C.DATASETS == (*MIXTURES, "digits")


def test_unknown_settings_name_the_close_ones(tmp_path):
    (tmp_path / "c.toml").write_text("eval_sample = 10\n")
    with pytest.raises(C.ConfigError, match=r"unknown setting 'eval_sample' .*'eval_samples'"):
        config_io.load(tmp_path / "c.toml")

"""The pieces `gancli reproduce` needs: maxout, epochs over a fixed set, init, BN, the
paper's metrics, simultaneous updates, CIs, presets, and a tiny end-to-end run."""

import json
import math
import re
import shutil
import tomllib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gancli import config as config_lib
from gancli import config_io
from gancli.cli import main
from gancli.config import Config, ConfigError
from gancli.core import step as step_lib
from gancli.core.step import GANProgram
from gancli.data import epochs
from gancli.data import load as load_data
from gancli.data.mixtures import MIXTURES
from gancli.models import layers
from gancli.models.layers import Maxout
from gancli.models.mlp import MLPDiscriminator, MLPGenerator
from gancli.quality.paper import hq_histogram, paper_quality, reverse_kl
from gancli.report import reproduce as report_reproduce
from gancli.studies import reproduce, reproduce_preset
from tests.conftest import tiny

RING = load_data("ring8")
PRESETS = sorted((Path(__file__).resolve().parents[2] / "experiments" / "reproduce").glob("*.toml"))

# ---- maxout -------------------------------------------------------------------------------


def test_maxout_takes_the_max_of_each_units_consecutive_pieces():
    layer = Maxout(features=2, pieces=3)
    x = jnp.array([[1.0, 2.0]])
    params = layer.init(jax.random.key(0), x)
    # Dense(2 -> 6) with kernel columns chosen by hand: outputs = x @ W + b
    W = jnp.array([[1.0, 0.0, -1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, -3.0, 0.5]])
    b = jnp.array([0.0, 0.0, 10.0, 0.0, 0.0, 0.0])
    params = {"params": {"dense": {"kernel": W, "bias": b}}}
    out = layer.apply(params, x)
    # pre-activations: [1, 2, 9 | 2, -6, 1] -> unit 0 max 9, unit 1 max 2
    np.testing.assert_allclose(np.asarray(out), [[9.0, 2.0]])


def test_maxout_discriminator_shapes():
    d = MLPDiscriminator(hidden=200, depth=3, maxout=5)
    params = d.init(jax.random.key(0), jnp.zeros((4, 2)))["params"]
    assert params["maxout_0"]["dense"]["kernel"].shape == (2, 1000)
    assert params["maxout_1"]["dense"]["kernel"].shape == (200, 1000)
    assert params["out"]["kernel"].shape == (200, 1)
    assert d.apply({"params": params}, jnp.ones((4, 2))).shape == (4,)


def test_maxouts_gradient_goes_to_the_winning_piece():
    # The hand example above: pieces [1, 2, 9 | 2, -6, 1], winners 2 and 0 (of 3).
    h = jnp.array([[1.0, 2.0, 9.0, 2.0, -6.0, 1.0]])
    g = jax.grad(lambda h: (layers.max_of_pieces(h, 3) * jnp.array([5.0, 7.0])).sum())(h)
    np.testing.assert_array_equal(np.asarray(g), [[0, 0, 5.0, 7.0, 0, 0]])


def max_by_autodiff(h, pieces):
    """Maxout as it was written before its custom VJP: jax.grad differentiates `max`."""
    return h.reshape(*h.shape[:-1], -1, pieces).max(-1)


def test_the_maxout_discriminators_gradients_equal_autodiff_of_max(monkeypatch):
    """The custom backward pass against jax.grad of a plain reshape-and-max, for the
    PacGAN D (3 maxout layers of 200 x 5) over 10 vmapped seeds: equal to float32 rounding."""
    d = MLPDiscriminator(hidden=200, depth=3, maxout=5)
    keys = jax.random.split(jax.random.key(3), 10)
    params = jax.vmap(lambda k: d.init(k, jnp.zeros((2, 2)))["params"])(keys)
    x = jax.random.normal(jax.random.key(4), (10, 100, 2)) * 2

    def grads():
        loss = lambda p, x: jax.nn.softplus(-d.apply({"params": p}, x)).mean()  # noqa: E731
        return jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1))))(params, x)

    custom = grads()
    monkeypatch.setattr(layers, "max_of_pieces", max_by_autodiff)
    auto = grads()
    for a, b in zip(jax.tree.leaves(custom), jax.tree.leaves(auto), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)
        assert np.abs(np.asarray(a)).max() > 0


def test_a_maxout_training_step_equals_the_step_with_autodiff_of_max(monkeypatch):
    """Ten steps of PacGAN's update (simultaneous, a 3-layer maxout D of 5 pieces, G with
    batch norm) from the same state: the same parameters with either backward pass."""
    cfg = tiny(seeds=2, d_maxout=5, d_depth=3, updates="simultaneous", g_batchnorm=True)
    p = GANProgram.build(cfg, RING)
    s0, data = p.init(), p.put_data(RING.array)

    def ten_steps():
        one = jax.vmap(lambda s: step_lib.train_step(p, s, data)[0])
        return jax.jit(lambda s: jax.lax.fori_loop(0, 10, lambda _, s: one(s), s))(s0)

    custom = ten_steps()
    monkeypatch.setattr(layers, "max_of_pieces", max_by_autodiff)
    auto = ten_steps()
    for a, b, c in zip(*(jax.tree.leaves(x.d.params) for x in (custom, auto, s0)), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=1e-6)
        assert not np.array_equal(np.asarray(a), np.asarray(c))  # D did train
    for a, b in zip(jax.tree.leaves(custom.g.params), jax.tree.leaves(auto.g.params), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-5, atol=1e-6)


# ---- the epoch sampler --------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 16, 100, 1000, 100_000])
def test_permute_is_a_bijection(n):
    out = np.asarray(epochs.permute(jax.random.key(3), jnp.arange(n), n))
    assert sorted(out.tolist()) == list(range(n))


def test_each_epoch_visits_every_sample_once_in_a_new_order():
    key, n, B = jax.random.key(1), 60, 10
    batches = [np.asarray(epochs.epoch_indices(key, jnp.int32(c), B, n)) for c in range(12)]
    e0, e1 = np.concatenate(batches[:6]), np.concatenate(batches[6:])
    assert sorted(e0.tolist()) == list(range(n)) == sorted(e1.tolist())
    assert not np.array_equal(e0, e1)
    again = np.asarray(epochs.epoch_indices(key, jnp.int32(7), B, n))
    np.testing.assert_array_equal(again, batches[7])  # a pure function of (key, batch)


@pytest.mark.parametrize("n", [0, 9])
def test_a_fixed_set_smaller_than_a_batch_is_refused_not_looped_on(n):
    # Without the check a set of 0 would cycle-walk forever in `permute` (a mutant that
    # sent every run down the fixed-set path with size 0 hung its tests until a timeout).
    with pytest.raises(ValueError, match=f"a fixed set of {n} cannot hold a batch of 10"):
        epochs.epoch_indices(jax.random.key(1), jnp.int32(0), 10, n)


def test_a_fixed_set_of_exactly_one_batch_is_that_batch_every_epoch():
    for epoch in range(2):
        idx = np.asarray(epochs.epoch_indices(jax.random.key(1), jnp.int32(epoch), 10, 10))
        assert sorted(idx.tolist()) == list(range(10))


def test_fixed_set_is_the_same_points_every_epoch():
    centers = jnp.asarray(MIXTURES["grid25"].centers)
    key, n, B = jax.random.key(2), 50, 10

    def epoch(e):
        xs = [epochs.finite_batch(centers, 0.05, key, jnp.int32(e * 5 + c), B, n) for c in range(5)]
        return np.concatenate([np.asarray(x) for x in xs])

    a, b = epoch(0), epoch(3)
    order = lambda x: x[np.lexsort(x.T)]  # noqa: E731
    np.testing.assert_array_equal(order(a), order(b))
    assert len(np.unique(a, axis=0)) == n


def test_bootstrap_resample_keeps_about_63_percent_distinct():
    centers = jnp.asarray(MIXTURES["ring8-pacgan"].centers)
    n, B = 2000, 100
    xs = [epochs.finite_batch(centers, 0.01, jax.random.key(0), jnp.int32(c), B, n, True)
          for c in range(n // B)]  # fmt: skip
    distinct = len(np.unique(np.concatenate([np.asarray(x) for x in xs]), axis=0)) / n
    assert abs(distinct - (1 - math.exp(-1))) < 0.03


def test_training_on_a_fixed_set_runs_and_default_is_fresh_sampling():
    assert Config().train_set_size == 0 and not Config().train_set_bootstrap
    cfg = Config(dataset="ring8", steps=3, seeds=2, batch_size=8, hidden=16, train_set_size=40)
    cfg = config_lib.resolve(cfg.replace(train_set_bootstrap=True))
    program = GANProgram.build(cfg, load_data("ring8"))
    state = program.init()
    state, m = program.run_chunk(6)(state, program.put_data(program.data.array))
    assert np.isfinite(np.asarray(m["d_loss"])).all()


# ---- init, batch norm ------------------------------------------------------------------------


def test_normal_init_has_the_std_and_zero_biases():
    g = MLPGenerator(hidden=400, depth=4, weight_init="normal", init_std=0.02)
    p = g.init(jax.random.key(0), jnp.zeros((2, 2)), train=False)["params"]
    k = np.asarray(p["dense_1"]["kernel"])
    assert abs(k.std() - 0.02) < 0.001 and abs(k.mean()) < 0.001
    assert np.all(np.asarray(p["out"]["bias"]) == 0)


def test_glorot_uniform_init_bounds():
    d = MLPDiscriminator(hidden=128, depth=1, weight_init="glorot_uniform")
    k = np.asarray(d.init(jax.random.key(0), jnp.zeros((2, 2)))["params"]["dense_0"]["kernel"])
    limit = math.sqrt(6 / (2 + 128))
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.9 * limit


def test_default_mlp_is_unchanged():
    g = MLPGenerator(hidden=16, depth=3)
    variables = g.init(jax.random.key(0), jnp.zeros((2, 2)), train=False)
    assert set(variables) == {"params"}
    assert set(variables["params"]) == {"dense_0", "dense_1", "dense_2", "out"}
    assert all("bias" in v for v in variables["params"].values())


def test_generator_batchnorm_population_statistics():
    g = MLPGenerator(hidden=8, depth=1, batchnorm=True, hidden_bias=False, bn_momentum=0.95)
    z = jax.random.normal(jax.random.key(1), (64, 2))
    v = g.init(jax.random.key(0), z, train=False)
    assert "bias" not in v["params"]["dense_0"] and "bias" in v["params"]["out"]
    _, upd = g.apply(v, z, train=True, mutable=["batch_stats"])
    h = z @ v["params"]["dense_0"]["kernel"]
    np.testing.assert_allclose(upd["batch_stats"]["bn_0"]["mean"], 0.05 * h.mean(0), rtol=1e-5)
    # eval mode uses the population statistics, not the batch's
    v2 = {"params": v["params"], "batch_stats": upd["batch_stats"]}
    assert not np.allclose(
        g.apply(v2, z, train=False), g.apply(v2, z, train=True, mutable=["batch_stats"])[0]
    )


# ---- the paper's metrics ------------------------------------------------------------------


def test_reverse_kl_hand_values():
    assert reverse_kl(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert reverse_kl(np.array([1, 1, 0, 0])) == pytest.approx(math.log(2))
    assert reverse_kl(np.array([3, 1])) == pytest.approx(
        0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    )
    assert reverse_kl(np.array([7, 0, 0, 0, 0, 0, 0, 0])) == pytest.approx(math.log(8))
    assert math.isnan(reverse_kl(np.zeros(8)))
    assert reverse_kl(np.array([0, 1, 0, 0])) == pytest.approx(math.log(4))  # one HQ sample


def test_paper_quality_hand_values():
    m = MIXTURES["ring8-pacgan"]  # radius 1, std 0.01
    c = m.centers.astype(np.float64)
    x = np.stack([c[0], c[0], c[1] + [0.029, 0.0], c[2] + [0.0, 0.031]])
    assert hq_histogram(x, c, m.std).tolist() == [2, 1, 0, 0, 0, 0, 0, 0]
    q = paper_quality(x, m)
    assert q["modes"] == 2 and q["hq_pct"] == pytest.approx(75.0)
    want = (2 / 3) * math.log(8 * 2 / 3) + (1 / 3) * math.log(8 / 3)
    assert q["reverse_kl"] == pytest.approx(want)
    # PacGAN's rule is strict: exactly 3 std away is not HQ (std 1: the distance is exactly 3.0)
    x = np.array([[3.0, 0.0], [0.0, -2.0], [0.0, 3.0]])
    assert hq_histogram(x, np.zeros((1, 2)), 1.0).tolist() == [1]


# ---- simultaneous updates -------------------------------------------------------------------


def _one_step(**kw):
    """One compiled step (a chunk of 1); rates are per-replica values, so one program
    serves every lr_d asked for here."""
    cfg = config_lib.resolve(Config(dataset="ring8", steps=1, seeds=1, batch_size=16, hidden=16,
                                    **kw))  # fmt: skip
    program = GANProgram.build(cfg, load_data("ring8"))
    state, _ = program.run_chunk(1)(program.init(), program.put_data(program.data.array))
    return jax.tree.map(lambda a: a[0], state)


def test_simultaneous_generator_step_uses_the_discriminator_before_its_update():
    # spelled as an experiment file spells it (a string parsed at run time, not the
    # interned literal: `updates is "simultaneous"` would be False for every preset)
    simultaneous = tomllib.loads('updates = "simultaneous"')["updates"]
    a = _one_step(updates=simultaneous, lr_d=1e-6)
    b = _one_step(updates=simultaneous, lr_d=1e-1)
    for x, y in zip(jax.tree.leaves(a.g.params), jax.tree.leaves(b.g.params), strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(jax.tree.leaves(a.d.params)[0], jax.tree.leaves(b.d.params)[0])
    c = _one_step(lr_d=1e-6)  # alternating: G sees the updated D
    d = _one_step(lr_d=1e-1)
    pairs = zip(jax.tree.leaves(c.g.params), jax.tree.leaves(d.g.params), strict=True)
    assert any(not np.array_equal(x, y) for x, y in pairs)


def test_new_options_are_validated():
    with pytest.raises(ConfigError, match="n-critic must be 1"):
        config_lib.resolve(Config(loss="wgan", updates="simultaneous"))
    with pytest.raises(ConfigError, match="unknown updates"):
        config_lib.resolve(Config(updates="both"))
    with pytest.raises(ConfigError, match="needs a fixed training set"):
        config_lib.resolve(Config(train_set_bootstrap=True))
    with pytest.raises(ConfigError, match="2-D MLPs only"):
        config_lib.resolve(Config(dataset="digits", d_maxout=5))


# ---- CIs ---------------------------------------------------------------------------------------


def test_mean_ci():
    s = reproduce.mean_ci([6, 7, 5, 8, 6, 7, 6, 5, 8, 7])
    assert s["n"] == 10 and s["mean"] == pytest.approx(6.5)
    # the 95% t interval by hand: sd = 1.0801 (ddof 1), t(0.975, 9) = 2.262157
    half = 2.262157 * np.std([6, 7, 5, 8, 6, 7, 6, 5, 8, 7], ddof=1) / math.sqrt(10)
    assert s["ci_low"] == pytest.approx(6.5 - half, abs=1e-5)
    assert s["ci_high"] == pytest.approx(6.5 + half, abs=1e-5)
    assert s["se"] == pytest.approx(s["std"] / math.sqrt(10))
    const = reproduce.mean_ci([8, 8, 8, float("nan")])
    assert const["n"] == 3 and const["ci_low"] == const["ci_high"] == 8
    assert reproduce.inside(8, const) and not reproduce.inside(6.3, const)
    assert reproduce.inside(None, const) is None


# ---- presets ---------------------------------------------------------------------------------


def test_there_are_presets_for_both_papers_and_datasets():
    assert {p.stem for p in PRESETS} >= {"pacgan_ring", "pacgan_grid", "veegan_ring", "veegan_grid"}


# A citation: a tag defined in the preset's header with a line (Pt:44), a file with a line
# (ali/algorithms.py:28), a notebook cell (nb[23]); or a statement of what it is instead.
CITATION = re.compile(
    r"(?P<tag>\b[A-Z][a-z]?):\d|[\w./&-]+\.(py|ipynb|md|png):\d|nb\[\d+\]|index\.md"
    r"|ASSUMED|\bdefault\b|not recorded|gancli bookkeeping"
)


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_preset_loads_and_every_setting_cites_its_source(path):
    preset = reproduce_preset.load_preset(path)
    assert preset.paper["variant"] in preset.variants
    assert {"modes", "hq_pct"} <= set(preset.anchor)
    assert preset.base.seeds == preset.paper["runs"]
    text = path.read_text()
    header = text.split("\n[")[0]
    config_block = text.split("[config]")[1].split("\n[")[0]
    for line in config_block.strip().splitlines():
        key = re.match(r"^(\w+)\s*=", line)
        if not key:
            continue
        comment = line.split("#", 1)[1] if "#" in line else ""
        found = CITATION.search(comment)
        assert found, f"{path.name}: no citation for {line!r}"
        if "gancli bookkeeping" in comment:  # only settings that cannot change the numbers
            assert key[1] in config_lib.HOST_FIELDS, f"{path.name}: {key[1]} is not bookkeeping"
        for tag in re.findall(r"\b([A-Z][a-z]?):\d", comment):  # every tag is defined above
            assert f"{tag}: =" in header, f"{path.name}: tag {tag}: used but not defined"


def test_pacgan_preset_is_the_papers_setup():
    p = reproduce_preset.load_preset(next(x for x in PRESETS if x.stem == "pacgan_ring"))
    cfg = p.config_for("nsgan", p.paper_steps)
    assert (cfg.loss, cfg.updates, cfg.batch_size, cfg.beta1, cfg.lr_g) == (
        "nsgan", "simultaneous", 100, 0.8, 1e-4)  # fmt: skip
    assert cfg.steps == 400 * cfg.train_set_size // cfg.batch_size
    m = MIXTURES[cfg.dataset]
    assert m.std == 0.01 and np.allclose(np.linalg.norm(m.centers, axis=1), 1.0)
    g = reproduce_preset.load_preset(next(x for x in PRESETS if x.stem == "pacgan_grid"))
    assert MIXTURES[g.base.dataset].std == 0.05
    assert sorted(set(MIXTURES[g.base.dataset].centers[:, 0].tolist())) == [-4, -2, 0, 2, 4]


# ---- end to end ------------------------------------------------------------------------------


def _tiny_preset(tmp_path: Path) -> Path:
    src = next(x for x in PRESETS if x.stem == "pacgan_ring").read_text()
    src = re.sub(r"g_hidden = 400", "g_hidden = 16", src)
    src = re.sub(r"d_hidden = 200", "d_hidden = 8", src)
    src = re.sub(r"seeds = 10 ", "seeds = 3 ", src)
    src = re.sub(r"runs = 10 ", "runs = 3 ", src)
    src = re.sub(r"train_set_size = 100000", "train_set_size = 200", src)
    src = re.sub(r"eval_samples = 2500", "eval_samples = 100", src)
    src = re.sub(r"steps = \[1000, 3000\]", "steps = [4, 8]", src)
    src = re.sub(r"reduced_steps = \[200, 600\]", "reduced_steps = [2]", src)
    for k in ("eval_every", "checkpoint_every"):
        src = re.sub(rf"{k} = \d+", f"{k} = 4", src)
    path = tmp_path / "tiny.toml"
    path.write_text(src)
    return path


def test_reproduce_end_to_end(tmp_path, capsys, monkeypatch):
    preset = _tiny_preset(tmp_path)
    out = tmp_path / "rep"
    code = main(["reproduce", str(preset), "--variants", "nsgan,wgan", "--out", str(out), "-q"])
    assert code == 0
    text = capsys.readouterr().out
    # the terminal table wraps its headers at 80 columns; report.md has them whole
    assert "REDUCED BUDGET" in text and "paper" in text
    assert "paper in CI" in (out / "report.md").read_text()
    report = json.loads((out / "report.json").read_text())
    assert [(s["variant"], s["steps"]) for s in report["stages"]] == [
        ("nsgan", 4), ("nsgan", 8), ("wgan", 2)]  # fmt: skip
    assert all("REDUCED BUDGET" in s["note"] for s in report["stages"])
    assert "REDUCED BUDGET" in (out / "report.md").read_text()
    assert report["stages"][1]["stats"]["modes"]["n"] == 3
    # wgan's epoch is fewer generator steps than nsgan's: not paired step for step
    assert (
        report["paired"] == []
        and "equal steps are not equal training" in report["unpaired"]["wgan"]
    )
    # a budget shorter than the run already trained is refused, not retrained over it
    before = sorted(p.name for p in (out / "nsgan").iterdir())
    code = main(
        ["reproduce", str(preset), "--variants", "nsgan", "--steps", "6", "--out", str(out)]
    )
    assert code == 2 and "steps 8 -> 6" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "nsgan").iterdir()) == before
    # so is an earlier stage lost after the run went past it (retraining would erase it)
    stage_4 = (out / "nsgan" / "reproduce_0000004.json").read_text()
    (out / "nsgan" / "reproduce_0000004.json").unlink()
    code = main(["reproduce", str(preset), "--variants", "nsgan", "--out", str(out), "-q"])
    assert code == 2 and "past this budget's 4" in capsys.readouterr().err
    assert (out / "nsgan" / "reproduce_0000008.json").is_file()
    (out / "nsgan" / "reproduce_0000004.json").write_text(stage_4)
    # a rerun skips finished stages: training anything again fails it
    from gancli.run import runner

    trained = []

    def no_training(*args, **kwargs):
        trained.append(args)
        raise AssertionError("a finished stage was trained again")

    monkeypatch.setattr(runner, "train", no_training)
    monkeypatch.setattr(runner, "resume", no_training)
    shutil.rmtree(out / "nsgan" / "checkpoints")
    assert main(["reproduce", str(preset), "--variants", "nsgan", "--out", str(out), "-q"]) == 0
    assert trained == []
    rerun = json.loads((out / "report.json").read_text())
    # the same figures, read back; the report of the directory keeps wgan's stage too
    assert rerun["stages"] == report["stages"]
    # and a stage whose result is missing is trained again (so the check above can fail)
    (out / "nsgan" / "reproduce_0000008.json").unlink()
    with pytest.raises(AssertionError, match="trained again"):
        main(["reproduce", str(preset), "--variants", "nsgan", "--out", str(out), "-q"])
    assert len(trained) == 1


def test_reproduce_rejects_bad_input(tmp_path, capsys):
    preset = _tiny_preset(tmp_path)
    assert main(["reproduce", str(preset), "--budget", "huge", "--out", str(tmp_path)]) == 2
    assert main(["reproduce", str(preset), "--variants", "lsgan", "--out", str(tmp_path)]) == 2
    assert "unknown variant" in capsys.readouterr().err


def test_train_config_takes_a_presets_config_table(tmp_path, capsys):
    """`gancli train --config pacgan_ring` trains the paper's run: the preset's [config]."""
    for name in ("pacgan_ring", "experiments/reproduce/pacgan_grid.toml"):
        assert main(["train", "--config", name, "--print-config"]) == 0
        printed = config_io.from_mapping(tomllib.loads(capsys.readouterr().out))
        preset = reproduce_preset.load_preset(Path(name).stem)
        assert printed == config_lib.resolve(preset.base)


def test_a_budget_in_epochs_counts_each_variants_own_data_use():
    preset = reproduce_preset.load_preset("pacgan_ring")
    # 100,000 samples, batch 100: 1,000 steps an epoch; WGAN's 5 critic batches a G step: 200
    assert preset.steps_for("nsgan", "epochs:20") == [20_000]
    assert preset.steps_for("wgan", "epochs:20") == [4_000]
    assert preset.steps_for("wgan", "steps:700") == [700]
    assert reproduce_preset.budget_name("reduced", epochs=20) == "epochs:20"
    assert reproduce_preset.budget_name("full", steps=5) == "steps:5"
    for kwargs, message in (({"epochs": 2, "steps": 3}, "choose one"),
                            ({"epochs": 0}, "at least 1")):  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            reproduce_preset.budget_name("reduced", **kwargs)
    assert "20 of the paper's 400 epochs" in reproduce.budget_note(preset, "wgan", 4_000)
    assert "5.00% of the paper's 80,000" in reproduce.budget_note(preset, "wgan", 4_000)


def test_welch_p_against_a_papers_standard_error():
    """The paper's ± is a standard error over 10 runs: its std is se * sqrt(10)."""
    from scipy.stats import ttest_ind_from_stats

    ours = {"n": 10, "mean": 7.4, "std": 0.84}
    about = {"pm_is_se": True, "runs": 10}
    want = ttest_ind_from_stats(7.4, 0.84, 10, 6.3, 0.5 * 10**0.5, 10, equal_var=False).pvalue
    assert report_reproduce.welch_p(6.3, 0.5, about, ours) == pytest.approx(want)
    assert (
        report_reproduce.welch_p(6.3, 0.5, {"runs": 10}, ours) is None
    )  # ± of unknown kind: no test
    assert report_reproduce.welch_p(6.3, None, about, ours) is None


def test_welch_p_is_given_only_at_the_papers_full_budget():
    from gancli.report.reproduce import table_rows

    est = {"n": 10, "mean": 7.4, "std": 0.84, "se": 0.27, "ci_low": 6.8, "ci_high": 8.0}
    stage = {"variant": "nsgan", "stats": dict.fromkeys(("modes", "hq_pct", "reverse_kl"), est),
             "wall_time_s": 1.0, "note": ""}  # fmt: skip
    report = {"anchor": {"modes": 6.3, "modes_pm": 0.5},
              "paper": {"variant": "nsgan", "pm_is_se": True, "runs": 10},
              "full_steps": {"nsgan": 400_000},
              "stages": [dict(stage, steps=20_000), dict(stage, steps=400_000)]}  # fmt: skip
    header, rows = table_rows(report)
    welch = header.index("Welch p")
    modes = [r for r in rows if r[3] == "modes"]
    assert modes[0][welch] == ""  # 20 epochs of 400: another protocol, no test
    assert float(modes[1][welch]) == pytest.approx(
        report_reproduce.welch_p(6.3, 0.5, report["paper"], est), rel=0.05
    )

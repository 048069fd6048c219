"""The per-sample D(G(z)) an evaluation records (claim 1's 'does training enter the
regime'), against D's probabilities computed here independently."""

from types import SimpleNamespace

import jax
import numpy as np

from gancli import data as data_lib
from gancli.core.state import apply_model
from gancli.core.step import GANProgram
from gancli.quality.evaluator import JUDGED, REJECT, Evaluator
from tests.conftest import tiny


def test_rejection_quantiles_and_share_are_ds_own_probabilities():
    program = GANProgram.build(tiny(loss="gan", seeds=2), data_lib.load("ring8"))
    state = program.init()
    ev = Evaluator(program, program.data)
    x = ev.samples(state) * 3.0  # spread out: some samples D is sure about, some not
    rows = ev.rejection(state, x)
    for i, row in enumerate(rows):
        d = jax.tree.map(lambda a, i=i: a[i], state.d)
        logits = apply_model(program.discriminator, d.params, d.stats, x[i, :JUDGED], True)[0]
        p = np.asarray(jax.nn.sigmoid(logits)).reshape(-1).astype(np.float64)
        np.testing.assert_allclose(
            [row["d_fake_q10"], row["d_fake_q50"], row["d_fake_q90"]],
            np.quantile(p, [0.1, 0.5, 0.9]),
            rtol=1e-5,
        )
        assert row["d_fake_rejected"] == np.mean(p < REJECT)


def test_a_critic_has_no_probability_to_record():
    program = GANProgram.build(tiny(loss="wgan", seeds=1), data_lib.load("ring8"))
    ev = Evaluator(program, program.data)
    state = program.init()
    assert ev.rejection(state, ev.samples(state)) == [{}]


def test_the_share_rejected_counts_the_first_thousand_samples_strictly_below_one_tenth():
    """Probabilities chosen by hand (a stand-in D that reads them off the samples): a
    sample at exactly 0.1 is not rejected, one at 0.099 is; samples past the first 1,000
    are not judged; each seed's share is its own."""
    seen = []

    def judge(state, x):
        seen.append(x.shape)
        return x[..., 0]

    ev = object.__new__(Evaluator)  # only what rejection() reads
    ev.program = SimpleNamespace(loss=SimpleNamespace(critic=False), judge=judge)
    ev.seeds = [0, 1]
    p = np.full((2, 1500), 0.0)  # the last 500 of each seed: 0.0, rejected if judged
    p[0, :1000] = [0.05] * 250 + [0.1] * 250 + [0.5] * 500
    p[1, :1000] = [0.099] * 100 + [0.9] * 900
    x = np.stack([p, np.zeros_like(p)], axis=-1)  # (S, N, 2) "samples"
    rows = ev.rejection(None, x)
    assert seen == [(2, 1000, 2)]
    assert [r["d_fake_rejected"] for r in rows] == [0.25, 0.1]
    # numpy's linear quantiles of the 1,000: 10 % at index 99.9, median between 499 and 500
    assert rows[0]["d_fake_q10"] == 0.05 and rows[0]["d_fake_q90"] == 0.5
    np.testing.assert_allclose(rows[0]["d_fake_q50"], 0.3)
    np.testing.assert_allclose(rows[1]["d_fake_q10"], 0.099 + 0.9 * (0.9 - 0.099))

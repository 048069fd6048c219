"""The per-sample D(G(z)) an evaluation records (claim 1's 'does training enter the
regime'), against D's probabilities computed here independently."""

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

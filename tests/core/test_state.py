"""core/state.py's helpers by hand: the WGAN clip's projection, the finiteness check."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from gancli.core.state import all_finite, clip_weights


def test_clip_weights_projects_every_leaf_onto_the_box():
    params = {"dense": {"kernel": jnp.array([[-0.5, -0.005], [0.005, 0.5]]),
                        "bias": jnp.array([-0.01, 0.02, 0.0])}}  # fmt: skip
    out = clip_weights(params, 0.01)
    np.testing.assert_array_equal(
        out["dense"]["kernel"], np.float32([[-0.01, -0.005], [0.005, 0.01]])
    )
    np.testing.assert_array_equal(out["dense"]["bias"], np.float32([-0.01, 0.01, 0.0]))


def test_all_finite_of_a_tree_and_of_an_empty_one():
    assert bool(all_finite({"a": jnp.ones(3), "b": [jnp.zeros((2, 2))]}))
    assert not bool(all_finite({"a": jnp.ones(3), "b": [jnp.array([0.0, jnp.inf])]}))
    assert not bool(all_finite({"a": jnp.array([jnp.nan])}))
    assert bool(all_finite({}))  # a model without batch statistics: nothing is non-finite

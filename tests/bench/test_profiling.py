"""`gancli bench --profile`: op kinds from compiled HLO, shares from a real profile."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from gancli.bench import profile as profiling


def _compiled(f, *args):
    return jax.jit(f).lower(*args).compile()


def test_op_kinds_classifies_matmuls_elementwise_and_loops():
    def f(a, b):
        def body(i, x):
            return jnp.tanh(x @ b) + i  # a dot (maybe fused) and elementwise work

        return jax.lax.fori_loop(0, jnp.int32(a[0, 0] > 0) + 2, body, a)  # a real while

    a = jnp.ones((64, 64))
    text = _compiled(f, a, a).as_text()
    kinds = profiling.op_kinds(text)
    assert set(kinds.values()) <= set(profiling.KINDS)
    matmuls = [n for n, k in kinds.items() if k == "matmul"]
    assert matmuls, text
    # Every instruction named as a matmul is a dot or a fusion that calls one.
    for name in matmuls:
        line = next(ln for ln in text.splitlines() if f"{name} = " in ln)
        assert " dot(" in line or " fusion(" in line or " convolution(" in line, line
    assert any(k == "control" for n, k in kinds.items() if n.startswith("while"))
    assert "elementwise" in kinds.values()


def test_summarize_adds_up_op_time_by_kind():
    kinds = {"dot.1": "matmul", "fusion.2": "elementwise", "copy.3": "copy", "while.4": "control"}
    events = [
        {"ph": "X", "name": "dot.1", "dur": 600.0},
        {"ph": "X", "name": "dot.1", "dur": 200.0},
        {"ph": "X", "name": "fusion.2", "dur": 150.0},
        {"ph": "X", "name": "copy.3", "dur": 30.0},
        {"ph": "X", "name": "while.4", "dur": 20.0},
        {"ph": "X", "name": "ThunkExecutor::Execute", "dur": 5000.0},  # not an HLO op
        {"ph": "i", "name": "dot.1", "dur": 999.0},  # not a complete event
    ]
    s = profiling.summarize(events, kinds, wall_s=0.0005, steps=2)
    assert s["available"]
    assert s["share"] == pytest.approx(
        {"matmul": 0.8, "elementwise": 0.15, "copy": 0.03, "control": 0.02}
    )
    assert s["op_ms_per_step"] == pytest.approx(0.5)  # 1000 us over 2 steps
    assert s["wall_ms_per_step"] == pytest.approx(0.25)
    assert s["overlap"] == pytest.approx(2.0)  # 1 ms of ops in 0.5 ms of wall
    assert s["top_ops"][0] == {"op": "dot.1", "kind": "matmul", "ms_per_step": 0.4}
    assert profiling.summarize([], kinds, 1.0, 1) == {"available": False}


def test_profile_of_a_matmul_program_is_mostly_matmul():
    a = jnp.ones((512, 512)) * 0.01
    compiled = _compiled(lambda x: jnp.sin(x @ x @ x), a)
    p = profiling.profile_calls(lambda: compiled(a), compiled.as_text(), calls=3, steps_per_call=1)
    assert p["available"], "the profiler recorded the compiled program's operations"
    # what was recorded, not how fast: shares of the program's own kinds, adding up to 1,
    # the matmuls among them, every top op an instruction of this program
    assert set(p["share"]) <= set(profiling.KINDS) and p["share"].get("matmul", 0) > 0, p
    assert sum(p["share"].values()) == pytest.approx(1.0)
    kinds = profiling.op_kinds(compiled.as_text())
    assert p["top_ops"] and all(kinds[o["op"]] == o["kind"] for o in p["top_ops"])

"""Numbers in sentences: a change says which way it went, a missing run says it was not run.

Pure functions for the report's prose (claims, headlines), tested on their own.
"""

from __future__ import annotations

import math


def _g(x: float) -> str:
    return f"{x:.3g}"


def moved(drop: float, lo: float | None = None, hi: float | None = None) -> str:
    """A fall in words, with its interval if given: 'fell by 0.41 [0.3, 0.52]'; a negative
    fall as the rise it is: moved(-2.07) == 'rose by 2.07' (the interval negated too)."""
    if not math.isfinite(drop):
        return "changed by an unknown amount"
    if drop == 0:
        return "did not change"
    word, sign = ("fell", 1) if drop > 0 else ("rose", -1)
    text = f"{word} by {_g(sign * drop)}"
    if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
        a, b = sorted((sign * lo, sign * hi))
        text += f" [{_g(a)}, {_g(b)}]"
    return text


def change_phrase(name: str, before: float, after: float) -> str:
    """'w1 fell by 0.5' from 1.5 to 1.0; 'w1 rose by 2.07' from 0.5 to 2.57."""
    return f"{name} {moved(before - after)}"


def not_run(needed: list[str] | tuple[str, ...], ran: list[str] | tuple[str, ...]) -> str:
    """Why a claim has no verdict: 'not run: needs wgan (this comparison ran gan, nsgan)'."""
    missing = [n for n in needed if n not in ran]
    what = " and ".join(missing or needed)
    return f"not run: needs {what} (this comparison ran {', '.join(ran) or 'nothing'})"

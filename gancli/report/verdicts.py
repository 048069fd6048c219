"""Verdicts: what a claim's verdict is made of, shared by the four claims (`claims`,
`claims_wgan`): the three verdicts, which metric a dataset is judged on, the primary
budget's row, and `decide`, which turns two Holm-adjusted families of tests (for the
claim, against it) into a verdict by their declared rule. Nothing here trains or plots."""

from __future__ import annotations

from gancli import stats
from gancli.loss_table import with_role

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
CONVERGED_HQ = 0.5  # a seed has converged when half its samples are high quality
GAN_LOSSES = with_role("gan")  # the losses claims 1 and 2 are about
WGAN = with_role("wgan")[0]  # the critic loss claims 3 and 4 are about
WEAK_VARIANTS = {  # what each weakened generator is, and whose
    "thin": "'thin': our 2-D manipulation, 1/8 of the MLP's width; the WGAN paper's own "
    "are for images",
    "nobn-const": "'nobn-const': the WGAN paper's DCGAN generator without batchnorm and with "
    "constant filters",
    "mlp": "'mlp': the WGAN paper's 4 x 512 ReLU MLP generator",
}


# ---- which metric, which verdict -----------------------------------------------------------


def distance_metric(names: list[str]) -> str:
    """The lower-is-better distance to the data: W1 (2-D) or the Fréchet distance (images)."""
    return next(m for m in ("w1", "fd", "fd_pixels") if m in names)


def coverage_metric(names: list[str]) -> str | None:
    return next((m for m in ("modes", "classes") if m in names), None)


def quality_metric(names: list[str]) -> str | None:
    """Higher is better: the share of samples that look like data (near a mode; for
    images, classified with confidence)."""
    return "hq_frac" if "hq_frac" in names else None


def headline(by_budget: list[dict], primary: int | None) -> str:
    """'supported at the primary budget (5000 steps)', 'not run: needs wgan (...)', or why
    there is no verdict."""
    row = primary_row(by_budget, primary)
    if row is None:
        return f"inconclusive: no evaluation at the primary budget ({primary} steps)"
    if row.get("why", "").startswith("not run"):
        return row["why"]
    return f"{row['verdict']} at the primary budget ({row['budget']} steps)"


def descriptive(by_budget: list[dict], primary: int | None) -> str:
    """Where each verdict holds among the other budgets (descriptive, not the verdict)."""
    others = [b for b in by_budget if b["budget"] != primary]
    if not others:
        return ""
    order = [b["budget"] for b in by_budget]
    parts = []
    for verdict in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE):
        steps = [b["budget"] for b in others if b["verdict"] == verdict]
        if steps:
            parts.append(f"{verdict} at {_ranges(steps, order)}")
    return "; ".join(parts)


def _ranges(chosen: list[int], order: list[int]) -> str:
    """Consecutive budgets (in `order`) as 'a-b', others listed."""
    idx = sorted(order.index(s) for s in chosen)
    groups, start = [], idx[0]
    for a, b in zip(idx, [*idx[1:], None], strict=True):
        if b != a + 1:
            groups.append(str(order[start]) if start == a else f"{order[start]}-{order[a]}")
            start = b
    return ", ".join(groups) + " steps"


def primary_row(by_budget: list[dict], primary: int | None) -> dict | None:
    if primary is None and by_budget:
        return by_budget[-1]
    return next((b for b in by_budget if b["budget"] == primary), None)


def _claim(text: str, how: str, by_budget: list[dict], figures: dict, primary) -> dict:
    row = primary_row(by_budget, primary)
    if row is None:
        row = {"verdict": INCONCLUSIVE, "why": f"no evaluation at the primary budget {primary}"}
    return {
        "claim": text,
        "verdict": row["verdict"],  # at the primary budget
        "why": row["why"],
        "primary_budget": primary if primary is not None else row.get("budget"),
        "headline": headline(by_budget, primary),
        "descriptive": descriptive(by_budget, primary),
        "by_budget": by_budget,
        "how": how,
        "figures": figures,
    }


def decide(
    forward: list[stats.Test],
    reverse: list[stats.Test],
    said: str,
    forward_all: bool = True,
    reverse_all: bool = False,
) -> tuple[str, str, dict]:
    """A verdict from two families of tests, each Holm-adjusted: `forward` for the claim,
    `reverse` against it. Not supported when any reverse test (every one, with
    reverse_all) is significant after adjustment; supported when every forward test (any,
    with forward_all=False) is; otherwise inconclusive with each forward test's reason."""
    forward, reverse = stats.holm(forward), stats.holm(reverse)
    fwd_ok = [t.significant for t in forward]
    rev_ok = [t.significant for t in reverse]
    tests = {
        "forward": [t.to_dict() for t in forward],
        "reverse": [t.to_dict() for t in reverse],
        "rule": {
            "forward": "all" if forward_all else "any",
            "reverse": "all" if reverse_all else "any",
        },  # fmt: skip
    }
    if rev_ok and (all(rev_ok) if reverse_all else any(rev_ok)):
        return NOT_SUPPORTED, said, tests
    if fwd_ok and (all(fwd_ok) if forward_all else any(fwd_ok)):
        return SUPPORTED, said, tests
    reasons = [t.inconclusive_reason for t in forward if not t.significant]
    return INCONCLUSIVE, f"{said}; {'; '.join(dict.fromkeys(reasons))}", tests

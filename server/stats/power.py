"""The minimum detectable effect (MDE) of a profile's holdout comparison, before launch.

Two independent proportions, treatment against holdout, with a two-sided test at alpha = 0.05 and
power 0.8, under the normal approximation with the baseline variance on both arms:

    absolute MDE = (z_{1 - alpha/2} + z_{power}) * sqrt(p (1 - p) (1/n_treatment + 1/n_holdout))
    relative MDE = absolute MDE / p

A lift target (relative, percent) below the relative MDE is unlikely to be detected, whatever the
experience does: the finding lift.underpowered says so before launch (docs/audience.md, "Power before
launch"). statistics.NormalDist gives the quantiles; no numerical library runs here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from ..errors import InputError

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class Mde:
    """A profile's minimum detectable effect: absolute (rate points, 0..1) and relative (percent)."""

    absolute: float
    relative_pct: float


def z_sum(alpha: float = ALPHA, power: float = POWER) -> float:
    """z_{1-alpha/2} + z_{power}: about 2.8016 at the defaults."""
    normal = NormalDist()
    return normal.inv_cdf(1 - alpha / 2) + normal.inv_cdf(power)


def minimum_detectable_effect(
    n_treatment: int, n_holdout: int, baseline: float, *, alpha: float = ALPHA, power: float = POWER
) -> Mde | None:
    """The MDE for these arm sizes and baseline rate; None when an arm is empty (nothing to compare)."""
    if not 0 < baseline < 1:
        raise InputError(f"baseline rate {baseline!r} is outside (0, 1)", field="baseline_rate")
    if n_treatment <= 0 or n_holdout <= 0:
        return None
    spread = math.sqrt(baseline * (1 - baseline) * (1 / n_treatment + 1 / n_holdout))
    absolute = z_sum(alpha, power) * spread
    return Mde(absolute=absolute, relative_pct=100 * absolute / baseline)

"""The lift readout's statistics, in plain Python (docs/measurement.md names each method and source).

Group 1 is the treatment (members who got the experience), group 2 the holdout. Every function
returns None, never raises, where its statistic is undefined (an empty group, no conversions where
a log needs some, a pooled rate of 0 or 1); `readout()` turns those gaps into warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

from .power import minimum_detectable_effect

ALPHA = 0.05
POWER = 0.80
SRM_ALPHA = 0.001
_NORMAL = NormalDist()

INTERVAL_METHOD = "Newcombe hybrid score interval (method 10, Wilson score without continuity correction)"
RATIO_METHOD = "Katz log interval for the risk ratio, minus 1"
TEST_METHOD = "two-sided pooled two-proportion z test"
SRM_METHOD = "chi-square goodness of fit, 1 df, flagged at p < 0.001"
VALUE_METHOD = "difference of means, Welch (unequal variances) standard error, normal approximation"

Interval = tuple[float, float]


def z_value(alpha: float = ALPHA) -> float:
    return _NORMAL.inv_cdf(1 - alpha / 2)


def two_sided_p(z: float) -> float:
    # erfc keeps its precision far into the tail, where 1 - cdf (or 2 * cdf(-|z|) through erf)
    # cancels to a few digits: a p-value of 1e-12 is still reported to full precision.
    return math.erfc(abs(z) / math.sqrt(2))


def wilson(count: int, n: int, alpha: float = ALPHA) -> Interval | None:
    """Wilson's score interval for one proportion (no continuity correction)."""
    if n <= 0:
        return None
    z = z_value(alpha)
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_diff(x1: int, n1: int, x2: int, n2: int, alpha: float = ALPHA) -> Interval | None:
    """Newcombe (1998) method 10: the interval of p1 - p2 from the two Wilson intervals."""
    first, second = wilson(x1, n1, alpha), wilson(x2, n2, alpha)
    if first is None or second is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = first, second
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def katz_ratio(x1: int, n1: int, x2: int, n2: int, alpha: float = ALPHA) -> Interval | None:
    """Katz et al. (1978): the log interval of the risk ratio p1 / p2; None without conversions."""
    if n1 <= 0 or n2 <= 0 or x1 <= 0 or x2 <= 0:
        return None
    ratio = (x1 / n1) / (x2 / n2)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    z = z_value(alpha)
    return ratio * math.exp(-z * se), ratio * math.exp(z * se)


def pooled_z_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """The two-sided p-value of H0 p1 = p2, with the pooled rate in the standard error."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    return two_sided_p((x1 / n1 - x2 / n2) / math.sqrt(variance))


def srm_chisquare(treatment: int, holdout: int, share: float) -> tuple[float, float] | None:
    """(chi-square, p) of the observed holdout/treatment split against the target share, 1 df.

    With one degree of freedom the chi-square is the square of a standard normal, so its upper
    tail is exactly the two-sided normal tail of its square root.
    """
    total = treatment + holdout
    if total <= 0 or not 0 < share < 1:
        return None
    expected_h, expected_t = total * share, total * (1 - share)
    chi2 = (holdout - expected_h) ** 2 / expected_h + (treatment - expected_t) ** 2 / expected_t
    return chi2, two_sided_p(math.sqrt(chi2))


def relative_mde(
    n1: int, n2: int, baseline: float, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest relative lift (a fraction of the baseline) detectable at this power and alpha:
    stats.power's minimum detectable effect, the same figure the plan showed before launch."""
    if n1 <= 0 or n2 <= 0 or not 0 < baseline < 1:
        return None
    mde = minimum_detectable_effect(n1, n2, baseline, alpha=alpha, power=power)
    return None if mde is None else mde.relative_pct / 100


@dataclass(frozen=True)
class Moments:
    """A group's count, mean and sample variance (ddof 1) of a value; variance None below 2 rows."""

    n: int
    mean: float
    variance: float | None

    @staticmethod
    def combine(parts: list[Moments]) -> Moments:
        """The moments of the union of groups (Chan et al.'s parallel formula)."""
        n = sum(p.n for p in parts)
        if n == 0:
            return Moments(0, 0.0, None)
        mean = sum(p.n * p.mean for p in parts) / n
        m2 = sum((p.variance or 0.0) * (p.n - 1) + p.n * (p.mean - mean) ** 2 for p in parts if p.n)
        return Moments(n, mean, m2 / (n - 1) if n > 1 else None)


@dataclass(frozen=True)
class MeanDifference:
    difference: float
    interval: Interval | None
    p_value: float | None


def welch_z(first: Moments, second: Moments, alpha: float = ALPHA) -> MeanDifference | None:
    """mean1 - mean2 with Welch's standard error and normal quantiles (a large-sample interval)."""
    if first.n < 2 or second.n < 2 or first.variance is None or second.variance is None:
        return None
    difference = first.mean - second.mean
    se = math.sqrt(first.variance / first.n + second.variance / second.n)
    if se <= 0:
        return MeanDifference(difference, None, None)
    z = z_value(alpha)
    return MeanDifference(
        difference, (difference - z * se, difference + z * se), two_sided_p(difference / se)
    )


@dataclass
class Readout:
    """One comparison's figures; rates and lifts are fractions (the model stores percents)."""

    treatment_rate: float | None = None
    holdout_rate: float | None = None
    absolute_lift: float | None = None
    absolute_ci: Interval | None = None
    relative_lift: float | None = None
    relative_ci: Interval | None = None
    p_value: float | None = None
    mde: float | None = None
    srm: tuple[float, float] | None = None
    warnings: list[str] = field(default_factory=list)


def readout(
    x1: int, n1: int, x2: int, n2: int, *, share: float | None, target: float | None, baseline: float | None
) -> Readout:
    """Every statistic of one treatment/holdout comparison, with a warning for each that is missing.

    `share` is the target holdout share (the SRM check), `target` the relative lift the plan aims at
    (a fraction), `baseline` the plan's baseline rate, used for the power check when the holdout
    has no rate of its own to offer (no holdout, or 0 or all conversions).
    """
    result = Readout()
    if n1 == 0 or n2 == 0:
        result.warnings.append(f"no {'treatment' if n1 == 0 else 'holdout'} members: nothing to compare")
    if n1:
        result.treatment_rate = x1 / n1
    if n2:
        result.holdout_rate = x2 / n2
    if n1 and n2:
        _lifts(result, x1, n1, x2, n2)
    if share is not None:
        result.srm = srm_chisquare(n1, n2, share)
        if result.srm is not None and result.srm[1] < SRM_ALPHA:
            realised = n2 / (n1 + n2)
            result.warnings.append(
                f"sample ratio mismatch: {realised:.2%} held out against a target of {share:.2%} "
                f"(p = {result.srm[1]:.2g}); check the assignment before trusting the lift"
            )
    _power(result, n1, n2, target, baseline)
    return result


def _lifts(result: Readout, x1: int, n1: int, x2: int, n2: int) -> None:
    p1, p2 = x1 / n1, x2 / n2
    result.absolute_lift = p1 - p2
    result.absolute_ci = newcombe_diff(x1, n1, x2, n2)
    result.p_value = pooled_z_p(x1, n1, x2, n2)
    if result.p_value is None:
        result.warnings.append("no p-value: every member reached the KPI, or none did")
    if x2 == 0:
        result.warnings.append("no relative lift: no holdout member reached the KPI")
        return
    result.relative_lift = p1 / p2 - 1
    ratio = katz_ratio(x1, n1, x2, n2)
    if ratio is None:
        result.warnings.append("no relative interval: no treatment member reached the KPI")
    else:
        result.relative_ci = (ratio[0] - 1, ratio[1] - 1)


def _power(result: Readout, n1: int, n2: int, target: float | None, baseline: float | None) -> None:
    rate = result.holdout_rate if result.holdout_rate not in (None, 0.0, 1.0) else baseline
    if rate is None:
        return
    result.mde = relative_mde(n1, n2, rate)
    if result.mde is not None and target is not None and result.mde > abs(target):
        result.warnings.append(
            f"underpowered: the smallest lift this sample detects (80% power, alpha 0.05) is "
            f"{result.mde:.1%}, above the {target:.1%} target"
        )

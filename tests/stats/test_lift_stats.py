"""The lift statistics agree with statsmodels and scipy (the oracles), over random and edge inputs."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from personalization_engine.stats import lift

RNG = random.Random(20261201)
EDGE = [
    (0, 10, 0, 10),
    (10, 10, 10, 10),
    (0, 1000, 5, 100),
    (1000, 1000, 50, 100),
    (1, 1, 0, 1),
    (1, 2, 1, 3),
    (300_000, 2_000_000, 28_000, 200_000),
    (123_457, 9_000_001, 13_001, 1_000_003),
]
CASES = EDGE + [
    (RNG.randint(0, n1), n1, RNG.randint(0, n2), n2)
    for n1, n2 in ((RNG.randint(1, 5000), RNG.randint(1, 800)) for _ in range(200))
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), CASES)
def test_newcombe_difference_interval_equals_statsmodels_newcomb(x1, n1, x2, n2):
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    ours = lift.newcombe_diff(x1, n1, x2, n2)
    assert ours == pytest.approx((low, high), abs=1e-9)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), CASES)
def test_katz_log_ratio_interval_equals_statsmodels_log_or_is_null_without_conversions(x1, n1, x2, n2):
    ours = lift.katz_ratio(x1, n1, x2, n2)
    if x1 == 0 or x2 == 0:
        assert ours is None
        return
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio")
    assert ours == pytest.approx((low, high), rel=1e-9)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), CASES)
def test_pooled_z_p_value_equals_statsmodels_proportions_ztest(x1, n1, x2, n2):
    ours = lift.pooled_z_p(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0, 1):
        assert ours is None
        return
    _, p = proportions_ztest([x1, x2], [n1, n2])
    assert ours == pytest.approx(p, rel=1e-7, abs=1e-300)


@pytest.mark.parametrize(
    ("treatment", "holdout", "share"),
    [(900, 100, 0.1), (1, 0, 0.5), (5_000_000, 560_000, 0.1), (10, 90, 0.5), (9000, 1100, 0.1)]
    + [(RNG.randint(0, 10**6), RNG.randint(1, 10**5), RNG.choice([0.05, 0.1, 0.25, 0.5])) for _ in range(50)],
)
def test_srm_chi_square_equals_scipy_chisquare(treatment, holdout, share):
    total = treatment + holdout
    chi2, p = scipy_stats.chisquare([treatment, holdout], [total * (1 - share), total * share])
    assert lift.srm_chisquare(treatment, holdout, share) == pytest.approx((chi2, p), rel=1e-7, abs=1e-300)


def test_srm_is_flagged_below_one_in_a_thousand_and_not_for_a_fair_split():
    fair = lift.readout(900, 9000, 100, 1000, share=0.1, target=None, baseline=None)
    skewed = lift.readout(900, 9000, 100, 1300, share=0.1, target=None, baseline=None)
    assert not any("sample ratio" in w for w in fair.warnings)
    assert any("sample ratio mismatch" in w for w in skewed.warnings)


def _moments(values: np.ndarray) -> lift.Moments:
    return lift.Moments(
        len(values), float(values.mean()), float(values.var(ddof=1)) if len(values) > 1 else None
    )


@pytest.mark.parametrize("seed", range(20))
def test_welch_normal_interval_equals_statsmodels_unequal_z_and_nears_scipy_welch_at_large_n(seed):
    rng = np.random.default_rng(seed)
    a = rng.exponential(40 + seed, size=rng.integers(2, 3000)) * (rng.random() < 0.9)
    b = rng.exponential(35, size=rng.integers(2, 3000))
    ours = lift.welch_z(_moments(a), _moments(b))
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    assert ours.interval == pytest.approx(compare.zconfint_diff(usevar="unequal"), rel=1e-9)
    assert ours.p_value == pytest.approx(compare.ztest_ind(usevar="unequal")[1], rel=1e-7, abs=1e-300)
    big_a, big_b = rng.normal(10, 3, 200_000), rng.normal(10.02, 5, 150_000)
    welch = scipy_stats.ttest_ind(big_a, big_b, equal_var=False)
    assert lift.welch_z(_moments(big_a), _moments(big_b)).p_value == pytest.approx(welch.pvalue, rel=1e-3)


def test_combined_moments_equal_the_moments_of_the_union():
    rng = np.random.default_rng(7)
    parts = [rng.normal(5 * k, k + 1, size=n) for k, n in enumerate((1, 2, 50, 1000))]
    combined = lift.Moments.combine([_moments(p) for p in parts])
    union = np.concatenate(parts)
    assert combined.n == len(union)
    assert combined.mean == pytest.approx(union.mean())
    assert combined.variance == pytest.approx(union.var(ddof=1))


def test_mde_matches_the_normal_approximation_power_of_statsmodels():
    from statsmodels.stats.power import NormalIndPower

    n1, n2, base = 9000, 1000, 0.2
    mde = lift.relative_mde(n1, n2, base)
    # Cohen's h is the arcsine effect; at this size the linear and arcsine forms agree closely.
    effect = mde * base / math.sqrt(base * (1 - base))
    power = NormalIndPower().power(effect, nobs1=n1, alpha=0.05, ratio=n2 / n1)
    assert power == pytest.approx(0.8, abs=0.002)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [
        (0, 0, 0, 0),
        (0, 5, 0, 0),
        (0, 0, 3, 5),
        (0, 10, 0, 10),
        (10, 10, 10, 10),
        (0, 10, 3, 10),
        (4, 10, 0, 10),
    ],
)
def test_edge_inputs_give_null_statistics_with_a_warning_never_a_crash(x1, n1, x2, n2):
    result = lift.readout(x1, n1, x2, n2, share=0.1, target=0.1, baseline=0.2)
    assert result.warnings
    nulls = [result.absolute_ci, result.relative_ci, result.p_value, result.relative_lift]
    assert any(value is None for value in nulls)
    for value in (result.absolute_lift, result.relative_lift, result.p_value):
        assert value is None or math.isfinite(value)


def test_underpowered_warning_names_the_mde_and_the_target():
    small = lift.readout(50, 200, 4, 20, share=0.1, target=0.15, baseline=None)
    large = lift.readout(90_000, 900_000, 9_000, 100_000, share=0.1, target=0.15, baseline=None)
    assert any(w.startswith("underpowered") and "15.0% target" in w for w in small.warnings)
    assert not any(w.startswith("underpowered") for w in large.warnings)

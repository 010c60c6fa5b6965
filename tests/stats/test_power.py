"""The minimum detectable effect against statsmodels: at our MDE, statsmodels' power of the same
two-sided z-test of two proportions is 0.80, and its closed form matches the documented formula."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from personalization_engine.errors import InputError
from personalization_engine.stats.power import minimum_detectable_effect, z_sum

CASES = [
    (9000, 1000, 0.2),
    (900, 100, 0.05),
    (50_000, 50_000, 0.5),
    (1_900_000, 100_000, 0.013),
    (45, 5, 0.9),
    (1, 1, 0.5),
]


def test_z_sum_is_the_two_sided_005_quantile_plus_the_080_power_quantile():
    assert z_sum() == pytest.approx(1.959964 + 0.841621, abs=1e-6)


@pytest.mark.parametrize(("n_t", "n_h", "p"), CASES)
def test_statsmodels_power_at_our_mde_is_080(n_t: int, n_h: int, p: float):
    mde = minimum_detectable_effect(n_t, n_h, p)
    assert mde is not None
    # statsmodels' normal power in the effect size d = delta / sigma with one shared sigma, the
    # variance our formula uses (the baseline's on both arms); ratio = nobs2 / nobs1.
    sigma = math.sqrt(p * (1 - p))
    power = NormalIndPower().power(mde.absolute / sigma, nobs1=n_t, alpha=0.05, ratio=n_h / n_t)
    assert power == pytest.approx(0.80, abs=5e-4)  # statsmodels adds the (tiny) opposite tail
    assert mde.relative_pct == pytest.approx(100 * mde.absolute / p)


@pytest.mark.parametrize(
    ("n_t", "n_h", "p"), [(9000, 1000, 0.2), (50_000, 50_000, 0.5), (1_900_000, 100_000, 0.013)]
)
def test_cohens_h_solution_agrees_with_the_normal_approximation_on_large_arms(n_t: int, n_h: int, p: float):
    # statsmodels' own route, Cohen's h (arcsine): the effect it finds detectable at 80% power is
    # close to ours when the arms are large and the effect small relative to p (on 100 held out at
    # p = 0.05 the arcsine scale differs by a quarter, which is why we solve at our MDE above).
    h = NormalIndPower().solve_power(nobs1=n_t, alpha=0.05, power=0.8, ratio=n_h / n_t)
    mde = minimum_detectable_effect(n_t, n_h, p)
    assert mde is not None
    treated = math.sin(math.asin(math.sqrt(p)) + h / 2) ** 2  # p + delta with h = 2asin√p2 - 2asin√p
    assert proportion_effectsize(treated, p) == pytest.approx(h, rel=1e-9)
    assert mde.absolute == pytest.approx(treated - p, rel=0.05)


def test_an_empty_arm_has_no_mde_and_a_baseline_outside_0_1_is_refused_by_name():
    assert minimum_detectable_effect(0, 10, 0.2) is None
    assert minimum_detectable_effect(10, 0, 0.2) is None
    for bad in (0.0, 1.0, -0.1, math.nan):
        with pytest.raises(InputError, match=r"baseline rate .* is outside \(0, 1\)"):
            minimum_detectable_effect(10, 10, bad)


def test_more_holdout_lowers_the_mde_and_a_rarer_kpi_raises_the_relative_mde():
    small = minimum_detectable_effect(9500, 500, 0.1)
    large = minimum_detectable_effect(8000, 2000, 0.1)
    rare = minimum_detectable_effect(8000, 2000, 0.01)
    assert small and large and rare
    assert large.absolute < small.absolute
    assert rare.relative_pct > large.relative_pct

"""A lift readout's figures: the audience layer's counts through the statistics, as model objects.

Rates and lifts are stored in percent, rounded to 4 decimals; p-values to 3 significant digits.
"""

from __future__ import annotations

from ..audience.lift_data import GroupCounts, LiftCounts
from ..model.lift import ProfileLift, ValueLift
from ..stats import lift as stats

OVERALL = "overall"
EMPTY = GroupCounts(0, 0, 0, 0.0, None)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 4)


def _pct_pair(pair: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if pair is None else (round(100 * pair[0], 4), round(100 * pair[1], 4))


def _p(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.3g}")


def _moments(group: GroupCounts) -> stats.Moments:
    return stats.Moments(group.n, group.mean, group.variance)


def _value(treatment: GroupCounts, holdout: GroupCounts) -> ValueLift:
    difference = stats.welch_z(_moments(treatment), _moments(holdout))
    return ValueLift(
        treatment_mean=round(treatment.mean, 6) if treatment.n else None,
        holdout_mean=round(holdout.mean, 6) if holdout.n else None,
        difference=None if difference is None else round(difference.difference, 6),
        difference_ci=None
        if difference is None or difference.interval is None
        else (round(difference.interval[0], 6), round(difference.interval[1], 6)),
        p_value=None if difference is None else _p(difference.p_value),
    )


def profile_lift(
    profile_id: str,
    treatment: GroupCounts,
    holdout: GroupCounts,
    *,
    share: float | None,
    target: float | None,
    baseline: float | None,
    with_value: bool,
    extra_warnings: tuple[str, ...] = (),
) -> ProfileLift:
    figures = stats.readout(
        treatment.conversions, treatment.n, holdout.conversions, holdout.n,
        share=share, target=target, baseline=baseline,
    )  # fmt: skip
    without = treatment.n + holdout.n - treatment.known - holdout.known
    warnings = list(extra_warnings) + figures.warnings
    if without:
        warnings.append(f"{without} members have no outcome (no row or a null KPI): counted as not reached")
    return ProfileLift(
        profile_id=profile_id,
        holdout_share=share,
        treatment=treatment.n,
        holdout=holdout.n,
        treatment_conversions=treatment.conversions,
        holdout_conversions=holdout.conversions,
        without_outcome=without,
        treatment_rate=_pct(figures.treatment_rate),
        holdout_rate=_pct(figures.holdout_rate),
        absolute_lift=_pct(figures.absolute_lift),
        absolute_ci=_pct_pair(figures.absolute_ci),
        relative_lift_pct=_pct(figures.relative_lift),
        relative_ci_pct=_pct_pair(figures.relative_ci),
        p_value=_p(figures.p_value),
        mde_pct=_pct(figures.mde),
        srm_chi2=None if figures.srm is None else round(figures.srm[0], 6),
        srm_p_value=None if figures.srm is None else _p(figures.srm[1]),
        value=_value(treatment, holdout) if with_value else None,
        warnings=tuple(w[:200] for w in warnings[:20]),
    )


def _pooled(groups: list[GroupCounts]) -> GroupCounts:
    moments = stats.Moments.combine([_moments(g) for g in groups])
    return GroupCounts(
        n=moments.n,
        conversions=sum(g.conversions for g in groups),
        known=sum(g.known for g in groups),
        mean=moments.mean,
        variance=moments.variance,
    )


def readout_profiles(
    counts: LiftCounts,
    shares: dict[str, float],
    *,
    target: float | None,
    baseline: float | None,
    with_value: bool,
) -> tuple[list[ProfileLift], ProfileLift]:
    """Each profile's readout in priority order, and every held-out profile's members pooled."""
    results, treated, held = [], [], []
    for index, profile_id in enumerate(counts.profile_ids):
        treatment = counts.groups.get((index, False), EMPTY)
        holdout = counts.groups.get((index, True), EMPTY)
        share = shares.get(profile_id)
        note = () if share is not None else ("the profile has no holdout: no comparison",)
        results.append(
            profile_lift(
                profile_id,
                treatment,
                holdout,
                share=share,
                target=target,
                baseline=baseline,
                with_value=with_value,
                extra_warnings=note,
            )
        )
        if share is not None:
            treated.append(treatment)
            held.append(holdout)
    distinct = sorted({shares[p] for p in counts.profile_ids if p in shares})
    # With one share the pooled split has a target to test; with several it has none.
    common_share = distinct[0] if len(distinct) == 1 else None
    mixed = ("profiles hold out different shares: the pooled figure weights them unevenly",)
    overall = profile_lift(
        OVERALL, _pooled(treated), _pooled(held),
        share=common_share, target=target, baseline=baseline,
        with_value=with_value, extra_warnings=mixed if len(distinct) > 1 else (),
    )  # fmt: skip
    return results, overall

"""Impact figures for the reports: online rates, a rank correlation, and a difference in differences.

Pure functions over counts the report queries have already summed (no database, no request), so every
figure can be checked by hand from the rows it returns. Rates are shares (0..1); the caller formats them.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from scipy import stats

# Below this many units in either group an interval rests on very few communes: the reading should say so.
FEW_UNITS = 10


def rate(online: int, total: int) -> float | None:
    """Share of dossiers submitted online, 0..1; None when there were none at all (no data is not 0%)."""
    if total < 0 or not 0 <= online <= total:
        raise ValueError(f"online count {online} must be between 0 and the total {total}")
    return online / total if total else None


def change_in_rate(pre_online: int, pre_total: int, post_online: int, post_total: int) -> float | None:
    """Rate after minus rate before (a share difference, -1..1); None when either period has no dossiers."""
    pre, post = rate(pre_online, pre_total), rate(post_online, post_total)
    if pre is None or post is None:
        return None
    return post - pre


def _present(value: float | None) -> bool:
    # A NaN from upstream arithmetic is as missing as a None: neither may enter a mean or a rank.
    return value is not None and not math.isnan(value)


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rho between two measures of the same units, with its two-sided p-value.

    ``rho`` and ``p_value`` are None, never NaN, when they cannot be computed: fewer than 3 complete
    pairs, or one measure equal for every unit (nothing to rank)."""

    rho: float | None
    p_value: float | None
    n: int  # pairs used
    dropped: int  # pairs left out because either value was missing


def rank_correlation(xs: Sequence[float | None], ys: Sequence[float | None]) -> RankCorrelation:
    """Spearman's rank correlation of paired values; a pair with a missing value on either side is dropped.

    Ties get their average rank, and rho is Pearson's correlation of the ranks. The p-value is scipy's
    (Student's t approximation with n - 2 degrees of freedom), which is rough below about 10 pairs."""
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if _present(x) and _present(y)]
    n, dropped = len(pairs), len(xs) - len(pairs)
    if n < 3 or len({x for x, _ in pairs}) == 1 or len({y for _, y in pairs}) == 1:
        return RankCorrelation(rho=None, p_value=None, n=n, dropped=dropped)
    result = stats.spearmanr([x for x, _ in pairs], [y for _, y in pairs])
    return RankCorrelation(rho=float(result.statistic), p_value=float(result.pvalue), n=n, dropped=dropped)


@dataclass(frozen=True)
class UnitRates:
    """One unit's dossier counts, summed over the period before outreach began and the period after."""

    unit_id: int
    label: str
    treated: bool  # the teams went out here
    pre_online: int
    pre_total: int
    post_online: int
    post_total: int


class Exclusion(StrEnum):
    """Why a unit was left out of the difference in differences (the caller words it for the reader)."""

    NO_PRE_DOSSIERS = "no_pre_dossiers"
    NO_POST_DOSSIERS = "no_post_dossiers"
    NO_DOSSIERS = "no_dossiers"  # none before and none after


class NoInterval(StrEnum):
    """Why a difference in differences has no confidence interval."""

    TOO_FEW_UNITS = "too_few_units"  # a group has fewer than 2 units: no spread to measure
    NO_VARIATION = "no_variation"  # every unit in each group changed by exactly the same amount


@dataclass(frozen=True)
class UnitChange:
    """One unit's row behind the estimate: its rates and their change (post - pre)."""

    unit: UnitRates
    pre_rate: float
    post_rate: float
    change: float


@dataclass(frozen=True)
class ExcludedUnit:
    """A unit given but left out of the estimate, and why."""

    unit: UnitRates
    reason: Exclusion


@dataclass(frozen=True)
class GroupSummary:
    """The units of one group, each counted once whatever its size: mean rates and the mean change.

    ``mean_change`` equals ``mean_post_rate - mean_pre_rate``; all are None for an empty group, and
    ``sd_change`` (sample standard deviation) is None below 2 units."""

    n: int
    mean_pre_rate: float | None
    mean_post_rate: float | None
    mean_change: float | None
    sd_change: float | None


@dataclass(frozen=True)
class DiDEstimate:
    """A difference in differences: the treated units' mean change in rate minus the control units'.

    ``se``, ``df`` and the interval are None when ``no_interval`` says why; ``estimate`` is None only
    when a group has no unit at all. ``changes`` and ``excluded`` hold every unit given, so each figure
    can be traced back to its counts."""

    estimate: float | None
    se: float | None
    df: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    treated: GroupSummary
    control: GroupSummary
    changes: tuple[UnitChange, ...]
    excluded: tuple[ExcludedUnit, ...]
    no_interval: NoInterval | None
    ci_includes_zero: bool | None  # None when there is no interval
    few_units: bool  # fewer than FEW_UNITS treated or control units


def _exclusion(unit: UnitRates) -> Exclusion | None:
    if unit.pre_total == 0 and unit.post_total == 0:
        return Exclusion.NO_DOSSIERS
    if unit.pre_total == 0:
        return Exclusion.NO_PRE_DOSSIERS
    if unit.post_total == 0:
        return Exclusion.NO_POST_DOSSIERS
    return None


def _summary(rows: Sequence[UnitChange]) -> GroupSummary:
    if not rows:
        return GroupSummary(n=0, mean_pre_rate=None, mean_post_rate=None, mean_change=None, sd_change=None)
    return GroupSummary(
        n=len(rows),
        mean_pre_rate=statistics.fmean(row.pre_rate for row in rows),
        mean_post_rate=statistics.fmean(row.post_rate for row in rows),
        mean_change=statistics.fmean(row.change for row in rows),
        sd_change=statistics.stdev(row.change for row in rows) if len(rows) >= 2 else None,
    )


def difference_in_differences(units: Sequence[UnitRates], confidence: float = 0.95) -> DiDEstimate:
    """Estimate how much more the online rate rose where the teams went out than where they did not.

    Method, so it can be checked by hand: each unit's change is Δᵢ = rate after − rate before, where a
    rate is online / total dossiers in that period (a unit with no dossiers before or after is left out,
    with the reason). The estimate is mean(Δ treated) − mean(Δ control), every unit weighted equally.
    Its standard error is Welch's sqrt(s²_T/n_T + s²_C/n_C) with the sample variances of Δ, its degrees
    of freedom Welch–Satterthwaite's, and the interval estimate ± t(df, (1 + confidence) / 2) · SE.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    changes: list[UnitChange] = []
    excluded: list[ExcludedUnit] = []
    for unit in units:
        reason = _exclusion(unit)
        if reason is not None:
            excluded.append(ExcludedUnit(unit=unit, reason=reason))
            continue
        pre, post = rate(unit.pre_online, unit.pre_total), rate(unit.post_online, unit.post_total)
        assert pre is not None and post is not None  # _exclusion left out the units with no dossiers
        changes.append(UnitChange(unit=unit, pre_rate=pre, post_rate=post, change=post - pre))

    treated = _summary([row for row in changes if row.unit.treated])
    control = _summary([row for row in changes if not row.unit.treated])
    estimate = None
    if treated.mean_change is not None and control.mean_change is not None:
        estimate = treated.mean_change - control.mean_change
    se = df = ci_low = ci_high = None
    no_interval = None
    if estimate is None or treated.sd_change is None or control.sd_change is None:
        no_interval = NoInterval.TOO_FEW_UNITS  # (no estimate means a group has no unit at all)
    else:
        treated_term = treated.sd_change**2 / treated.n
        control_term = control.sd_change**2 / control.n
        se = math.sqrt(treated_term + control_term)
        if se < 1e-12:
            # Equal changes leave float dust (1e-17), not 0. Welch–Satterthwaite is 0/0 here, and an
            # interval of width 0 would claim a certainty no sample of communes can give.
            se = 0.0
            no_interval = NoInterval.NO_VARIATION
        else:
            df = (treated_term + control_term) ** 2 / (
                treated_term**2 / (treated.n - 1) + control_term**2 / (control.n - 1)
            )
            half_width = float(stats.t.ppf((1 + confidence) / 2, df)) * se
            ci_low, ci_high = estimate - half_width, estimate + half_width

    return DiDEstimate(
        estimate=estimate,
        se=se,
        df=df,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        treated=treated,
        control=control,
        changes=tuple(changes),
        excluded=tuple(excluded),
        no_interval=no_interval,
        ci_includes_zero=None if ci_low is None or ci_high is None else ci_low <= 0 <= ci_high,
        few_units=treated.n < FEW_UNITS or control.n < FEW_UNITS,
    )

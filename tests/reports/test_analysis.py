"""Impact figures, each checked against numbers worked out by hand in the comments."""

import math

import pytest
from scipy import stats

from outreach.reports.analysis import (
    Exclusion,
    NoInterval,
    UnitRates,
    change_in_rate,
    difference_in_differences,
    rank_correlation,
    rate,
)


def make_unit(unit_id, treated, pre, post, label=None):
    """pre and post are (online, total) dossier counts."""
    return UnitRates(
        unit_id=unit_id,
        label=label or f"Xã {unit_id}",
        treated=treated,
        pre_online=pre[0],
        pre_total=pre[1],
        post_online=post[0],
        post_total=post[1],
    )


# Treated:  T1 20/100 = 0.20 → 45/100 = 0.45, Δ 0.25
#           T2 30/100 = 0.30 → 40/100 = 0.40, Δ 0.10
#           T3 10/50  = 0.20 → 30/50  = 0.60, Δ 0.40
#   mean Δ 0.25; deviations 0, -0.15, +0.15; s² = 0.045 / 2 = 0.0225
# Control:  C1 20/100 = 0.20 → 25/100 = 0.25, Δ 0.05
#           C2 40/200 = 0.20 → 40/200 = 0.20, Δ 0.00
#           C3 30/100 = 0.30 → 40/100 = 0.40, Δ 0.10
#   mean Δ 0.05; deviations 0, -0.05, +0.05; s² = 0.005 / 2 = 0.0025
# Estimate 0.25 - 0.05 = 0.20
# SE = sqrt(0.0225/3 + 0.0025/3) = sqrt(3/400 + 1/1200) = sqrt(1/120) = 0.0912870929...
# df = (1/120)² / ((3/400)²/2 + (1/1200)²/2) = (1/14400) / (82/2880000) = 100/41 = 2.4390243902...
# t(df=100/41, 0.975) = 3.6394... (scipy below); CI = 0.20 ± t · SE = -0.132 .. 0.532
HAND_UNITS = [
    make_unit(1, True, (20, 100), (45, 100)),
    make_unit(2, True, (30, 100), (40, 100)),
    make_unit(3, True, (10, 50), (30, 50)),
    make_unit(4, False, (20, 100), (25, 100)),
    make_unit(5, False, (40, 200), (40, 200)),
    make_unit(6, False, (30, 100), (40, 100)),
]


def test_rate_is_none_without_dossiers_not_zero():
    assert rate(0, 0) is None
    assert rate(0, 40) == 0
    assert rate(71_725, 170_531) == pytest.approx(0.420598, abs=1e-6)


def test_rate_refuses_more_online_than_in_total():
    with pytest.raises(ValueError, match="between 0 and the total"):
        rate(5, 4)


def test_change_in_rate():
    assert change_in_rate(20, 100, 45, 100) == pytest.approx(0.25)
    assert change_in_rate(0, 0, 45, 100) is None
    assert change_in_rate(20, 100, 0, 0) is None


def test_difference_in_differences_by_hand():
    result = difference_in_differences(HAND_UNITS)

    t_quantile = stats.t.ppf(0.975, 100 / 41)
    assert 3.182 < t_quantile < 4.303  # between the printed tables' t(3) and t(2) at 0.975: the right tail
    se = math.sqrt(1 / 120)
    assert result.estimate == pytest.approx(0.20, abs=1e-6)
    assert result.se == pytest.approx(0.0912870929, abs=1e-6)
    assert result.df == pytest.approx(2.4390243902, abs=1e-6)
    assert result.ci_low == pytest.approx(0.20 - t_quantile * se, abs=1e-6)
    assert result.ci_high == pytest.approx(0.20 + t_quantile * se, abs=1e-6)
    assert result.ci_includes_zero is True
    assert result.no_interval is None
    assert result.few_units is True

    assert result.treated.n == 3 and result.control.n == 3
    assert result.treated.mean_pre_rate == pytest.approx(0.7 / 3)
    assert result.treated.mean_post_rate == pytest.approx(1.45 / 3)
    assert result.treated.mean_change == pytest.approx(0.25)
    assert result.treated.sd_change == pytest.approx(0.15)
    assert result.control.mean_pre_rate == pytest.approx(0.7 / 3)
    assert result.control.mean_post_rate == pytest.approx(0.85 / 3)
    assert result.control.mean_change == pytest.approx(0.05)
    assert [round(row.change, 9) for row in result.changes] == [0.25, 0.10, 0.40, 0.05, 0.0, 0.10]
    assert result.excluded == ()


def test_interval_at_another_confidence():
    result = difference_in_differences(HAND_UNITS, confidence=0.90)

    half_width = stats.t.ppf(0.95, 100 / 41) * math.sqrt(1 / 120)
    assert result.confidence == 0.90
    assert result.ci_high - result.ci_low == pytest.approx(2 * half_width, abs=1e-9)


def test_units_without_dossiers_are_excluded_with_the_reason():
    units = [
        *HAND_UNITS,
        make_unit(7, True, (0, 0), (10, 40)),
        make_unit(8, False, (5, 20), (0, 0)),
        make_unit(9, False, (0, 0), (0, 0)),
    ]

    result = difference_in_differences(units)

    assert [(row.unit.unit_id, row.reason) for row in result.excluded] == [
        (7, Exclusion.NO_PRE_DOSSIERS),
        (8, Exclusion.NO_POST_DOSSIERS),
        (9, Exclusion.NO_DOSSIERS),
    ]
    assert len(result.changes) == 6
    # The excluded units change nothing: the estimate is still the hand-computed one.
    assert result.estimate == pytest.approx(0.20, abs=1e-9)
    assert result.df == pytest.approx(100 / 41, abs=1e-9)


def test_a_group_of_one_gives_the_estimate_without_an_interval():
    units = [make_unit(1, True, (20, 100), (45, 100)), *HAND_UNITS[3:]]

    result = difference_in_differences(units)

    assert result.estimate == pytest.approx(0.25 - 0.05)
    assert result.no_interval == NoInterval.TOO_FEW_UNITS
    assert (result.se, result.df, result.ci_low, result.ci_high, result.ci_includes_zero) == (None,) * 5
    assert result.treated.sd_change is None


def test_an_empty_group_gives_no_estimate():
    result = difference_in_differences(HAND_UNITS[:3])

    assert result.estimate is None
    assert result.control.n == 0 and result.control.mean_change is None
    assert result.no_interval == NoInterval.TOO_FEW_UNITS


def test_identical_changes_give_no_interval_of_zero_width():
    units = [
        make_unit(1, True, (1, 10), (3, 10)),
        make_unit(2, True, (2, 10), (4, 10)),
        make_unit(3, False, (1, 10), (2, 10)),
        make_unit(4, False, (5, 10), (6, 10)),
    ]

    result = difference_in_differences(units)

    assert result.estimate == pytest.approx(0.1)
    assert result.se == 0
    assert result.no_interval == NoInterval.NO_VARIATION
    assert result.ci_low is None and result.ci_includes_zero is None


def test_interval_clear_of_zero_with_enough_units():
    # Ten units a group: treated rise 20-29 points, control 0-9 points.
    units = [make_unit(i, True, (10, 100), (30 + i, 100)) for i in range(10)]
    units += [make_unit(10 + i, False, (10, 100), (10 + i, 100)) for i in range(10)]

    result = difference_in_differences(units)

    assert result.estimate == pytest.approx(0.20)
    assert result.ci_includes_zero is False
    assert result.few_units is False


def test_spearman_ties_take_average_ranks():
    # x ranks 1, 2.5, 2.5, 4 and y ranks 1, 3, 2, 4 (the fifth pair has no x and is dropped).
    # Deviations from 2.5: x -1.5, 0, 0, 1.5; y -1.5, 0.5, -0.5, 1.5.
    # rho = 4.5 / sqrt(4.5 · 5) = sqrt(0.9) = 0.9486832981 (the no-ties formula would say 0.95).
    # t = rho · sqrt((n - 2) / (1 - rho²)) = sqrt(0.9 · 2 / 0.1) = sqrt(18), with 2 degrees of freedom.
    result = rank_correlation([1, 2, 2, 3, None], [10, 30, 20, 40, 70])

    assert result.rho == pytest.approx(math.sqrt(0.9), abs=1e-9)
    assert result.p_value == pytest.approx(2 * stats.t.sf(math.sqrt(18), 2), abs=1e-9)
    assert (result.n, result.dropped) == (4, 1)


def test_spearman_is_none_for_a_constant_variable():
    result = rank_correlation([0.4, 0.4, 0.4, 0.4], [1, 2, 3, 4])

    assert (result.rho, result.p_value, result.n) == (None, None, 4)


def test_spearman_is_none_below_three_pairs():
    result = rank_correlation([1, 2, None, 4], [5, 6, 7, None])

    assert (result.rho, result.p_value, result.n, result.dropped) == (None, None, 2, 2)


def test_spearman_treats_nan_as_missing():
    result = rank_correlation([1, 2, 3, float("nan")], [3, 2, 1, 0])

    assert result.rho == pytest.approx(-1)
    assert result.n == 3

"""Step `gate`: one plain-English reason per criterion, with the figure and the threshold."""

from __future__ import annotations

import pytest

from maestro.language.pipeline import Gate
from maestro.steps.gate import decide


def report(accuracy=0.56, sharpe=0.8, p_value=0.01, best_baseline=0.52, served=0.55):
    return {"metrics": {"accuracy": accuracy, "sharpe": sharpe, "p_value": p_value},
            "served_model": {"metrics": {"accuracy": served}, "holdout": {"first": "2020-01-02", "last": "2020-03-27"}},
            "baselines": {"majority": {"accuracy": best_baseline}, "previous_bar": {"accuracy": 0.49},
                          "buy_and_hold": {"accuracy": best_baseline}}}


GATE = Gate(min_accuracy=0.52, min_sharpe=0.0, beat_baselines=True, max_p_value=0.05)

CASES = [
    pytest.param(report(), True, [], id="all-hold"),
    pytest.param(report(accuracy=0.51), False, ["accuracy 0.51 misses the minimum of 0.52 (min_accuracy)",
                                               "accuracy 0.51 does not beat every baseline"], id="low-accuracy"),
    pytest.param(report(sharpe=-0.3), False, ["Sharpe ratio -0.3 misses the minimum of 0 (min_sharpe)"], id="low-sharpe"),
    pytest.param(report(sharpe=None), False, ["Sharpe ratio undefined misses the minimum"], id="undefined-sharpe"),
    pytest.param(report(p_value=0.2), False, ["p-value against the best baseline 0.2 exceeds the maximum of 0.05"],
                 id="not-significant"),
    pytest.param(report(served=0.5), False, ["accuracy of the served model on the held-out final block "
                                             "(2020-01-02 to 2020-03-27) 0.5 misses the minimum of 0.52 (min_accuracy)"],
                 id="served-model-fails-on-the-holdout"),
    pytest.param(report(best_baseline=0.56), False, ["does not beat every baseline (buy_and_hold 0.56, majority 0.56, "
                                                     "previous_bar 0.49)"], id="ties-a-baseline"),
]


@pytest.mark.parametrize("figures, passed, failing", CASES)
def test_gate_decision_and_reasons(figures, passed, failing):
    ok, reasons = decide(figures, GATE)
    assert ok is passed and len(reasons) == 6
    for expected in failing:
        assert any(expected in reason for reason in reasons), (expected, reasons)
    assert all(any(word in r for word in ("minimum", "maximum", "baseline", "leak")) for r in reasons)


def test_without_beat_baselines_three_criteria_remain():
    gate = Gate(min_accuracy=0.5, min_sharpe=0.0, beat_baselines=False, max_p_value=0.5)
    ok, reasons = decide(report(best_baseline=0.9), gate)
    assert ok and len(reasons) == 5


def test_no_gate_passes_with_a_reason_saying_so():
    ok, reasons = decide(report(accuracy=0.1), None)
    assert ok and reasons == ["no promotion gate is configured (evaluation.gate is null), so the model passes unchecked"]


def test_implausible_results_are_refused_as_a_suspected_leak_unless_acknowledged():
    """Tomorrow's direction planted in an input: accuracy 0.997, p = 1.6e-42 (the figures of the review)."""
    leaked = report(accuracy=0.997, p_value=1.6e-42, served=0.99)
    ok, reasons = decide(leaked, GATE)
    assert not ok
    assert any("suspected leak: accuracy 0.997 is above 0.75 and p-value 1.6e-42 is below 1e-12" in r for r in reasons)
    acknowledged = Gate(**{**GATE.model_dump(), "acknowledged_leak": "planted rule in synthetic data"})
    ok, reasons = decide(leaked, acknowledged)
    assert ok and any("suspected leak acknowledged" in r and "planted rule in synthetic data" in r for r in reasons)
    ok, reasons = decide(report(p_value=1e-13), GATE)          # the p-value alone is enough
    assert not ok


def test_power_warning_when_min_accuracy_is_undetectable_at_this_size():
    from maestro.steps.gate import power, power_warnings

    small = {"significance": {"dates": 300}, "metrics": {"rows": 300}}
    figures = power(small, GATE, horizon=1)
    assert figures["effective_rows"] == 300 and figures["at_min_accuracy"] < 0.5
    assert 0.56 < figures["minimum_detectable_accuracy"] < 0.58
    [warning] = power_warnings(figures, GATE)
    assert "low power" in warning and "min_accuracy 0.52" in warning
    large = {"significance": {"dates": 6000}, "metrics": {"rows": 6000}}
    assert power_warnings(power(large, GATE, horizon=1), GATE) == []
    # Overlapping 20-bar labels: 6000 dates are only 300 independent outcomes.
    assert power(large, GATE, horizon=20)["effective_rows"] == 300

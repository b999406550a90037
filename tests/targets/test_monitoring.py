"""Alert rules: failures from Argo's per-template counter, staleness, models not loaded."""

from __future__ import annotations

from maestro.targets import monitoring


def _rules(plan, env_name, namespace):
    env = next(e for e in plan.environments if e.name == env_name)
    body = next(o.body for o in monitoring.emit(env) if o.body["metadata"]["namespace"] == namespace)
    return {g["name"]: g["rules"] for g in body["spec"]["groups"]}


def test_one_group_per_pipeline(plan) -> None:
    assert sorted(_rules(plan, "prod", "quant-research-prod")) == ["maestro.aapl-direction", "maestro.msft-momentum",
                                                                    "maestro.msft-return-multinode"]


def test_training_alerts(plan) -> None:
    rules = {r["alert"]: r for r in _rules(plan, "prod", "quant-research-prod")["maestro.aapl-direction"]}
    assert rules["MaestroTrainingFailed"]["expr"] == (
        'sum(increase(argo_workflows_workflowtemplate_triggered_total{name="aapl-direction", '
        'phase=~"Failed|Error"}[1h])) > 0')
    stale = rules["MaestroTrainingStale"]["expr"]
    assert "> 129600" in stale and 'maestro_training_last_success_timestamp_seconds{pipeline="aapl-direction"}[36h]' in stale


def test_no_staleness_alert_where_schedules_are_off(plan) -> None:
    rules = _rules(plan, "dev", "quant-research-dev")["maestro.aapl-direction"]
    assert "MaestroTrainingStale" not in {r["alert"] for r in rules}


def test_one_not_ready_alert_per_served_model(plan) -> None:
    rules = [r for r in _rules(plan, "prod", "quant-research-prod")["maestro.aapl-direction"]
             if r["alert"] == "MaestroModelNotReady"]
    assert [r["labels"]["model"] for r in rules] == ["aapl-direction-v3", "aapl-direction-v4"]
    assert rules[0]["expr"] == ('(sum(seldon_loaded_model_gauge{namespace="quant-research-prod", '
                                'model_internal=~"aapl-direction-v3_[0-9]+"}) or vector(0)) < 2')

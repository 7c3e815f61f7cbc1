"""Static checks of the alerting in `infra/` (pycep-parser, as tests/unit/test_infra.py): the three alert rules, the
action group they notify with the e-mail from a parameter, and the workbook, each querying the signal names that
scheduler_core/adapters/telemetry.py emits."""

from __future__ import annotations

import re
from typing import Any

from scheduler_core.adapters import telemetry
from tests.unit.test_infra import MAIN, app_settings, body, defining, render, resources_of, templates, variable

__all__ = ["templates"]  # the module-scoped fixture, shared with test_infra

RULES = "Microsoft.Insights/scheduledQueryRules"
ACTION_GROUP = "Microsoft.Insights/actionGroups"
WORKBOOK = "Microsoft.Insights/workbooks"
APP_INSIGHTS = "Microsoft.Insights/components"


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alert rules by name, with each rule's query resolved through its variable."""
    found = {}
    for item in variable(template, "rules"):
        query = item["query"]
        found[item["name"]] = {**item, "query": variable(template, query) if query in template["variables"] else query}
    return found


def quoted(name: str) -> str:
    return f'"{name}"'


def test_three_rules_over_15_minutes_on_app_insights_notify_the_action_group(templates):
    template = defining(templates, RULES)
    [resource] = resources_of(template, RULES).values()
    rule = body(resource)["properties"]
    assert rule["windowSize"] == "PT15M"
    assert render(rule["scopes"]) == "[applicationInsights.id]"
    assert template["resources"]["applicationInsights"]["type"] == APP_INSIGHTS
    assert render(rule["actions"]["actionGroups"]) == "[actionGroup.id]"
    [criterion] = rule["criteria"]["allOf"]
    assert criterion["operator"] == "GreaterThan"
    assert render(criterion["query"]) == "rule.query" and render(criterion["threshold"]) == "rule.threshold"
    assert set(rules(template)) == {"faulted", "lateness", "poison"}


def test_any_faulted_occurrence_alerts(templates):
    faulted = rules(defining(templates, RULES))["faulted"]
    query = faulted["query"]
    assert quoted(telemetry.METRIC_ATTEMPTS) in query
    assert f'customDimensions[{quoted(telemetry.OUTCOME)}]' in query and quoted("Faulted") in query
    assert faulted["threshold"] == 0 and re.search(rf"{faulted['measure']} = sum\(valueSum\)", query)


def test_p99_lateness_above_five_seconds_alerts(templates):
    lateness = rules(defining(templates, RULES))["lateness"]
    query = lateness["query"]
    assert f"name == {quoted(telemetry.SPAN_ATTEMPT)}" in query
    assert f"customDimensions[{quoted(telemetry.LATENESS_MS)}]" in query
    assert re.search(rf"{lateness['measure']} = percentilew\(\w+, itemCount, 99\)", query)
    assert lateness["threshold"] == 5000  # ms, the unit of the lateness attribute


def test_any_poison_message_alerts(templates):
    poison = rules(defining(templates, RULES))["poison"]
    assert quoted(telemetry.METRIC_POISON) in poison["query"] and poison["threshold"] == 0


def test_action_group_mails_the_address_from_a_parameter(templates):
    template = defining(templates, ACTION_GROUP)
    group = body(next(iter(resources_of(template, ACTION_GROUP).values())))
    receivers = render(group["properties"]["emailReceivers"])
    assert "emailAddress: alertEmail" in receivers
    assert "alertEmail" in template["parameters"] and "alertEmail" in templates[MAIN]["parameters"]
    calls = [m for m in templates[MAIN]["modules"].values() if m["detail"]["path"].endswith("alerts.bicep")]
    assert len(calls) == 1 and render(calls[0]["config"]["params"]["alertEmail"]) == "alertEmail"


def test_workbook_shows_lateness_percentiles_outcomes_by_collection_and_slowest_targets(templates):
    template = defining(templates, WORKBOOK)
    workbook = body(next(iter(resources_of(template, WORKBOOK).values())))
    assert render(workbook["properties"]["sourceId"]) == "applicationInsights.id"
    assert render(workbook["properties"]["serializedData"]) == "string(workbook)"
    queries = [item["query"] for item in variable(template, "workbookQueries")]
    lateness, outcomes, targets = queries
    assert quoted(telemetry.LATENESS_MS) in lateness and "percentilew(lateness_ms, itemCount, 99)" in lateness
    assert quoted(telemetry.COLLECTION) in outcomes and quoted(telemetry.OUTCOME) in outcomes
    assert quoted(telemetry.ACTION_TARGET) in targets and "percentilew(duration, itemCount, 95)" in targets


def test_the_app_exports_to_app_insights_with_its_identity(templates):
    configured = app_settings(templates)
    assert configured["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "applicationInsightsConnectionString"
    assert configured["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"
    assert configured["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in configured


def test_each_query_reads_the_table_the_azure_monitor_exporter_writes_its_signal_to(templates):
    """The distro's exporter sends spans of kind INTERNAL (the attempt) and CLIENT (the call) as RemoteDependencyData:
    the `dependencies` table, attributes in `customDimensions`, `duration` in ms, `success` from the span's status;
    SERVER and CONSUMER spans would be `requests`. Metric points are MetricData: `customMetrics`, counters with delta
    temporality, so that `sum(valueSum)` over a window is what was added in it (tests/e2e/test_telemetry.py checks the
    envelopes the distro sends)."""
    template = defining(templates, RULES)
    by_rule = {name: rule["query"] for name, rule in rules(template).items()}
    workbook = [item["query"] for item in variable(defining(templates, WORKBOOK), "workbookQueries")]
    for query in (by_rule["lateness"], *workbook):
        assert query.startswith("dependencies | ")
    assert "requests" not in " ".join([*by_rule.values(), *workbook])
    for query in (by_rule["faulted"], by_rule["poison"]):
        assert query.startswith("customMetrics | ") and "sum(valueSum)" in query
    # Sampled rows: counts add up itemCount, and percentiles weigh each row by it (a burst keeps fewer of its rows).
    assert "sum(itemCount)" in workbook[1]
    for query in (by_rule["lateness"], workbook[0], workbook[2]):
        assert "percentile(" not in query and "percentilew(" in query and ", itemCount, " in query

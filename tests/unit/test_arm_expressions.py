"""The ARM template expression evaluator of `azsched import` (azsched/importers/expressions.py) and the template
reader around it: pure, no deployment, no host."""

from __future__ import annotations

import pytest

from azsched.importers.arm import read_template
from azsched.importers.expressions import Scope, Unresolvable, evaluate_string, evaluate_tree


def scope(**parameters: object) -> Scope:
    return Scope(parameters=dict(parameters), variables={"base": "[concat('https://', parameters('host'))]",
                                                         "nested": {"uri": "[concat(variables('base'), '/x')]"},
                                                         "loop": "[variables('loop')]"},
                 subscription_id="sub-9", resource_group="rg-9", location="northeurope")


@pytest.mark.parametrize(("expression", "expected"), [
    ("[concat('a', 'b', 1)]", "ab1"),
    ("[format('{0}-{1}', 'jobs', 7)]", "jobs-7"),
    ("[format('{0:D3}', 7)]", "007"),
    ("[toLower('MiXeD')]", "mixed"),
    ("[toUpper(parameters('env'))]", "PROD"),
    ("[parameters('ENV')]", "prod"),
    ("[variables('base')]", "https://example.org"),
    ("[variables('nested').uri]", "https://example.org/x"),
    ("[resourceGroup().location]", "northeurope"),
    ("[resourceGroup().name]", "rg-9"),
    ("[subscription().subscriptionId]", "sub-9"),
    ("[resourceId('Microsoft.Scheduler/jobCollections/jobs', 'jc', 'j')]",
     "/subscriptions/sub-9/resourceGroups/rg-9/providers/Microsoft.Scheduler/jobCollections/jc/jobs/j"),
    ("[if(equals(parameters('env'), 'prod'), 5, 1)]", 5),
    ("[add(parameters('count'), 2)]", 5),
    ("[string(parameters('count'))]", "3"),
    ("[length(parameters('list'))]", 2),
    ("[parameters('list')[1]]", "b"),
    ("[createObject('a', 1).a]", 1),
    ("[replace('a-b', '-', '_')]", "a_b"),
    ("[padLeft(3, 2, '0')]", "03"),
    ("[concat('it''s', ' ok')]", "it's ok"),
    ("[[not an expression]", "[not an expression]"),
    ("plain text", "plain text"),
])
def test_expressions_evaluate(expression: str, expected: object) -> None:
    assert evaluate_string(expression, scope(env="prod", host="example.org", count=3, list=["a", "b"])) == expected


@pytest.mark.parametrize(("expression", "reason"), [
    ("[reference('x').outputs]", "reference() needs a deployment"),
    ("[listKeys('acct', '2019-06-01').keys[0].value]", "listKeys() needs a deployment"),
    ("[uniqueString(resourceGroup().id)]", "uniqueString() needs a deployment"),
    ("[parameters('missing')]", "parameter 'missing' has no value"),
    ("[variables('loop')]", "refers to itself"),
    ("[frobnicate(1)]", "frobnicate() is not supported"),
    ("[concat('a']", "expected ')'"),
])
def test_unresolvable_expressions_say_why_and_keep_the_expression(expression: str, reason: str) -> None:
    with pytest.raises(Unresolvable) as caught:
        evaluate_string(expression, scope(host="h"))
    assert reason in caught.value.reason
    assert caught.value.expression == expression


def test_trees_evaluate_every_string() -> None:
    tree = {"a": ["[concat('x', 'y')]", 1, {"b": "[toUpper('z')]"}], "c": True}
    assert evaluate_tree(tree, scope()) == {"a": ["xy", 1, {"b": "Z"}], "c": True}


def _template(job_properties: dict, **parameters: dict) -> dict:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
        "parameters": {"name": {"type": "string", "defaultValue": "jc"}, "count": {"type": "int"}, **parameters},
        "resources": [
            {"type": "Microsoft.Web/sites", "name": "[reference('x')]"},
            {"type": "Microsoft.Scheduler/jobCollections", "apiVersion": "2016-03-01", "name": "[parameters('name')]",
             "location": "[resourceGroup().location]", "properties": {"sku": {"name": "Free"}},
             "resources": [{"type": "jobs", "apiVersion": "2016-01-01", "name": "nested",
                            "properties": job_properties}]},
            {"type": "Microsoft.Scheduler/jobCollections/jobs", "apiVersion": "2014-08-01-preview",
             "name": "[concat(parameters('name'), '/top-', copyIndex())]", "copy": {"name": "c", "count": 2},
             "condition": "[greater(parameters('count'), 0)]", "properties": job_properties},
        ],
    }


def test_the_reader_finds_nested_and_top_level_jobs_and_leaves_other_resources_alone() -> None:
    properties = {"action": {"type": "Http", "request": {"uri": "[concat('http://h/', parameters('name'))]"}}}
    jobs, collections = read_template(_template(properties), "t.json", {}, {"count": "2"}, subscription="s",
                                      resource_group="g", location="westeurope")
    assert [(j.collection, j.name) for j in jobs] == [("jc", "nested"), ("jc", "top-0"), ("jc", "top-1")]
    assert {j.properties["action"]["request"]["uri"] for j in jobs} == {"http://h/jc"}
    assert [(c.name, c.definition) for c in collections] == [
        ("jc", {"location": "westeurope", "properties": {"sku": {"name": "Free"}}})]
    assert all(not j.unresolved for j in jobs)


def test_parameters_come_from_the_command_line_then_files_then_defaults() -> None:
    properties = {"action": {"type": "Http", "request": {"uri": "[concat('http://h/', parameters('name'))]"}}}
    jobs, _ = read_template(_template(properties), "t.json", {"name": "from-file", "count": 0}, {"name": "cli"},
                            subscription="s", resource_group="g", location="l")
    assert [(j.collection, j.name) for j in jobs] == [("cli", "nested")], "count 0 from the file: no copies"


def test_an_unresolvable_field_is_recorded_with_its_path_and_expression() -> None:
    properties = {"action": {"type": "Http", "request": {"uri": "[reference('api').url]", "method": "GET"}}}
    jobs, _ = read_template(_template(properties), "t.json", {}, {"count": "1"}, subscription="s",
                            resource_group="g", location="l")
    assert jobs[0].unresolved == [("action.request.uri", "[reference('api').url]",
                                   "reference() needs a deployment in Azure and cannot be evaluated here")]
    assert jobs[0].properties["action"]["request"]["method"] == "GET"


def test_jobs_in_inline_nested_deployments_are_read_in_the_outer_or_inner_scope() -> None:
    job = {"type": "Microsoft.Scheduler/jobCollections/jobs", "apiVersion": "2016-03-01",
           "name": "[concat(parameters('name'), '/j')]",
           "properties": {"action": {"type": "Http", "request": {"uri": "[parameters('uri')]"}}}}
    template = {
        "parameters": {"name": {"type": "string", "defaultValue": "outer-jc"},
                       "uri": {"type": "string", "defaultValue": "http://outer"}},
        "resources": [
            {"type": "Microsoft.Resources/deployments", "name": "outer-scope",
             "properties": {"mode": "Incremental", "template": {"resources": [job]}}},
            {"type": "Microsoft.Resources/deployments", "name": "inner-scope",
             "properties": {"expressionEvaluationOptions": {"scope": "inner"},
                            "parameters": {"name": {"value": "[concat(parameters('name'), '-inner')]"}},
                            "template": {"parameters": {"name": {"type": "string"},
                                                        "uri": {"type": "string", "defaultValue": "http://inner"}},
                                         "resources": [job]}}},
            {"type": "Microsoft.Resources/deployments", "name": "linked",
             "properties": {"templateLink": {"uri": "https://example.org/t.json"}}},
        ],
    }
    read, _ = read_template(template, "t.json", {}, {}, subscription="s", resource_group="g", location="l")
    jobs = [j for j in read if not j.problems]
    assert [(j.collection, j.name, j.properties["action"]["request"]["uri"]) for j in jobs] == [
        ("outer-jc", "j", "http://outer"), ("outer-jc-inner", "j", "http://inner")]
    assert jobs[1].source == "t.json resources[1].properties.template.resources[0]"
    # A template linked by URI is not fetched (no network): it is reported, naming the link, not silently skipped.
    [linked] = [j for j in read if j.problems]
    assert "https://example.org/t.json" in " ".join(linked.problems)

"""Static checks of the Azure deployment (`infra/`, `azure.yaml`) against what the code reads.

No Bicep compiler can run here, so every `.bicep` file is parsed with pycep-parser (a syntax error fails) and the
parsed templates are checked for what a reviewer would otherwise check by eye: least-privilege role assignments to
the app's user-assigned identity, no shared keys or local auth, the Flex Consumption plan on Python 3.11,
authentication in front of everything but `/health`, and app settings, tables and queues that match the code.

pycep renders identifiers and string literals alike (`location` and `'location'` both become "location"), so
references are compared as text through `render()`, e.g. "identity.outputs.principalId".
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from scheduler_core import settings

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = "main.bicep"

# Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}

STORAGE = "Microsoft.Storage/storageAccounts"
APP_INSIGHTS = "Microsoft.Insights/components"
KEY_VAULT = "Microsoft.KeyVault/vaults"
USER_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"

# Settings Bicep sets that the code does not read: the Functions host reads them.
HOST_ONLY_SETTINGS = frozenset(
    {
        # Identity-based host storage: the host keeps its blob leases (the timer singleton) there; the code uses
        # only tables and queues, whose URIs it reads itself.
        "AzureWebJobsStorage__blobServiceUri",
        # The Python worker sends its own OpenTelemetry (host.json telemetryMode OpenTelemetry; adapters/telemetry.py).
        "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
    }
)

# Settings the code reads that Bicep may leave unset, because the code's default is right in Azure.
OPTIONAL_SETTINGS = frozenset(
    {
        # Request and job size limits: the code's defaults are the limits we serve; set only to deviate.
        "SCHEDULER_MAX_JOB_CHARS",
        "SCHEDULER_MAX_REQUEST_BODY_CHARS",
        "SCHEDULER_MAX_URI_CHARS",
        "SCHEDULER_MAX_HEADERS",
        "SCHEDULER_MAX_HEADER_CHARS",
        # The shortest retry interval a job may ask for: the old service's 15 s is the default; tests lower it.
        "SCHEDULER_MIN_RETRY_INTERVAL_SECONDS",
        # Per-account queue endpoint overrides for storage-queue actions: for Azurite and sovereign clouds only.
        "SCHEDULER_STORAGE_QUEUE_ENDPOINTS",
        # Entra authority for outbound ActiveDirectoryOAuth: the default is the public cloud's.
        "SCHEDULER_OAUTH_AUTHORITY_HOST",
        # An OTLP collector besides (or instead of) Application Insights: none in the deployment.
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    }
)

# Settings the code reads that must NOT be set in Azure.
FORBIDDEN_SETTINGS = frozenset(
    {
        # A connection string means shared keys, which the storage account disables; Azure uses the identity-based
        # AzureWebJobsStorage__* settings instead.
        "AzureWebJobsStorage",
        # Outbound-call guards: allowing loopback or link-local targets would let any job reach the instance's
        # own endpoints, including the managed identity token endpoint (169.254.169.254 / localhost).
        "SCHEDULER_ALLOW_LOOPBACK_TARGETS",
        "SCHEDULER_ALLOW_LINK_LOCAL_TARGETS",
    }
)

# Flex Consumption rejects these: the runtime comes from functionAppConfig.
FLEX_REJECTED_SETTINGS = frozenset({"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"})

# Used only if scheduler_core/adapters/tables.py stops exposing TABLE_NAMES (dispatch claims live in history).
KNOWN_TABLES = frozenset({"collections", "jobs", "history", "due"})


# --- reading the templates -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    """Every .bicep file under infra/, parsed once, keyed by its path relative to infra/."""
    parser = BicepParser()
    parsed = {}
    for path in sorted(INFRA.rglob("*.bicep")):
        name = path.relative_to(INFRA).as_posix()
        try:
            parsed[name] = parser.parse(file_path=path)
        except Exception as exc:  # lark raises several unrelated types for syntax errors
            pytest.fail(f"infra/{name} does not parse: {exc}")
    assert MAIN in parsed, "infra/main.bicep is missing"
    return parsed


def render(node: Any) -> str:
    """A parsed pycep expression as compact Bicep-like text: "identity.outputs.principalId", "guid(a, b)"."""
    if isinstance(node, list):
        return "[" + ", ".join(render(item) for item in node) + "]"
    if not isinstance(node, dict):
        return str(node)
    if isinstance(node.get("operator"), dict):  # (an object may have a plain `operator` property too)
        kind, operands = node["operator"]["type"], node["operator"]["operands"]
        if kind == "property_accessor":
            return f"{render(operands['operand_1'])}.{render(operands['operand_2'])}"
        if kind == "nested_resource_accessor":
            return f"{render(operands['operand_1'])}::{render(operands['operand_2'])}"
        return f"{kind}(" + ", ".join(render(value) for value in operands.values()) + ")"
    if "function" in node:
        function = node["function"]
        arguments = (value for value in (function.get("parameters") or {}).values() if value is not None)
        return f"{function['type']}(" + ", ".join(render(value) for value in arguments) + ")"
    return "{" + ", ".join(f"{key}: {render(value)}" for key, value in node.items()) + "}"


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's declaration, looking through a `[for ...]` loop or an `if (...)` condition."""
    config = resource["config"]
    return config["config"] if "loop_type" in config or "condition" in config else config


def resources_of(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {symbol: res for symbol, res in template.get("resources", {}).items() if res["type"] == type_}


def only(template: dict[str, Any], type_: str) -> dict[str, Any]:
    """The declaration of the one resource of this type in the template."""
    found = [res for res in resources_of(template, type_).values() if not res["existing"]]
    assert len(found) == 1, f"expected exactly one {type_}, found {len(found)}"
    return body(found[0])


def defining(templates: dict[str, dict[str, Any]], type_: str) -> dict[str, Any]:
    """The template that declares (not references) the one resource of this type."""
    owners = [
        template
        for template in templates.values()
        if any(not res["existing"] for res in resources_of(template, type_).values())
    ]
    assert len(owners) == 1, f"expected {type_} declared in exactly one file, found {len(owners)}"
    return owners[0]


def variable(template: dict[str, Any], name: str) -> Any:
    return template["variables"][name]["value"]


def loop_items(template: dict[str, Any], resource: dict[str, Any]) -> list[Any]:
    """The values a `[for item in <variable>: ...]` resource iterates over."""
    detail = resource["config"]["loop_type"]["detail"]
    return variable(template, detail["array_name"])


def module_target(templates: dict[str, dict[str, Any]], caller: str, symbol: str) -> tuple[str, dict[str, Any]]:
    module = templates[caller]["modules"][symbol]
    name = (Path(caller).parent / module["detail"]["path"]).as_posix()
    assert name in templates, f"{caller}: module {symbol} points at missing infra/{name}"
    return name, templates[name]


def output_resource_type(templates: dict[str, dict[str, Any]], caller: str, expression: str) -> str:
    """For `<module>.outputs.<name>` in `caller`, the type of the resource that output is taken from."""
    match = re.fullmatch(r"(\w+)\.outputs\.(\w+)", expression)
    assert match, f"{expression!r} is not a module output"
    _, target = module_target(templates, caller, match[1])
    value = render(target["outputs"][match[2]]["value"])
    symbol = re.match(r"\w+", value)
    assert symbol and symbol[0] in target["resources"], f"output {match[2]} = {value!r} is not a resource property"
    return target["resources"][symbol[0]]["type"]


def app_settings(templates: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The function app's settings: the `Microsoft.Web/sites/config` named appsettings, rendered."""
    template = defining(templates, "Microsoft.Web/sites")
    configs = resources_of(template, "Microsoft.Web/sites/config").values()
    declared = [body(res) for res in configs if body(res)["name"] == "appsettings"]
    assert len(declared) == 1, "expected one appsettings config resource"
    properties = declared[0]["properties"]
    if isinstance(properties, str):  # `properties: someVariable`
        properties = variable(template, properties)
    return {name: render(value) for name, value in properties.items()}


def auth_settings(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    template = defining(templates, "Microsoft.Web/sites")
    configs = resources_of(template, "Microsoft.Web/sites/config").values()
    declared = [body(res) for res in configs if body(res)["name"] == "authsettingsV2"]
    assert len(declared) == 1, "expected one authsettingsV2 config resource"
    return declared[0]["properties"]


@dataclass(frozen=True)
class RoleAssignment:
    file: str
    role_id: str
    scope_type: str
    principal: str
    principal_type: str
    name: str


def role_assignments(templates: dict[str, dict[str, Any]]) -> Iterator[RoleAssignment]:
    """Every role assignment in every file, loops expanded and role ids resolved through variables."""
    for file, template in templates.items():
        for resource in resources_of(template, ROLE_ASSIGNMENT).values():
            declaration = body(resource)
            role_arg = declaration["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
            if "loop_type" in resource["config"]:
                assert role_arg == resource["config"]["loop_type"]["detail"]["item_name"]
                role_ids = loop_items(template, resource)
            else:
                role_ids = [variable(template, role_arg) if role_arg in template.get("variables", {}) else role_arg]
            scope = template["resources"][declaration["scope"]]["type"]
            for role_id in role_ids:
                yield RoleAssignment(
                    file=file,
                    role_id=role_id,
                    scope_type=scope,
                    principal=render(declaration["properties"]["principalId"]),
                    principal_type=declaration["properties"]["principalType"],
                    name=render(declaration["name"]),
                )


def read_simple_yaml(text: str) -> dict[str, Any]:
    """Nested `key: value` mappings by indentation: enough for azure.yaml (PyYAML is not installed)."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key, sep, value = line.strip().partition(":")
        assert sep, f"azure.yaml: not a 'key: value' line: {raw!r}"
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        assert key not in parent, f"azure.yaml: duplicate key {key!r}"
        if value.strip():
            parent[key] = value.strip().strip("'\"")
        else:
            parent[key] = {}
            stack.append((indent, parent[key]))
    return root


# --- the files are there and hang together ---------------------------------------------------------------------


def test_every_module_exists_and_gets_exactly_its_parameters(templates):
    for caller, template in templates.items():
        for symbol, module in template.get("modules", {}).items():
            name, target = module_target(templates, caller, symbol)
            passed = set(module["config"].get("params", {}))
            declared = target.get("parameters", {})
            required = {param for param, spec in declared.items() if spec["default"] is None}
            assert passed <= set(declared), f"{caller}: {symbol} passes unknown params {passed - set(declared)}"
            assert required <= passed, f"{caller}: {symbol} misses required params {required - passed}"


def test_every_module_output_referenced_exists(templates):
    for caller, template in templates.items():
        modules = template.get("modules", {})
        text = json.dumps(template) + " " + render(template)
        for symbol, output in set(re.findall(r"\b(\w+)\.outputs\.(\w+)", text)):
            if symbol in modules:
                _, target = module_target(templates, caller, symbol)
                assert output in target.get("outputs", {}), f"{caller}: {symbol} has no output {output}"


def test_main_parameters_file_matches_main_bicep(templates):
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = templates[MAIN]["parameters"]
    required = {name for name, spec in declared.items() if spec["default"] is None}
    assert set(parameters) <= set(declared), f"unknown parameters: {set(parameters) - set(declared)}"
    assert required <= set(parameters), f"required parameters azd would not pass: {required - set(parameters)}"


def test_outputs_name_the_app_its_identity_and_storage(templates):
    outputs = templates[MAIN]["outputs"]
    assert {"FUNCTION_APP_URL", "FUNCTION_APP_NAME", "IDENTITY_CLIENT_ID", "STORAGE_ACCOUNT_NAME"} <= set(outputs)
    assert render(outputs["IDENTITY_CLIENT_ID"]["value"]) == "identity.outputs.clientId"
    assert output_resource_type(templates, MAIN, render(outputs["STORAGE_ACCOUNT_NAME"]["value"])) == STORAGE
    assert output_resource_type(templates, MAIN, render(outputs["FUNCTION_APP_NAME"]["value"])) == "Microsoft.Web/sites"


def test_azure_yaml_deploys_the_repository_to_the_tagged_function_app(templates):
    config = read_simple_yaml((ROOT / "azure.yaml").read_text())
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", config["name"])
    assert config["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    service = config["services"]["scheduler"]
    assert (service["project"], service["language"], service["host"]) == (".", "python", "function")
    site = only(defining(templates, "Microsoft.Web/sites"), "Microsoft.Web/sites")
    assert "'azd-service-name': scheduler" in render(site["tags"])


# --- identity and least privilege ------------------------------------------------------------------------------


def test_identity_is_user_assigned_and_gets_exactly_the_data_roles(templates):
    assignments = list(role_assignments(templates))
    assert {(a.role_id, a.scope_type) for a in assignments} == {
        (TABLE_DATA_CONTRIBUTOR, STORAGE),
        (QUEUE_DATA_CONTRIBUTOR, STORAGE),
        (BLOB_DATA_OWNER, STORAGE),
        (MONITORING_METRICS_PUBLISHER, APP_INSIGHTS),
        (KEY_VAULT_SECRETS_USER, KEY_VAULT),
    }
    assert len(assignments) == 5
    for assignment in assignments:
        assert assignment.principal_type == "ServicePrincipal"
        assert assignment.name.startswith("guid(") and assignment.principal in assignment.name
        # The principal is a parameter of the file, fed from the user-assigned identity by main.bicep.
        caller_params = [
            module["config"]["params"]
            for module in templates[MAIN].get("modules", {}).values()
            if (Path(module["detail"]["path"]).as_posix() == assignment.file)
        ]
        assert assignment.principal in templates[assignment.file]["parameters"]
        assert len(caller_params) == 1, f"{assignment.file} must be called once from main.bicep"
        principal_source = render(caller_params[0][assignment.principal])
        assert principal_source.endswith(".outputs.principalId")
        assert output_resource_type(templates, MAIN, principal_source) == USER_IDENTITY


def test_role_scopes_are_the_deployments_own_resources(templates):
    rbac_calls = [module for module in templates[MAIN]["modules"].values() if "rbac" in module["detail"]["path"]]
    assert len(rbac_calls) == 1
    params = {name: render(value) for name, value in rbac_calls[0]["config"]["params"].items()}
    expected = {"storageAccountName": STORAGE, "applicationInsightsName": APP_INSIGHTS, "keyVaultName": KEY_VAULT}
    for param, type_ in expected.items():
        assert output_resource_type(templates, MAIN, params[param]) == type_


def test_no_broad_role_anywhere():
    for path in INFRA.rglob("*"):
        if path.is_file():
            text = path.read_text().lower()
            for role_id, role in BROAD_ROLES.items():
                assert role_id not in text, f"{role} role id in infra/{path.relative_to(INFRA)}"


def test_function_app_runs_as_the_user_assigned_identity(templates):
    site = only(defining(templates, "Microsoft.Web/sites"), "Microsoft.Web/sites")
    identity = site["identity"]
    assert identity["type"] == "UserAssigned"
    assert list(identity["userAssignedIdentities"]) == ["'${identityId}'", "'${outboundIdentityId}'"]
    assert site["properties"]["keyVaultReferenceIdentity"] == "identityId"
    calls = [m for m in templates[MAIN]["modules"].values() if m["detail"]["path"].endswith("functionapp.bicep")]
    params = {name: render(value) for name, value in calls[0]["config"]["params"].items()}
    assert output_resource_type(templates, MAIN, params["identityId"]) == USER_IDENTITY
    assert output_resource_type(templates, MAIN, params["identityClientId"]) == USER_IDENTITY
    settings_ = app_settings(templates)
    assert settings_["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings_["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert settings_["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"


def test_jobs_get_tokens_only_from_an_outbound_identity_that_holds_no_role(templates):
    """Issue 16: a ManagedIdentity job must not mint the app's own tokens (vault, tables, ARM)."""
    modules = templates[MAIN]["modules"]
    identities = {name for name, m in modules.items() if m["detail"]["path"].endswith("identity.bicep")}
    assert identities == {"identity", "outboundIdentity"}
    assert render(modules["identity"]["config"]["params"]["name"]) != render(
        modules["outboundIdentity"]["config"]["params"]["name"])
    for module in modules.values():
        for value in module["config"].get("params", {}).values():
            assert "outboundIdentity.outputs.principalId" not in render(value), "the outbound identity got a role"
    assert all("outbound" not in a.principal.lower() for a in role_assignments(templates))
    calls = [m for m in modules.values() if m["detail"]["path"].endswith("functionapp.bicep")]
    params = {name: render(value) for name, value in calls[0]["config"]["params"].items()}
    assert params["outboundIdentityClientId"] == "outboundIdentity.outputs.clientId"
    settings_ = app_settings(templates)
    assert settings_["SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID"] == "outboundIdentityClientId"
    assert settings_["AzureWebJobsStorage__clientId"] != settings_["SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID"]
    assert templates[MAIN]["parameters"]["managedIdentityAudiences"]["default"] == []


# --- resources: storage, monitoring, Key Vault, Flex Consumption -----------------------------------------------


def test_storage_accepts_only_entra_auth_over_tls12(templates):
    account = only(defining(templates, STORAGE), STORAGE)["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["supportsHttpsTrafficOnly"] is True


def test_app_insights_is_workspace_based_without_local_auth(templates):
    template = defining(templates, APP_INSIGHTS)
    properties = only(template, APP_INSIGHTS)["properties"]
    assert properties["DisableLocalAuth"] is True
    workspace = render(properties["WorkspaceResourceId"]).split(".")[0]
    assert template["resources"][workspace]["type"] == "Microsoft.OperationalInsights/workspaces"


def test_key_vault_uses_rbac_and_holds_the_keyring_the_app_references(templates):
    template = defining(templates, KEY_VAULT)
    vault = only(template, KEY_VAULT)["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert "enablePurgeProtection" in render(vault["enablePurgeProtection"])
    secret_symbols = list(resources_of(template, "Microsoft.KeyVault/vaults/secrets"))
    assert len(secret_symbols) == 1
    output = next(o for o in template["outputs"].values() if render(o["value"]).startswith(secret_symbols[0]))
    assert render(output["value"]) == f"{secret_symbols[0]}.properties.secretUri"
    assert re.fullmatch(
        r"@Microsoft\.KeyVault\(SecretUri=\$\{\w+\}\)", app_settings(templates)["SCHEDULER_SECRET_KEYS"]
    )
    for name in (MAIN, "modules/keyvault.bicep"):
        decorators = templates[name]["parameters"]["secretEncryptionKey"]["decorators"]
        assert {"type": "secure"} in decorators, f"{name}: secretEncryptionKey must be @secure()"
    parameters = (INFRA / "main.parameters.json").read_text()
    assert re.search(r'"secretEncryptionKey":\s*{\s*"value":\s*"\$\{\w+\}"', parameters), "no literal key in git"


def test_function_app_is_flex_consumption_python_311(templates):
    template = defining(templates, "Microsoft.Web/sites")
    plan = only(template, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True
    site = only(template, "Microsoft.Web/sites")
    assert site["kind"] == "functionapp,linux"
    properties = site["properties"]
    assert properties["httpsOnly"] is True
    assert properties["siteConfig"]["minTlsVersion"] == "1.2"
    assert properties["siteConfig"]["ftpsState"] == "Disabled"
    config = properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    deployment = config["deployment"]["storage"]
    assert deployment["type"] == "blobContainer"
    assert deployment["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityId",
    }
    scale = config["scaleAndConcurrency"]
    for knob in ("instanceMemoryMB", "maximumInstanceCount"):
        assert scale[knob] in template["parameters"], f"{knob} must come from a parameter"
        assert knob in templates[MAIN]["parameters"]
    assert not FLEX_REJECTED_SETTINGS & set(app_settings(templates))


def test_authentication_requires_a_token_everywhere_but_health_and_the_console(templates):
    auth = auth_settings(templates)
    assert auth["platform"]["enabled"] is True
    validation = auth["globalValidation"]
    assert validation["requireAuthentication"] is True
    assert validation["unauthenticatedClientAction"] == "Return401"
    # An API client without a token gets 401 everywhere else (never a redirect to a login page); the console's own
    # gate sends a browser to sign in and refuses any console request without a principal (test_console_security).
    assert validation["excludedPaths"] == ["/health", "/console", "/console/*"]
    entra = auth["identityProviders"]["azureActiveDirectory"]
    assert entra["enabled"] is True
    assert entra["registration"]["clientId"] == "apiClientId"
    assert re.fullmatch(
        r"https://(sts\.windows\.net|login\.microsoftonline\.com)/\$\{tenant\(\)\.tenantId\}/(v2\.0)?",
        entra["registration"]["openIdIssuer"],
    )
    assert "allowedAudiences" in render(entra["validation"]["allowedAudiences"])
    for param in ("apiClientId", "allowedAudiences"):
        assert param in templates[MAIN]["parameters"]


# --- app settings, tables and queues match the code ------------------------------------------------------------


def expected_settings() -> frozenset[str]:
    return (settings.setting_names() | HOST_ONLY_SETTINGS) - OPTIONAL_SETTINGS - FORBIDDEN_SETTINGS


def test_bicep_sets_every_setting_the_code_needs(templates):
    missing = expected_settings() - set(app_settings(templates))
    assert not missing, f"the code reads {sorted(missing)} but infra does not set them (or list them OPTIONAL)"


def test_bicep_sets_nothing_the_code_and_host_do_not_read(templates):
    unknown = set(app_settings(templates)) - expected_settings()
    assert not unknown, f"infra sets {sorted(unknown)}: no code reads them (or they are OPTIONAL/FORBIDDEN)"


def test_connection_string_and_outbound_guards_stay_unset_in_azure(templates):
    configured = set(app_settings(templates))
    assert not FORBIDDEN_SETTINGS & configured, f"must not be set in Azure: {sorted(FORBIDDEN_SETTINGS & configured)}"


def test_exception_lists_name_real_settings():
    names = settings.setting_names()
    assert OPTIONAL_SETTINGS <= names, f"stale OPTIONAL_SETTINGS: {sorted(OPTIONAL_SETTINGS - names)}"
    assert FORBIDDEN_SETTINGS <= names, f"stale FORBIDDEN_SETTINGS: {sorted(FORBIDDEN_SETTINGS - names)}"
    assert not HOST_ONLY_SETTINGS & names, "the code reads it now: drop it from HOST_ONLY_SETTINGS"


def test_timer_schedules_are_six_field_ncrontab(templates):
    configured = app_settings(templates)
    assert configured[settings.TICK_SCHEDULE_SETTING] == "0 * * * * *"
    assert configured[settings.MAINTENANCE_SCHEDULE_SETTING] == "0 30 3 * * *"


def code_table_names() -> frozenset[str] | None:
    """`scheduler_core.adapters.tables.TABLE_NAMES` when that module exists and exposes it."""
    if importlib.util.find_spec("scheduler_core.adapters.tables") is None:
        return None
    names = getattr(importlib.import_module("scheduler_core.adapters.tables"), "TABLE_NAMES", None)
    return frozenset(names) if names is not None else None


def declared_children(templates: dict[str, dict[str, Any]], type_: str) -> list[str]:
    template = defining(templates, type_)
    names: list[str] = []
    for resource in resources_of(template, type_).values():
        if "loop_type" in resource["config"]:
            names += loop_items(template, resource)
        else:
            names.append(body(resource)["name"])
    return names


def test_tables_are_the_ones_the_code_uses(templates):
    declared = declared_children(templates, "Microsoft.Storage/storageAccounts/tableServices/tables")
    assert len(declared) == len(set(declared)), "a table is declared twice"
    code = code_table_names()
    if code is None:
        assert KNOWN_TABLES <= set(declared)
    else:
        assert set(declared) == code


def test_queues_are_the_executions_queue_and_its_poison_queue(templates):
    declared = declared_children(templates, "Microsoft.Storage/storageAccounts/queueServices/queues")
    assert sorted(declared) == sorted([settings.EXECUTIONS_QUEUE, settings.POISON_QUEUE])


def test_the_app_has_a_thread_and_a_connection_for_every_message_host_json_lets_it_hold():
    queues = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    assert queues["batchSize"] + queues["newBatchThreshold"] == settings.CONCURRENT_ATTEMPTS


# --- values have the shapes the code expects -----------------------------------------------------------------------


def fed_from(templates: dict[str, dict[str, Any]], param: str) -> tuple[str, str]:
    """For a parameter of the function app's module, (resource type, rendered value) of the module output main.bicep
    passes to it, e.g. (Microsoft.Storage/storageAccounts, "storage.properties.primaryEndpoints.queue")."""
    calls = [m for m in templates[MAIN]["modules"].values() if m["detail"]["path"].endswith("functionapp.bicep")]
    assert len(calls) == 1
    expression = render(calls[0]["config"]["params"][param])
    match = re.fullmatch(r"(\w+)\.outputs\.(\w+)", expression)
    assert match, f"functionapp parameter {param} = {expression!r} is not a module output"
    _, target = module_target(templates, MAIN, match[1])
    return output_resource_type(templates, MAIN, expression), render(target["outputs"][match[2]]["value"])


def test_storage_service_uris_are_the_accounts_endpoints_of_their_own_service(templates):
    configured = app_settings(templates)
    for service in ("blob", "queue", "table"):
        param = configured[f"AzureWebJobsStorage__{service}ServiceUri"]
        type_, value = fed_from(templates, param)
        assert type_ == STORAGE
        assert re.fullmatch(rf"\w+\.properties\.primaryEndpoints\.{service}", value), f"{service}: {value}"


def test_client_ids_are_user_assigned_identities_client_ids(templates):
    configured = app_settings(templates)
    param = configured["AzureWebJobsStorage__clientId"]
    assert fed_from(templates, param) == (USER_IDENTITY, "identity.properties.clientId")
    parameters = defining(templates, "Microsoft.Web/sites")["parameters"]
    for name, value in configured.items():
        if "clientid" not in name.lower().replace("_", "") and "ClientId=" not in value:
            continue
        used = [p for p in re.findall(r"\$\{(\w+)\}", value) + [value] if p in parameters]
        assert used, f"{name} = {value!r} takes no parameter"
        for used_param in used:
            type_, source = fed_from(templates, used_param)
            assert type_ == USER_IDENTITY and source.endswith(".properties.clientId"), f"{name}: {source}"


def test_key_vault_reference_is_the_versionless_uri_of_the_keyring_secret(templates):
    reference = app_settings(templates)["SCHEDULER_SECRET_KEYS"]
    match = re.fullmatch(r"@Microsoft\.KeyVault\(SecretUri=\$\{(\w+)\}\)", reference)
    assert match, reference
    type_, value = fed_from(templates, match[1])
    assert type_ == "Microsoft.KeyVault/vaults/secrets"
    assert value.endswith(".properties.secretUri"), "secretUriWithVersion would pin one version of the keyring"


def test_the_app_reads_every_value_the_bicep_gives_it_as_azure_fills_it(templates):
    # The Bicep evaluated with values of the shapes Azure gives its outputs, and the Key Vault reference resolved as
    # App Service resolves it: the app's settings reader accepts all of them and puts each where the code uses it.
    from devhost.bicep import evaluate_settings
    from devhost.keyvault import resolve

    client_id = "8d7f4c57-2f3e-4b8e-9c51-5a0fbd1f1a2b"
    secret_uri = "https://kv-abc123.vault.azure.net/secrets/scheduler-secret-keys"
    account = "stabc123"
    env = evaluate_settings(
        defining(templates, "Microsoft.Web/sites"),
        {
            "identityClientId": client_id,
            "storageBlobEndpoint": f"https://{account}.blob.core.windows.net/",
            "storageQueueEndpoint": f"https://{account}.queue.core.windows.net/",
            "storageTableEndpoint": f"https://{account}.table.core.windows.net/",
            "applicationInsightsConnectionString": "InstrumentationKey=00000000-0000-0000-0000-000000000000",
            "secretKeysSecretUri": secret_uri,
            "secretKeyId": "k1",
            "location": "westeurope",
            "managedIdentityAudiences": [],
        },
        client_id_for=lambda param: client_id if param == "identityClientId" else f"{param}-client-id",
    )
    keyring = f"k1={'A' * 43}="
    resolved = resolve(env["SCHEDULER_SECRET_KEYS"], {secret_uri: keyring})
    assert resolved == keyring, "App Service would leave the reference unresolved"
    env["SCHEDULER_SECRET_KEYS"] = resolved

    parsed = settings.Settings.from_env(env)

    assert parsed.storage == settings.StorageConnection(
        connection_string=None,
        table_service_uri=f"https://{account}.table.core.windows.net/",
        queue_service_uri=f"https://{account}.queue.core.windows.net/",
        credential="managedidentity",
        client_id=client_id,
    )
    assert parsed.active_secret_key_id in parsed.secret_keys and len(parsed.secret_keys["k1"]) == 32
    assert parsed.identity_queues == frozenset(), "the identity must reach no job's queue unless the operator says so"
    assert parsed.outbound_identity_client_id == "outboundIdentityClientId-client-id" != client_id
    assert parsed.managed_identity_audiences == frozenset()
    assert parsed.region == "westeurope"

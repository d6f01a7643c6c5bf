"""Least privilege, checked against the code: every AWS call a Lambda can make is allowed by its own
policy file, and nothing else is (a missing permission fails here, not in production).

Calls are collected from the source by tests/iam_scan.py; policies are the committed
`.chalice/policy-<stage>-<function>.json` files and the templates in infra/policies/ rendered with
every optional resource present.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from infra import policies
from infra.stage import FUNCTIONS, STAGES
from tests.deploy.policy_files import (
    CONFIG,
    FULL_OPTIONS,
    all_policies,
    allows,
    as_list,
    committed,
    config_with_engine,
    configured_actions,
    example_stage,
    granted,
    rendered,
    statements,
)
from tests.iam_scan import Call, Project
from tests.support import PROJECT_DIR

# The only actions granted on Resource "*": these services have no resource-level permissions
# (Service Authorization Reference). Documented in docs/deploy.md (Least privilege).
STAR_RESOURCE_ACTIONS = frozenset({"comprehend:DetectPiiEntities", "rekognition:DetectModerationLabels"})
# Actions no boto3 call in our code makes, each granted for a reason outside the code.
IMPLICIT_ACTIONS = {
    "logs:CreateLogStream": "Lambda writes the function's own logs",
    "logs:PutLogEvents": "Lambda writes the function's own logs",
    "kms:Decrypt": "S3 and SSM decrypt with a customer managed key on the caller's behalf",
    "sqs:SendMessage": "Lambda's async on-failure destination (the stream handler's DLQ)",
    "kms:GenerateDataKey": "SQS encrypts the stream handler's dead letters with the DLQ's customer managed key",
    "s3:GetObjectVersion": "S3 authorises a GetObject that names a VersionId (the scanner pins it) as GetObjectVersion",
}


# ------------------------------------------------------------------------------------ shape of every policy


@pytest.mark.parametrize("label,function,policy", all_policies(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_wildcard_actions_and_star_resources_only_where_aws_has_no_resource_level(label, function, policy):
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", "deny-by-default: only Allow statements"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
        for action in actions:
            assert "*" not in action and "?" not in action, f"{function}: wildcard action {action}"
        if "*" in resources:
            assert resources == ["*"] and set(actions) <= STAR_RESOURCE_ACTIONS, f"{function}: {actions} on *"
        for resource in resources:
            assert resource == "*" or resource.startswith("arn:aws:"), resource
            assert "${" not in resource, "unrendered placeholder"


@pytest.mark.parametrize("label,function,policy", all_policies(), ids=lambda v: v if isinstance(v, str) else "")
def test_logs_only_to_the_functions_own_log_group(label, function, policy):
    stage = example_stage(label.split("-")[0])
    logs = [s for s in statements(policy) if any(a.startswith("logs:") for a in as_list(s["Action"]))]
    assert len(logs) == 1 and set(logs[0]["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert logs[0]["Resource"] == stage.log_group_arn(function) + ":*"


def test_kms_is_granted_only_for_a_configured_key_and_only_through_its_service():
    without = rendered(example_stage())
    # The dead-letter queue's own key (through SQS) is the stream handler's only KMS grant without options.
    assert [f for f, p in without.items() if allows(p, "kms:Decrypt")] == ["connect_stream_handler"]
    full = rendered(example_stage(**FULL_OPTIONS))
    for function, service, key in (
        ("attachment_scanner", "s3", FULL_OPTIONS["AttachmentsKmsKeyArn"]),
        ("ivr_decryptor", "ssm", FULL_OPTIONS["IvrKeysKmsKeyArn"]),
    ):
        (statement,) = [s for s in statements(full[function]) if "kms:Decrypt" in as_list(s["Action"])]
        assert statement["Resource"] == key
        assert statement["Condition"] == {"StringEquals": {"kms:ViaService": f"{service}.us-east-1.amazonaws.com"}}
    assert not allows(full["api_handler"], "kms:Decrypt")
    (dead_letters,) = [s for s in statements(full["connect_stream_handler"]) if "kms:Decrypt" in as_list(s["Action"])]
    assert dead_letters["Condition"]["StringEquals"] == {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}


def test_resources_are_this_deployments_exact_arns():
    stage = example_stage()
    out = stage.predicted_outputs()
    by_function = rendered(stage)

    def resources_of(function, action):
        return {
            r
            for s in statements(by_function[function])
            if action in as_list(s["Action"])
            for r in as_list(s["Resource"])
        }

    assert resources_of("api_handler", "dynamodb:PutItem") == {out["SessionsTableArn"]}
    assert resources_of("api_handler", "secretsmanager:GetSecretValue") == {out["MessengerSecretArn"]}
    assert resources_of("api_handler", "connect:StartChatContact") == {
        f"{stage.instance_arn}/contact-flow/{out['ConnectContactFlowId']}"
    }
    assert resources_of("api_handler", "connect:StartContactStreaming") == {f"{stage.instance_arn}/contact/*"}
    assert resources_of("attachment_scanner", "s3:GetObject") == {
        "arn:aws:s3:::amazon-connect-example-attachments/connect/example/Attachments/*"
    }
    assert resources_of("ivr_decryptor", "ssm:GetParameters") == {
        "arn:aws:ssm:us-east-1:123456789012:parameter/connect-guard/prod/ivr-keys",
        "arn:aws:ssm:us-east-1:123456789012:parameter/connect-guard/prod/ivr-keys/*",
    }
    assert resources_of("connect_stream_handler", "sqs:SendMessage") == {out["DeadLetterQueueArn"]}


def test_an_unknown_placeholder_fails_rendering_instead_of_leaking_into_a_policy():
    template = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "${NoSuchOutput}"}],
    }
    with pytest.raises(KeyError):
        policies.render(template, {})


# ------------------------------------------------------------------------------------ config.json


def test_every_deployed_stage_uses_its_own_policy_files_and_no_autogenerated_policy():
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    for stage in STAGES:
        section = config["stages"][stage]
        assert section["autogen_policy"] is False
        for function in FUNCTIONS:
            name = section["lambda_functions"][function]["iam_policy_file"]
            assert name == policies.policy_file_name(stage, function)
            assert (PROJECT_DIR / ".chalice" / name).is_file()


# ------------------------------------------------------------------------------------ code vs policies

PROJECT = Project(PROJECT_DIR)
ENTRY_POINTS = PROJECT.entry_points()


def test_the_app_has_no_entry_point_we_do_not_deploy():
    assert set(ENTRY_POINTS) <= set(FUNCTIONS)


@pytest.mark.parametrize("label", [f"{s}-committed" for s in STAGES] + ["prod-all-engines"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_call_a_function_makes_is_allowed_by_its_own_policy(label, function):
    entry = ENTRY_POINTS[function]  # every deployed function is an entry point of app.py
    if label.endswith("committed"):
        stage = label.split("-")[0]
        policy, environment = committed(stage)[function], policies.function_environment(CONFIG, stage, function)
    else:
        policy, environment = rendered(example_stage(**FULL_OPTIONS), "both")[function], {"PII_ENGINE": "both"}
    switched_off = {a for a, enabled in configured_actions(function).items() if not enabled(environment)}
    missing = sorted(
        f"{action} ({c.module})"
        for c in PROJECT.calls(entry)
        if c.needs_iam
        for action in c.actions
        if action not in switched_off and not allows(policy, action)
    )
    assert not missing, f"{function} calls AWS without permission: {missing}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_policy_grants_nothing_its_function_does_not_call(function):
    """Configured capabilities (Comprehend) are checked by the test below instead: their grant follows
    the configuration, so it exists before and whether or not the code path is taken."""
    entry = ENTRY_POINTS[function]  # every deployed function is an entry point of app.py
    needed = {a.lower() for c in PROJECT.calls(entry) if c.needs_iam for a in c.actions}
    assert needed, f"{function} makes no AWS call: its policy would grant nothing"
    policy = rendered(example_stage(**FULL_OPTIONS))[function]
    unused = sorted(
        a
        for a in granted(policy)
        if a.lower() not in needed and a not in IMPLICIT_ACTIONS and a not in configured_actions(function)
    )
    assert not unused, f"{function} is granted actions its code never calls: {unused}"


@pytest.mark.parametrize(
    "engine,granted_to",
    [
        ("local", set()),
        ("comprehend", {"api_handler", "connect_stream_handler", "message_processor"}),
        ("both", {"api_handler", "connect_stream_handler", "message_processor"}),
    ],
)
def test_comprehend_is_granted_only_when_the_pii_engine_uses_it(engine, granted_to):
    by_function = rendered(example_stage(), engine)
    assert {f for f, p in by_function.items() if allows(p, "comprehend:DetectPiiEntities")} == granted_to


def test_a_function_level_engine_overrides_the_stage():
    config = config_with_engine("local")
    config["stages"]["prod"]["lambda_functions"]["api_handler"]["environment_variables"] = {"PII_ENGINE": "both"}
    stage = example_stage()
    by_function = policies.render_all(stage, stage.predicted_outputs(), config)
    assert {f for f, p in by_function.items() if allows(p, "comprehend:DetectPiiEntities")} == {"api_handler"}


# ------------------------------------------------------------------------------------ the scanner itself


def write_project(root: Path, files: dict[str, str]) -> Project:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Project(root)


SAMPLE = {
    "chalicelib/__init__.py": "",
    "chalicelib/aws.py": "def client(name): ...\n",
    "chalicelib/store.py": """
        from chalicelib import aws

        _METHODS = {"DeleteItem": "delete_item"}   # a lookup table is not a call

        class Store:
            def __init__(self):
                self._db = aws.client("dynamodb")

            def save(self, item):
                self._db.put_item(TableName="t", Item=item)
                self._db.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": item}}])
                return item.query                   # a value read, though named like an operation

            def purge(self, key):                   # nothing calls it
                self._db.delete_item(TableName="t", Key=key)
        """,
    "chalicelib/files/__init__.py": "",
    "chalicelib/files/reader.py": """
        def head(client, bucket, key):
            return client.head_object(Bucket=bucket, Key=key)   # client handed in
        """,
    "chalicelib/files/scan.py": """
        from chalicelib import aws
        from .reader import head

        def scan(bucket, key):
            head(aws.client("s3"), bucket, key)
            pages = aws.client("ssm").get_paginator("get_parameters_by_path")
            aws.client("connectparticipant").send_message(ConnectionToken="x", ContentType="text/plain", Content="y")
        """,
    "app.py": """
        from chalice import Chalice
        from chalicelib import store

        app = Chalice(app_name="x")

        def _store():
            return store.Store()

        @app.route("/save", methods=["POST"])
        def save():
            _store().save({})

        @app.lambda_function(name="scanner")
        def scanner_entry(event, context):
            from chalicelib.files import scan
            scan.scan("b", "k")
        """,
}


def test_scanner_attributes_calls_to_the_entry_points_that_reach_them(tmp_path):
    project = write_project(tmp_path, SAMPLE)
    entries = project.entry_points()
    assert set(entries) == {"api_handler", "scanner"}
    api_calls = project.calls(entries["api_handler"])
    scanner_calls = project.calls(entries["scanner"])
    assert {c.operation for c in api_calls} == {"PutItem", "TransactWriteItems"}
    assert {a for c in api_calls for a in c.actions} == {"dynamodb:PutItem"}  # a transaction of Puts
    assert {a for c in scanner_calls if c.needs_iam for a in c.actions} == {"s3:GetObject", "ssm:GetParametersByPath"}
    assert Call("connectparticipant", "SendMessage", "chalicelib.files.scan") in scanner_calls


def test_a_missing_permission_is_found(tmp_path):
    project = write_project(tmp_path, SAMPLE)
    entry = project.entry_points()["scanner"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}],
    }
    missing = {a for c in project.calls(entry) if c.needs_iam for a in c.actions if not allows(policy, a)}
    assert missing == {"ssm:GetParametersByPath"}

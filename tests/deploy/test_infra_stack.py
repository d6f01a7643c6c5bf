"""infra/template.yaml: it lints, moto's CloudFormation builds it through the deploy tool's own
create path, the outputs are what the dry run predicts, and the app runs on what it created."""

from __future__ import annotations

import json
import shutil

import pytest
from moto import mock_aws

from infra import chalice_config
from infra.aws_calls import RealAws
from infra.deploy import Deployment
from infra.stage import FUNCTIONS, TEMPLATE_PATH, Stage
from tests.support import PROJECT_DIR, REGION, chalice_test_client

# moto's CloudFormation skips resource types it does not model (alarms, policies, metric filters).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")

ACCOUNT = "123456789012"  # moto's default account
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
INSTANCE_ARN = f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{INSTANCE_ID}"
SECRET = {"APP_SECRET": "app-secret-canary", "PAGE_TOKEN": "page-token-canary", "VERIFY_TOKEN": "verify-canary-42"}


def lint(path) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    return [str(m) for m in lint_file(path, config=ManualArgs(regions=[REGION]))]


def test_template_passes_cfn_lint():
    assert lint(TEMPLATE_PATH) == []


@pytest.fixture
def stack(tmp_path):
    """The infra stack as `make deploy` creates it, in moto; yields (stage, outputs, boto3 session)."""
    with mock_aws():
        import boto3

        session = boto3.session.Session(region_name=REGION)
        secret_arn = session.client("secretsmanager").create_secret(
            Name="connect-guard/prod/messenger", SecretString=json.dumps(SECRET)
        )["ARN"]
        stage = Stage.from_params(
            "prod",
            {
                "ConnectInstanceArn": INSTANCE_ARN,
                "ConnectContactFlowId": "66666666-7777-8888-9999-000000000000",
                "AttachmentsBucketName": "connect-attachments-example",
                "AttachmentsPrefix": "connect/example/Attachments",
                "MessengerSecretArn": secret_arn,
            },
            "connect-guard",
        )
        said: list[str] = []
        outputs = Deployment(stage, RealAws(stage, said.append), said.append, tmp_path).ensure_stack()
        yield stage, outputs, session, said


def test_the_deploy_tool_creates_the_stack_and_its_outputs_are_the_predicted_ones(stack):
    stage, outputs, _, said = stack
    assert any(
        line.startswith("aws cloudformation create-stack --stack-name connect-guard-prod-infra") for line in said
    )
    assert outputs == stage.predicted_outputs()


def test_a_second_run_changes_nothing(stack, tmp_path):
    stage, outputs, _, _ = stack
    said: list[str] = []
    again = Deployment(stage, RealAws(stage, said.append), said.append, tmp_path).ensure_stack()
    assert again == outputs
    assert not any("create-stack" in line for line in said)


def test_moto_builds_the_table_topic_and_queue_the_outputs_name(stack):
    _, outputs, session, _ = stack
    table = session.client("dynamodb").describe_table(TableName=outputs["SessionsTableName"])["Table"]
    assert table["TableArn"] == outputs["SessionsTableArn"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    topic = session.client("sns").get_topic_attributes(TopicArn=outputs["StreamingTopicArn"])["Attributes"]
    assert topic["KmsMasterKeyId"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    queue = session.client("sqs").get_queue_attributes(QueueUrl=outputs["DeadLetterQueueUrl"], AttributeNames=["All"])
    assert queue["Attributes"]["QueueArn"] == outputs["DeadLetterQueueArn"]
    assert queue["Attributes"]["KmsMasterKeyId"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")


# moto's CloudFormation ignores TTL, PITR, SSE, topic/queue policies, metric filters and alarms, so
# those are checked on the template itself (cfn-lint's decoder keeps the intrinsic functions).


@pytest.fixture(scope="module")
def resources():
    from cfnlint.decode import decode

    template, problems = decode(str(TEMPLATE_PATH))
    assert not problems
    return template["Resources"]


def props(resources, name):
    return resources[name]["Properties"]


def test_sessions_table_expires_recovers_and_is_encrypted(resources):
    table = props(resources, "SessionsTable")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_only_our_connect_instance_may_publish_to_the_stream_topic(resources):
    statements = props(resources, "StreamingTopicPolicy")["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "connect.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnEquals": {"aws:SourceArn": {"Ref": "ConnectInstanceArn"}},
    }
    key_statements = props(resources, "StreamingTopicKey")["KeyPolicy"]["Statement"]
    (connect,) = [s for s in key_statements if s["Principal"] == {"Service": "connect.amazonaws.com"}]
    assert connect["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert set(connect["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert props(resources, "StreamingTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["StreamingTopicKey", "Arn"]}


def test_dead_letter_queue_accepts_only_the_stream_topics_redrive(resources):
    (statement,) = props(resources, "DeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "StreamingTopic"}}}


def test_alarms_watch_every_function_the_dlq_and_the_scanners_rejection_rate(resources):
    alarms = {name: p["Properties"] for name, p in resources.items() if p["Type"] == "AWS::CloudWatch::Alarm"}
    watched = {
        a["Dimensions"][0]["Value"]["Fn::Sub"]
        for a in alarms.values()
        if a.get("Namespace") == "AWS/Lambda" and a["MetricName"] == "Errors"
    }
    throttled = {
        a["Dimensions"][0]["Value"]["Fn::Sub"].rsplit("-", 1)[-1]
        for a in alarms.values()
        if a.get("MetricName") == "Throttles"
    }
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["prod"]["lambda_functions"]
    synchronous_and_capped = {f for f in ("attachment_scanner", "ivr_decryptor") if "reserved_concurrency" in config[f]}
    assert throttled == synchronous_and_capped
    stage = Stage.from_params(
        "prod", json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text()), "connect-guard"
    )
    assert {w.replace("${AppName}", "connect-guard").replace("${Stage}", "prod") for w in watched} == {
        stage.function_name(f) for f in FUNCTIONS
    }
    assert any(a.get("Namespace") == "AWS/SQS" for a in alarms.values())
    (rate,) = [a for a in alarms.values() if "Metrics" in a]
    metrics = {m["Id"]: m for m in rate["Metrics"]}
    assert metrics["rejected"]["MetricStat"]["Metric"]["MetricName"] == "AttachmentsRejected"
    filters = {
        p["Properties"]["MetricTransformations"][0]["MetricName"]: p["Properties"]["FilterPattern"]
        for p in resources.values()
        if p["Type"] == "AWS::Logs::MetricFilter"
    }
    assert filters == {
        "AttachmentsScanned": '{ $.event = "scan_decision" }',
        "AttachmentsRejected": '{ $.event = "scan_decision" && $.status = "REJECTED" }',
    }


def test_log_groups_are_the_ones_chalice_functions_write_to(resources):
    groups = {
        p["Properties"]["LogGroupName"]["Fn::Sub"]
        for p in resources.values()
        if p["Type"] == "AWS::Logs::LogGroup" and p["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/")
    }
    expected = {"/aws/lambda/${AppName}-${Stage}"} | {
        f"/aws/lambda/${{AppName}}-${{Stage}}-{f}" for f in FUNCTIONS if f != "api_handler"
    }
    assert groups == expected


@pytest.fixture
def deployed_client(stack, tmp_path):
    """The Chalice test client on the stage configuration `make deploy` writes from the stack's outputs."""
    from app import app

    stage, outputs, session, _ = stack
    project = tmp_path / "project"
    (project / ".chalice").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / ".chalice" / "config.json", project / ".chalice" / "config.json")
    chalice_config.write("prod", outputs, project)
    with chalice_test_client(app, "prod", project) as client:
        yield client, app, outputs, session


def lambda_names(app) -> set[str]:
    return set(app.handler_map)


def test_the_stage_settings_resolve_to_the_stacks_resources(deployed_client, monkeypatch):
    from chalicelib import settings

    client, _, outputs, _ = deployed_client
    assert client.http.get("/health").status_code == 200
    for name, value in chalice_config.stage_environment(outputs).items():
        monkeypatch.setenv(name, value)
    messaging = settings.load().messaging
    assert messaging.sessions_table == outputs["SessionsTableName"]
    assert messaging.connect_streaming_topic_arn == outputs["StreamingTopicArn"]
    assert messaging.connect_instance_id == INSTANCE_ID
    assert messaging.messenger_secret_id == outputs["MessengerSecretArn"]


def test_messenger_verification_reads_the_secret_the_stack_names(deployed_client):
    client, app, _, _ = deployed_client
    if "/webhook/messenger" not in app.routes:
        pytest.skip("the Messenger webhook has not landed in app.py yet")
    verified = client.http.get(
        "/webhook/messenger?hub.mode=subscribe&hub.verify_token=verify-canary-42&hub.challenge=1158201444"
    )
    assert verified.status_code == 200 and verified.body == b"1158201444"
    refused = client.http.get("/webhook/messenger?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
    assert refused.status_code == 403


def test_the_scanner_reads_attachments_under_the_configured_prefix(deployed_client):
    client, app, _, session = deployed_client
    if "attachment_scanner" not in lambda_names(app):
        pytest.skip("attachment_scanner has not landed in app.py yet")
    s3 = session.client("s3")
    s3.create_bucket(Bucket="connect-attachments-example")  # Connect's bucket, made here as Connect would
    key = "connect/example/Attachments/chat/2026/11/20/f1_20261120T22:00_UTC.txt"
    body = b"order 1234 arrives on tuesday\n"
    s3.put_object(Bucket="connect-attachments-example", Key=key, Body=body)
    event = {
        "Version": "1.0",
        "InstanceId": INSTANCE_ID,
        "File": {
            "FileId": "f1",
            "FileCreationTime": 1763676000000,
            "FileName": "note.txt",
            "FileSizeInBytes": len(body),
            "FileLocation": {
                "S3Location": {
                    "Bucket": "connect-attachments-example",
                    "Key": key,
                    "Arn": f"arn:aws:s3:::connect-attachments-example/{key}",
                }
            },
        },
    }
    assert client.lambda_.invoke("attachment_scanner", event).payload == {"Status": "APPROVED"}


def test_the_decryptor_finds_its_keys_under_the_stacks_path(deployed_client):
    client, app, outputs, session = deployed_client
    fixture = PROJECT_DIR / "tests" / "fixtures" / "connect-encrypted-input"
    if "ivr_decryptor" not in lambda_names(app) or not fixture.is_dir():
        pytest.skip("ivr_decryptor (and its test vector) has not landed yet")
    session.client("ssm").put_parameter(
        Name=outputs["IvrKeysPath"] + "a5ecd749-4bd8-4a94-bfde-27eefe4f12b1",
        Type="SecureString",
        Value=(fixture / "test.private.key").read_text(),
    )
    event = {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {"ContactId": "c1", "InstanceARN": INSTANCE_ARN, "Channel": "VOICE"},
            "Parameters": {"EncryptedInput": (fixture / "ciphertext.b64").read_text().strip()},
        },
    }
    result = client.lambda_.invoke("ivr_decryptor", event).payload
    assert result["Status"] == "OK" and result["Length"] == "12"


def test_the_parameters_the_tool_passes_satisfy_the_templates_constraints():
    """CloudFormation would reject them at create time; a mismatch between tool and template shows here."""
    import re

    from cfnlint.decode import decode

    template, _ = decode(str(TEMPLATE_PATH))
    declared = template["Parameters"]
    example = json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text())
    full = {
        **example,
        "AttachmentsKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "IvrKeysKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee",
        "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:on-call",
        "AttachmentsPrefix": "connect/example/Attachments/",
    }
    for params in (example, full):
        for stage_name in ("dev", "prod"):
            passed = {
                p["ParameterKey"]: p["ParameterValue"]
                for p in Stage.from_params(stage_name, params, "connect-guard").template_parameters()
            }
            assert set(passed) == set(declared)
            for name, value in passed.items():
                spec = declared[name]
                if "AllowedPattern" in spec:
                    assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
                if "AllowedValues" in spec:
                    assert value in [str(v) for v in spec["AllowedValues"]], (name, value)

"""infra/deploy.py: the dry run prints every call (each valid for the real AWS API), re-running on a
deployed stage changes nothing, and conflicts stop with a clear message."""

from __future__ import annotations

import json
import shlex

import pytest

from infra import chalice_config, policies
from infra.aws_calls import DryRunAws, cli_line, not_found
from infra.deploy import PERMISSION_SID, STREAM_FILTER_POLICY, DeployError, Deployment, main
from infra.stage import FUNCTIONS, PROJECT_DIR, Stage, StageError
from tests.deploy.dry_run import dry_run_deploy_lines

EXAMPLE = json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text())


def stage(**overrides) -> Stage:
    return Stage.from_params("prod", {**EXAMPLE, **overrides}, "connect-guard")


def validate_against_the_api(service: str, operation: str, params: dict) -> None:
    """botocore's own request validation: names, types and required members of the real API."""
    import botocore.session
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model(service)
    validate_parameters(
        params,
        model.operation_model(
            model.operation_names[[n.lower() for n in model.operation_names].index(operation.replace("_", ""))]
        ).input_shape,
    )


# ------------------------------------------------------------------------------------ dry run


def test_dry_run_deploy_prints_every_call_without_credentials(monkeypatch, tmp_path):
    lines = dry_run_deploy_lines(monkeypatch, tmp_path)
    text = "\n".join(lines)
    for expected in (
        "aws cloudformation create-stack --stack-name connect-guard-prod-infra --template-body file://infra/template.yaml",
        "aws cloudformation wait stack-create-complete",
        "chalice package --stage prod .chalice/deployments/package-prod",
        "Bytecode into the deployment packages",
        "chalice deploy --stage prod",
        "aws sns set-subscription-attributes",
        "--attribute-name FilterPolicy --attribute-value "
        + shlex.quote(json.dumps(STREAM_FILTER_POLICY, separators=(",", ":"))),
        "aws lambda put-function-event-invoke-config --function-name connect-guard-prod-connect_stream_handler",
        "aws lambda add-permission --function-name connect-guard-prod-ivr_decryptor",
        "aws connect associate-lambda-function --instance-id 11111111-2222-3333-4444-555555555555",
        "aws connect create-integration-association --instance-id 11111111-2222-3333-4444-555555555555 "
        "--integration-type FILE_SCANNER --integration-arn "
        "arn:aws:lambda:us-east-1:123456789012:function:connect-guard-prod-attachment_scanner",
        "aws lambda add-permission --function-name connect-guard-prod-message_processor --statement-id "
        f"{PERMISSION_SID} --action lambda:InvokeFunction --principal connect.amazonaws.com --source-arn "
        "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555 --source-account 123456789012",
        "aws connect create-integration-association --instance-id 11111111-2222-3333-4444-555555555555 "
        "--integration-type MESSAGE_PROCESSOR --integration-arn "
        "arn:aws:lambda:us-east-1:123456789012:function:connect-guard-prod-message_processor",
        "Messenger callback URL: https://<rest-api-id>.execute-api.us-east-1.amazonaws.com/api/webhook/messenger",
    ):
        assert expected in text
    steps = ("chalice package --stage prod", "Bytecode into the deployment packages", "chalice deploy --stage prod")
    assert [text.index(step) for step in steps] == sorted(text.index(step) for step in steps)
    assert not (PROJECT_DIR / "infra" / "params-prod.json").exists() or "using" not in text


@pytest.mark.parametrize("action,deployed", [("deploy", False), ("destroy", True)])
def test_every_aws_call_is_valid_for_the_real_api(action, deployed):
    aws = DryRunAws(stage(AttachmentsKmsKeyArn="", AlarmTopicArn=""), printer=lambda _: None, deployed=deployed)
    getattr(Deployment(aws._stage, aws, printer=lambda _: None), action)()
    calls = [(s, o, p) for s, o, p in aws.calls if s != "command" and not o.startswith("wait:")]
    assert calls
    for service, operation, params in calls:
        validate_against_the_api(service, operation, params)


def test_dry_run_writes_nothing(tmp_path):
    config = tmp_path / ".chalice" / "config.json"
    config.parent.mkdir()
    config.write_text("{}")
    target = stage()
    aws = DryRunAws(target, printer=lambda _: None)
    Deployment(target, aws, printer=lambda _: None, project_dir=tmp_path).deploy()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["config.json"]
    assert config.read_text() == "{}"


def test_dry_run_destroy_undoes_connect_wiring_then_the_app_then_the_stack():
    target = stage()
    aws = DryRunAws(target, printer=lambda _: None, deployed=True)
    Deployment(target, aws, printer=lambda _: None).destroy()
    order = [
        o
        for _, o, _ in aws.calls
        if o in ("delete_integration_association", "disassociate_lambda_function", "delete --stage", "delete_stack")
    ]
    assert order == [
        "delete_integration_association",
        "delete_integration_association",
        "disassociate_lambda_function",
        "delete --stage",
        "delete_stack",
    ]
    removed = [p["IntegrationAssociationId"] for _, o, p in aws.calls if o == "delete_integration_association"]
    assert removed == ["<message_processor-association-id>", "<attachment_scanner-association-id>"]


def test_cli_line_quotes_values_for_a_shell():
    line = cli_line("sns", "set_subscription_attributes", {"AttributeValue": '{"a":["b c"]}', "Count": 2})
    assert line == 'aws sns set-subscription-attributes --attribute-value \'{"a":["b c"]}\' --count 2'


# ------------------------------------------------------------------------------------ idempotency


def deployed_flows(target: Stage) -> dict[str, str]:
    """Name -> content of the flows a previous `make deploy` of this stage published."""
    from infra.flow_deploy import FlowDeployment, flow_name
    from infra.flow_files import content_text, load_all, render

    deployment = FlowDeployment(target, None)
    values = deployment.values()
    return {
        flow_name(target, f): content_text(render(f, values, {}))
        for f in load_all()
        if not deployment.missing(f, f.select({}), values)
    }


class DeployedAccount:
    """Answers like an account where `make deploy` already ran; records every call."""

    dry_run = False

    def __init__(
        self,
        target: Stage,
        scanner_arn: str | None = None,
        permission_arn: str | None = None,
        lifecycle_rules: list | None = None,
        bucket_policy: dict | None = None,
    ):
        self.target = target
        self.scanner_arn = scanner_arn or target.function_arn("attachment_scanner")
        self.lifecycle_rules = lifecycle_rules or []
        self.bucket_policy = bucket_policy or {}
        self.requests: list[tuple[str, dict]] = []
        self.permission_arn = permission_arn or target.instance_arn
        self.calls: list[tuple[str, str]] = []

    def call(self, service, operation, **params):
        self.calls.append((service, operation))
        self.requests.append((operation, params))
        validate_against_the_api(service, operation, params)
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.target.predicted_outputs().items()]
        if operation == "update_stack":
            raise not_found("UpdateStack", "ValidationError", "No updates are to be performed.")
        answers = {
            "describe_stacks": {"Stacks": [{"StackStatus": "UPDATE_COMPLETE", "Outputs": outputs}]},
            "list_subscriptions_by_topic": {
                "Subscriptions": [
                    {
                        "SubscriptionArn": "arn:sub",
                        "Protocol": "lambda",
                        "Endpoint": self.target.function_arn("connect_stream_handler"),
                    }
                ]
            },
            "get_policy": {
                "Policy": json.dumps(
                    {
                        "Statement": [
                            {"Sid": PERMISSION_SID, "Condition": {"ArnLike": {"AWS:SourceArn": self.permission_arn}}}
                        ]
                    }
                )
            },
            "list_lambda_functions": {"LambdaFunctions": [self.target.function_arn("ivr_decryptor")]},
            "list_integration_associations": {
                "IntegrationAssociationSummaryList": [
                    {"IntegrationAssociationId": "a1", "IntegrationArn": self.scanner_arn}
                    if params.get("IntegrationType") == "FILE_SCANNER"
                    else {
                        "IntegrationAssociationId": "a2",
                        "IntegrationArn": self.target.function_arn("message_processor"),
                    }
                ]
            },
            "get_bucket_lifecycle_configuration": {"Rules": self.lifecycle_rules},
            "get_bucket_policy": {"Policy": json.dumps(self.bucket_policy)},
            "list_contact_flows": {
                "ContactFlowSummaryList": [{"Id": f"id-{name}", "Name": name} for name in deployed_flows(self.target)]
            },
        }
        if operation == "describe_contact_flow":
            name = params["ContactFlowId"].removeprefix("id-")
            return {"ContactFlow": {"Status": "PUBLISHED", "Content": deployed_flows(self.target)[name]}}
        return answers.get(operation, {})

    def wait(self, service, waiter, **params):
        self.calls.append((service, "wait:" + waiter))

    def run(self, argv, env, cwd, capture=False):
        self.calls.append(("command", argv[1]))
        assert env["AWS_DEFAULT_REGION"] == "us-east-1"
        return "https://abc.execute-api.us-east-1.amazonaws.com/api/\n"

    def mutations(self) -> list[str]:
        return [op for _, op in self.calls if not op.startswith(("describe_", "list_", "get_", "wait:"))]


def test_redeploying_a_deployed_stage_only_repeats_the_idempotent_puts(tmp_path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"app_name": "connect-guard", "stages": {}}))
    target = stage()
    account = DeployedAccount(target)
    Deployment(target, account, printer=lambda _: None, project_dir=tmp_path).deploy()
    assert account.mutations() == [
        "update_stack",
        "package",  # local: builds the zips that get our bytecode (chalice reuses them unchanged)
        "deploy",
        "set_subscription_attributes",
        "set_subscription_attributes",
        "put_function_event_invoke_config",
        "url",
    ]


def test_a_permission_for_another_instance_is_replaced(tmp_path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"app_name": "connect-guard", "stages": {}}))
    target = stage()
    account = DeployedAccount(target, permission_arn="arn:aws:connect:us-east-1:123456789012:instance/other")
    Deployment(target, account, printer=lambda _: None, project_dir=tmp_path).deploy()
    assert account.mutations().count("remove_permission") == 3
    assert account.mutations().count("add_permission") == 3


def test_another_file_scanner_on_the_instance_stops_the_deploy(tmp_path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"app_name": "connect-guard", "stages": {}}))
    target = stage()
    account = DeployedAccount(target, scanner_arn="arn:aws:lambda:us-east-1:123456789012:function:someone-else")
    with pytest.raises(DeployError, match="already has a FILE_SCANNER"):
        Deployment(target, account, printer=lambda _: None, project_dir=tmp_path).deploy()
    assert "create_integration_association" not in account.mutations()


def test_deploy_writes_the_stage_environment_and_policies_and_keeps_the_rest(tmp_path):
    (tmp_path / ".chalice").mkdir()
    original = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    original["stages"]["prod"]["environment_variables"]["PII_ENGINE"] = "both"
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(original))
    target = stage()
    Deployment(target, DeployedAccount(target), printer=lambda _: None, project_dir=tmp_path).deploy()

    written = json.loads((tmp_path / ".chalice" / "config.json").read_text())
    outputs = target.predicted_outputs()
    assert written["stages"]["prod"]["environment_variables"] == {
        "PII_ENGINE": "both",
        **chalice_config.stage_environment(outputs),
    }
    assert written["stages"]["local"] == original["stages"]["local"]
    assert written["stages"]["dev"] == original["stages"]["dev"]
    assert written["stages"]["prod"]["lambda_functions"]["ivr_decryptor"]["lambda_timeout"] == 5
    for function in FUNCTIONS:
        on_disk = json.loads(policies.policy_path("prod", function, tmp_path).read_text())
        assert on_disk == policies.render_all(target, outputs, written)[function]
    assert policies.uses_comprehend(policies.function_environment(written, "prod", "api_handler"))
    assert "comprehend:DetectPiiEntities" in json.dumps(
        json.loads(policies.policy_path("prod", "api_handler", tmp_path).read_text())
    )


# ------------------------------------------------------------------------------------ unprocessed transcripts

TRANSCRIPTS = {
    "TranscriptsBucketName": "amazon-connect-example-transcripts",
    "TranscriptsPrefix": "connect/example/ChatTranscripts",
}
READER = "arn:aws:iam::123456789012:role/transcript-auditor"


def test_unprocessed_transcripts_are_expired_and_locked_down_keeping_the_buckets_own_rules(tmp_path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"app_name": "connect-guard", "stages": {}}))
    target = stage(**TRANSCRIPTS, UnprocessedExpiryDays="7", UnprocessedReaderRoleArn=READER)
    theirs_rule = {"ID": "theirs", "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 90}}
    theirs_statement = {
        "Sid": "Theirs",
        "Effect": "Allow",
        "Principal": {"AWS": READER},
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::amazon-connect-example-transcripts",
    }
    account = DeployedAccount(
        target, lifecycle_rules=[theirs_rule], bucket_policy={"Version": "2012-10-17", "Statement": [theirs_statement]}
    )
    for _ in range(2):  # a redeploy replaces our rule and statement instead of adding them again
        account.requests.clear()
        Deployment(target, account, printer=lambda _: None, project_dir=tmp_path).deploy()
        [lifecycle] = [p for o, p in account.requests if o == "put_bucket_lifecycle_configuration"]
        assert lifecycle["LifecycleConfiguration"]["Rules"] == [
            theirs_rule,
            {
                "ID": "connect-guard-unprocessed-transcripts",
                "Status": "Enabled",
                "Filter": {"Prefix": "connect/example/UnprocessedChatTranscripts/"},
                "Expiration": {"Days": 7},
            },
        ]
        [put] = [p for o, p in account.requests if o == "put_bucket_policy"]
        policy = json.loads(put["Policy"])
        assert policy["Statement"][0] == theirs_statement and len(policy["Statement"]) == 2
        assert policy["Statement"][1] == {
            "Sid": "ConnectGuardUnprocessedTranscriptsReader",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::amazon-connect-example-transcripts/connect/example/UnprocessedChatTranscripts/*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": READER}},
        }
        account.lifecycle_rules = lifecycle["LifecycleConfiguration"]["Rules"]
        account.bucket_policy = policy


def test_dry_run_prints_the_transcript_protection_and_every_call_is_valid():
    target = stage(**TRANSCRIPTS, UnprocessedExpiryDays="30", UnprocessedReaderRoleArn=READER)
    aws = DryRunAws(target, printer=lambda _: None)
    Deployment(target, aws, printer=lambda _: None).deploy()
    operations = [o for _, o, _ in aws.calls]
    assert "put_bucket_lifecycle_configuration" in operations and "put_bucket_policy" in operations
    for service, operation, params in aws.calls:
        if service == "s3":
            validate_against_the_api(service, operation, params)


def test_without_the_parameters_no_bucket_is_touched():
    aws = DryRunAws(stage(), printer=lambda _: None)
    Deployment(aws._stage, aws, printer=lambda _: None).deploy()
    assert not [c for c in aws.calls if c[0] == "s3"]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"UnprocessedExpiryDays": "7"}, "need TranscriptsBucketName and TranscriptsPrefix"),
        ({**TRANSCRIPTS, "UnprocessedExpiryDays": "0"}, "between 1 and 3650"),
        ({**TRANSCRIPTS, "UnprocessedReaderRoleArn": "auditor"}, "UnprocessedReaderRoleArn must look like"),
    ],
)
def test_bad_transcript_parameters_are_named(change, message):
    with pytest.raises(StageError, match=message):
        stage(**change)


def test_transcript_parameters_never_reach_the_infra_stack():
    names = {p["ParameterKey"] for p in stage(**TRANSCRIPTS, UnprocessedExpiryDays="7").template_parameters()}
    assert not names & set(TRANSCRIPTS)


# ------------------------------------------------------------------------------------ parameters


@pytest.mark.parametrize(
    "change,message",
    [
        ({"ConnectInstanceArn": "11111111-2222-3333-4444-555555555555"}, "ConnectInstanceArn must look like"),
        ({"MessengerSecretArn": ""}, "missing parameter(s): MessengerSecretArn"),
        ({"ConectInstanceArn": "typo"}, "unknown parameter(s): ConectInstanceArn"),
    ],
)
def test_bad_parameters_are_named(change, message):
    with pytest.raises(StageError) as error:
        stage(**change)
    assert message in str(error.value)


def test_local_stage_is_never_deployed(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(EXAMPLE))
    lines: list[str] = []
    assert main(["deploy", "--stage", "local", "--params", str(path), "--dry-run"], printer=lines.append) == 2
    assert lines[-1].startswith("error: STAGE must be one of dev, prod")


def test_a_missing_parameters_file_says_how_to_make_one(tmp_path):
    lines: list[str] = []
    assert main(["deploy", "--stage", "prod", "--params", str(tmp_path / "nope.json")], printer=lines.append) == 2
    assert "copy params.example.json" in lines[-1]


def test_ivr_keys_path_defaults_per_stage_and_always_ends_with_a_slash():
    assert stage().params["IvrKeysPath"] == "/connect-guard/prod/ivr-keys/"
    assert stage(IvrKeysPath="/custom/keys").params["IvrKeysPath"] == "/custom/keys/"


def test_file_scanner_is_an_integration_type_of_the_connect_api():
    """botocore does not validate enums; an unknown IntegrationType would only fail against AWS."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("connect")
    assert {"FILE_SCANNER", "MESSAGE_PROCESSOR"} <= set(model.shape_for("IntegrationType").enum)


def test_policies_action_renders_the_policy_files_alone(tmp_path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text("{}")
    target = stage()
    Deployment(
        target, DryRunAws(target, printer=lambda _: None), printer=lambda _: None, project_dir=tmp_path
    ).render_policies()
    assert sorted(p.name for p in (tmp_path / ".chalice").iterdir()) == sorted(
        [policies.policy_file_name("prod", f) for f in FUNCTIONS] + ["config.json"]
    )


@pytest.mark.parametrize("target", ["deploy", "destroy"])
def test_make_targets_run_the_tool_in_dry_run(target):
    import subprocess

    done = subprocess.run(
        ["make", "--no-print-directory", target, "STAGE=prod", "DRY_RUN=1", "PARAMS=infra/params.example.json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "aws cloudformation" in done.stdout


def test_make_deploy_requires_a_stage():
    import subprocess

    done = subprocess.run(
        ["make", "--no-print-directory", "deploy", "STAGE="],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "STAGE is required" in done.stderr


def test_aws_errors_end_with_one_line_and_a_retry_hint(monkeypatch, tmp_path):
    from infra import deploy

    class Denied(DryRunAws):
        def call(self, service, operation, **params):
            raise not_found(
                operation, "AccessDeniedException", "not authorized to perform cloudformation:DescribeStacks"
            )

    monkeypatch.setattr(deploy, "RealAws", lambda target, printer: Denied(target, printer))
    path = tmp_path / "p.json"
    path.write_text(json.dumps(EXAMPLE))
    lines: list[str] = []
    assert main(["deploy", "--stage", "prod", "--params", str(path)], printer=lines.append) == 1
    assert lines[-1].startswith("error: An error occurred (AccessDeniedException)")
    assert "run the same command again" in lines[-1]


@pytest.mark.parametrize("failing", ["package", "deploy"])
def test_a_failed_chalice_command_is_named(monkeypatch, tmp_path, failing):
    import subprocess

    from infra import deploy

    class ChaliceFails(DryRunAws):
        def run(self, argv, env, cwd, capture=False):
            if argv[1] == failing:
                raise subprocess.CalledProcessError(2, list(argv))
            return super().run(argv, env, cwd, capture)

    monkeypatch.setattr(deploy, "RealAws", lambda target, printer: ChaliceFails(target, printer))
    path = tmp_path / "p.json"
    path.write_text(json.dumps(EXAMPLE))
    lines: list[str] = []
    assert main(["deploy", "--stage", "prod", "--params", str(path)], printer=lines.append) == 1
    assert lines[-1].startswith(f"error: `chalice {failing} --stage prod")
    assert "failed (exit 2)" in lines[-1]

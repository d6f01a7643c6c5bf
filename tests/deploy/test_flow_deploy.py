"""infra/flow_deploy.py against botocore's Stubber: every request is validated against the real Connect
model, a fresh instance gets the flows created published, a deployed one is left alone, a changed flow is
updated, Connect's validation problems are reported, and destroy deletes only what deploy created."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra import flow_checks
from infra.aws_calls import DryRunAws
from infra.flow_deploy import FlowDeployError, FlowDeployment, flow_name, stage_settings
from infra.flow_files import PLACEHOLDER, FlowFile, content_text, load, load_all, render
from infra.stage import PROJECT_DIR, Stage
from tests.deploy.dry_run import dry_run_deploy_lines

EXAMPLE = json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text())
INSTANCE = "11111111-2222-3333-4444-555555555555"


def stage(**overrides: str) -> Stage:
    return Stage.from_params("prod", {**EXAMPLE, **overrides}, "connect-guard")


class StubbedAws:
    """The deploy tool's AWS adapter over a real boto3 client whose answers come from a Stubber."""

    dry_run = False

    def __init__(self) -> None:
        self.client = boto3.client("connect", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.stub = Stubber(self.client)

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        assert service == "connect"
        return getattr(self.client, operation)(**params)


def rendered(target: Stage, key: str, settings: dict[str, bool] | None = None) -> str:
    deployment = FlowDeployment(target, None)
    return content_text(render(load(key), deployment.values(), settings or {}))


def deployable(target: Stage) -> list[FlowFile]:
    """The flows this stage can fill (chat-redaction waits for the message_processor function)."""
    deployment = FlowDeployment(target, None)
    values = deployment.values()
    return [f for f in load_all() if not deployment.missing(f, f.select({}), values)]


def config_dir(tmp_path: Path, environment: dict[str, str] | None = None) -> Path:
    (tmp_path / ".chalice").mkdir()
    config = {"app_name": "connect-guard", "stages": {"prod": {"environment_variables": environment or {}}}}
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    return tmp_path


def expect_list(aws: StubbedAws, flows: list[dict[str, str]]) -> None:
    aws.stub.add_response(
        "list_contact_flows",
        {"ContactFlowSummaryList": flows},
        {"InstanceId": INSTANCE, "ContactFlowTypes": ["CONTACT_FLOW"], "MaxResults": 1000},
    )


def expect_lambdas(aws: StubbedAws, associated: list[str]) -> None:
    aws.stub.add_response("list_lambda_functions", {"LambdaFunctions": associated}, {"InstanceId": INSTANCE})


def test_a_fresh_instance_gets_each_flow_created_published_and_the_decryptor_associated(tmp_path):
    target, aws = stage(), StubbedAws()
    decryptor = target.function_arn("ivr_decryptor")
    expect_list(aws, [])
    created: list[str] = []
    for flow_file in deployable(target):
        aws.stub.add_response(
            "create_contact_flow",
            {"ContactFlowId": f"id-{flow_file.key}"},
            {
                "InstanceId": INSTANCE,
                "Name": flow_name(target, flow_file),
                "Type": "CONTACT_FLOW",
                "Description": ANY,
                "Content": rendered(target, flow_file.key),
                "Status": "PUBLISHED",
                "Tags": {"app": "connect-guard", "stage": "prod"},
            },
        )
        created.append(flow_file.key)
        if flow_file.key == "secure-ivr":
            expect_lambdas(aws, [])
            aws.stub.add_response("associate_lambda_function", {}, {"InstanceId": INSTANCE, "FunctionArn": decryptor})
    with aws.stub:
        ids = FlowDeployment(target, aws, printer=lambda _: None, project_dir=config_dir(tmp_path)).deploy()
    aws.stub.assert_no_pending_responses()
    assert ids == {key: f"id-{key}" for key in created}
    assert "secure-ivr" in ids and "messenger-inbound" in ids


def test_a_deployed_instance_is_left_alone(tmp_path):
    target, aws = stage(), StubbedAws()
    lines: list[str] = []
    flows = deployable(target)
    expect_list(aws, [{"Id": f"id-{f.key}", "Name": flow_name(target, f)} for f in flows])
    for flow_file in flows:
        aws.stub.add_response(
            "describe_contact_flow",
            {"ContactFlow": {"Status": "PUBLISHED", "Content": rendered(target, flow_file.key)}},
            {"InstanceId": INSTANCE, "ContactFlowId": f"id-{flow_file.key}"},
        )
        if flow_file.key == "secure-ivr":
            expect_lambdas(aws, [target.function_arn("ivr_decryptor")])
    with aws.stub:
        FlowDeployment(target, aws, printer=lines.append, project_dir=config_dir(tmp_path)).deploy()
    aws.stub.assert_no_pending_responses()
    assert lines.count("  (no changes)") == len(flows)


def test_a_changed_flow_is_updated_and_checked_published(tmp_path):
    """MESSENGER_USE_PROCESSOR turned on in the stage: messenger-inbound's content changes."""
    target, aws = stage(), StubbedAws()
    project = config_dir(tmp_path, {"MESSENGER_USE_PROCESSOR": "true"})
    flow_file = load("messenger-inbound")
    old = rendered(target, "messenger-inbound")
    expect_list(aws, [{"Id": "id-m", "Name": flow_name(target, flow_file)}])
    deployment = FlowDeployment(target, aws, printer=lambda _: None, project_dir=project, flows=[flow_file])
    if "MessageProcessorArn" not in deployment.values():
        pytest.skip("message_processor is not part of the app yet: messenger-inbound cannot switch it on")
    new = rendered(target, "messenger-inbound", {"MESSENGER_USE_PROCESSOR": True})
    assert new != old
    key = {"InstanceId": INSTANCE, "ContactFlowId": "id-m"}
    aws.stub.add_response("describe_contact_flow", {"ContactFlow": {"Status": "PUBLISHED", "Content": old}}, key)
    aws.stub.add_response("update_contact_flow_content", {}, {**key, "Content": new})
    aws.stub.add_response("describe_contact_flow", {"ContactFlow": {"Status": "PUBLISHED", "Content": new}}, key)
    with aws.stub:
        assert deployment.deploy() == {"messenger-inbound": "id-m"}
    aws.stub.assert_no_pending_responses()


def test_an_update_connect_did_not_publish_stops_the_deploy(tmp_path):
    target, aws = stage(), StubbedAws()
    flow_file = load("secure-ivr")
    stale = rendered(target, "secure-ivr").replace("once more", "again")
    key = {"InstanceId": INSTANCE, "ContactFlowId": "id-s"}
    expect_list(aws, [{"Id": "id-s", "Name": flow_name(target, flow_file)}])
    aws.stub.add_response("describe_contact_flow", {"ContactFlow": {"Status": "PUBLISHED", "Content": stale}}, key)
    aws.stub.add_response("update_contact_flow_content", {}, {**key, "Content": rendered(target, "secure-ivr")})
    aws.stub.add_response("describe_contact_flow", {"ContactFlow": {"Status": "SAVED", "Content": stale}}, key)
    with aws.stub, pytest.raises(FlowDeployError, match="publish it in the console"):
        FlowDeployment(
            target, aws, printer=lambda _: None, project_dir=config_dir(tmp_path), flows=[flow_file]
        ).deploy()


def test_connects_validation_problems_are_reported_one_by_one(tmp_path):
    target, aws = stage(), StubbedAws()
    expect_list(aws, [])
    aws.stub.add_client_error(
        "create_contact_flow",
        service_error_code="InvalidContactFlowException",
        http_status_code=400,
        modeled_fields={"problems": [{"message": "Invalid key id"}, {"message": "Lambda not associated"}]},
    )
    with (
        aws.stub,
        pytest.raises(
            FlowDeployError,
            match="Connect rejected connect-guard-prod-secure-ivr: Invalid key id; Lambda not associated",
        ),
    ):
        FlowDeployment(
            target, aws, printer=lambda _: None, project_dir=config_dir(tmp_path), flows=[load("secure-ivr")]
        ).deploy()


def test_a_flow_that_breaks_an_invariant_is_never_uploaded(tmp_path):
    target, aws = stage(), StubbedAws()
    broken = load("secure-ivr")
    for action in broken.content["Actions"]:
        if action["Identifier"] == "suspend-logging":
            action["Parameters"]["FlowLoggingBehavior"] = "Enabled"
    expect_list(aws, [])
    with aws.stub, pytest.raises(FlowDeployError, match="secure-ivr breaks its invariants: card-input-1: digits"):
        FlowDeployment(target, aws, printer=lambda _: None, project_dir=config_dir(tmp_path), flows=[broken]).deploy()
    aws.stub.assert_no_pending_responses()


def test_a_flow_without_its_parameters_is_skipped_with_the_parameter_named(tmp_path):
    target, aws = stage(IvrEncryptionKeyId="", IvrCertificateFile="", FlowQueueArn=""), StubbedAws()
    lines: list[str] = []
    expect_list(aws, [])
    with aws.stub:
        assert FlowDeployment(target, aws, printer=lines.append, project_dir=config_dir(tmp_path)).deploy() == {}
    text = "\n".join(lines)
    assert (
        "skipped: no value for IvrCertificate, IvrEncryptionKeyId, QueueArn (parameter IvrCertificateFile, "
        "parameter IvrEncryptionKeyId, parameter FlowQueueArn)"
    ) in text


def test_a_queue_id_is_completed_to_the_instances_queue_arn():
    assert stage(FlowQueueArn="q-1").flow_queue_arn == EXAMPLE["ConnectInstanceArn"] + "/queue/q-1"


def test_a_certificate_file_that_is_not_a_certificate_is_refused(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(FlowDeployError, match="not a PEM certificate"):
        FlowDeployment(stage(IvrCertificateFile=str(key)), None).values()


def test_destroy_deletes_only_the_flows_of_this_stage(tmp_path):
    target, aws = stage(), StubbedAws()
    expect_list(
        aws,
        [
            {"Id": "id-s", "Name": "connect-guard-prod-secure-ivr"},
            {"Id": "id-d", "Name": "connect-guard-dev-secure-ivr"},
            {"Id": "id-x", "Name": "Default customer queue"},
        ],
    )
    aws.stub.add_response("delete_contact_flow", {}, {"InstanceId": INSTANCE, "ContactFlowId": "id-s"})
    with aws.stub:
        FlowDeployment(target, aws, printer=lambda _: None, project_dir=tmp_path).destroy()
    aws.stub.assert_no_pending_responses()


def test_the_switch_is_read_from_the_stage_environment(tmp_path):
    assert stage_settings(stage(), config_dir(tmp_path, {"MESSENGER_USE_PROCESSOR": "on"})) == {
        "MESSENGER_USE_PROCESSOR": True
    }
    assert stage_settings(stage(), tmp_path / "nowhere") == {"MESSENGER_USE_PROCESSOR": False}


def test_dry_run_prints_every_deployable_flow_with_every_placeholder_filled(monkeypatch, tmp_path):
    lines = dry_run_deploy_lines(monkeypatch, tmp_path)
    text = "\n".join(lines)
    creates = [line for line in lines if line.startswith("aws connect create-contact-flow")]
    assert len(creates) == len(deployable(stage()))
    assert not PLACEHOLDER.search(text)
    certificate = (PROJECT_DIR / EXAMPLE["IvrCertificateFile"]).read_text()
    assert json.dumps(certificate)[1:-1] in text  # inside the content, as a JSON string
    assert (
        '"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:connect-guard-prod-ivr_decryptor"' in text
    )


def test_dry_run_destroy_deletes_the_flows_first():
    target = stage()
    aws = DryRunAws(target, printer=lambda _: None, deployed=True)
    from infra.deploy import Deployment

    Deployment(target, aws, printer=lambda _: None).destroy()
    mutations = [o for _, o, _ in aws.calls if o.startswith(("delete", "disassociate"))]
    assert mutations[:3] == ["delete_contact_flow"] * 3


def test_every_rendered_flow_passes_the_checks_with_the_real_decryptor_arn():
    target = stage()
    for flow_file in deployable(target):
        flow = json.loads(rendered(target, flow_file.key))
        assert flow_checks.problems(flow, [target.function_arn("ivr_decryptor")], flow_file.key, {}) == []


def test_a_hand_edited_flow_is_put_back(tmp_path):
    """Someone changed a prompt in the console: the next deploy restores the file's content."""
    target, aws = stage(), StubbedAws()
    flow_file = load("secure-ivr")
    edited = rendered(target, "secure-ivr").replace("once more", "again")
    key = {"InstanceId": INSTANCE, "ContactFlowId": "id-s"}
    expect_list(aws, [{"Id": "id-s", "Name": flow_name(target, flow_file)}])
    aws.stub.add_response("describe_contact_flow", {"ContactFlow": {"Status": "PUBLISHED", "Content": edited}}, key)
    aws.stub.add_response("update_contact_flow_content", {}, {**key, "Content": rendered(target, "secure-ivr")})
    aws.stub.add_response(
        "describe_contact_flow",
        {"ContactFlow": {"Status": "PUBLISHED", "Content": rendered(target, "secure-ivr")}},
        key,
    )
    expect_lambdas(aws, [target.function_arn("ivr_decryptor")])
    with aws.stub:
        FlowDeployment(
            target, aws, printer=lambda _: None, project_dir=config_dir(tmp_path), flows=[flow_file]
        ).deploy()
    aws.stub.assert_no_pending_responses()


def test_render_writes_importable_files_that_pass_the_command_line_check(tmp_path, capsys):
    from infra import flow_deploy

    assert flow_deploy.main(["render", "--stage", "prod", "--out", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("*.json"))
    assert [f.name for f in files] == sorted(f"{flow_name(stage(), f)}.json" for f in deployable(stage()))
    for path in files:
        assert not PLACEHOLDER.search(path.read_text())
        assert "ConnectGuard" not in json.loads(path.read_text())["Metadata"]
    capsys.readouterr()
    assert flow_checks.main([str(f) for f in files]) == 0
    assert capsys.readouterr().out.count(": ok") == len(files)

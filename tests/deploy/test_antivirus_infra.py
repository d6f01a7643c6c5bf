"""The antivirus engines in infra/template.yaml and how the deploy tool wires the scanner to them
(docs/scanner.md#engines): clamd on ECS Fargate in its own VPC, or a GuardDuty Malware Protection plan."""

from __future__ import annotations

import json

import pytest

from infra import chalice_config, policies
from infra.stage import TEMPLATE_PATH


@pytest.fixture(scope="module")
def template():
    from cfnlint.decode import decode

    parsed, problems = decode(str(TEMPLATE_PATH))
    assert not problems
    return parsed


def test_every_engine_resource_exists_only_for_its_engine(template):
    conditions = {name: body.get("Condition") for name, body in template["Resources"].items()}
    assert (
        conditions["ClamdService"] == conditions["ClamavMirrorBucket"] == conditions["S3GatewayEndpoint"] == "UseClamav"
    )
    assert conditions["GuardDutyMalwareProtectionPlan"] == "UseGuardDuty"
    assert template["Parameters"]["AntivirusEngine"]["AllowedValues"] == ["off", "clamav", "guardduty"]


def test_clamd_is_warm_big_enough_and_never_reports_oversized_or_encrypted_files_clean(template):
    task = template["Resources"]["ClamdTaskDefinition"]["Properties"]
    assert task["Memory"] == "4096" and task["RequiresCompatibilities"] == ["FARGATE"]
    script = task["ContainerDefinitions"][0]["Command"][0]["Fn::Sub"]
    for option in (
        "StreamMaxLength 105M",
        "MaxFileSize 105M",
        "AlertExceedsMax yes",
        "AlertEncrypted yes",
        "PrivateMirror https://",
        "DNSDatabaseInfo no",
    ):
        assert option in script
    ingress = template["Resources"]["ClamdSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [(rule["FromPort"], "SourceSecurityGroupId" in rule) for rule in ingress] == [(3310, True)]


def test_the_guardduty_plan_tags_objects_under_the_attachments_prefix(template):
    plan = template["Resources"]["GuardDutyMalwareProtectionPlan"]["Properties"]
    assert plan["Actions"] == {"Tagging": {"Status": "ENABLED"}}
    assert plan["ProtectedResource"]["S3Bucket"]["ObjectPrefixes"] == [{"Ref": "AttachmentsPrefix"}]


CLAMAV_OUTPUTS = {
    "ScanAntivirus": "clamav",
    "ScanClamavAddress": "clamd.connect-guard-prod.internal:3310",
    "ScannerSubnetIds": "subnet-a,subnet-b",
    "ScannerSecurityGroupId": "sg-1",
}


def test_the_deploy_tool_puts_the_scanner_beside_clamd():
    config = chalice_config.updated_config({"stages": {}}, "prod", {**_base_outputs(), **CLAMAV_OUTPUTS})
    scanner = config["stages"]["prod"]["lambda_functions"]["attachment_scanner"]
    assert scanner["environment_variables"] == {
        "SCAN_ANTIVIRUS": "clamav",
        "SCAN_CLAMAV_ADDRESS": "clamd.connect-guard-prod.internal:3310",
    }
    assert scanner["subnet_ids"] == ["subnet-a", "subnet-b"] and scanner["security_group_ids"] == ["sg-1"]
    switched = chalice_config.updated_config(config, "prod", {**_base_outputs(), "ScanAntivirus": "guardduty"})
    scanner = switched["stages"]["prod"]["lambda_functions"]["attachment_scanner"]
    assert scanner["environment_variables"] == {"SCAN_ANTIVIRUS": "guardduty"}
    assert "subnet_ids" not in scanner and "security_group_ids" not in scanner


@pytest.mark.parametrize(
    "engine, granted",
    [
        ("off", set()),
        ("clamav", {"NetworkInterfacesInClamdVpc"}),
        ("guardduty", {"ReadGuardDutyScanTag"}),
    ],
)
def test_the_scanner_policy_grants_only_what_its_engine_needs(engine, granted):
    template = policies.load_template("attachment_scanner")
    values = {
        "LogGroupArn": "arn:aws:logs:us-east-1:1:log-group:x",
        "AttachmentsObjectsArn": "arn:aws:s3:::b/p/*",
        "AttachmentsKmsKeyArn": "",
        "Region": "us-east-1",
    }
    rendered = policies.render(template, values, {"SCAN_ANTIVIRUS": engine})
    sids = {statement["Sid"] for statement in rendered["Statement"]}
    assert sids & {"NetworkInterfacesInClamdVpc", "ReadGuardDutyScanTag"} == granted
    json.dumps(rendered)


def _base_outputs() -> dict[str, str]:
    return {output: f"value-{output}" for output in chalice_config.ENVIRONMENT_FROM_OUTPUTS.values()}


def test_the_scanner_follows_the_instances_attachment_configuration():
    configurations = [
        {
            "AttachmentScope": "CHAT",
            "MaximumSizeLimitInBytes": 52428800,
            "ExtensionConfiguration": {
                "AllowedExtensions": [{"Extension": "pdf"}, {"Extension": "PNG"}, {"Extension": "zip"}]
            },
        },
        {
            "AttachmentScope": "EMAIL",
            "MaximumSizeLimitInBytes": 20971520,
            "ExtensionConfiguration": {"AllowedExtensions": [{"Extension": "docx"}]},
        },
        {
            "AttachmentScope": "TASK",
            "MaximumSizeLimitInBytes": 104857600,
            "ExtensionConfiguration": {"AllowedExtensions": [{"Extension": "mov"}]},
        },  # FILE_SCANNER does not see tasks
    ]
    limits = chalice_config.attachment_limits(configurations)
    assert limits == {
        "ScanAllowedExtensions": "docx,pdf,png",
        "_uninspectable": "zip",
        "ScanMaxBytes": "52428800",
        "AttachmentAllowedExtensions": "pdf,png",  # the chat scope, for the Messenger relay
        "AttachmentMaxBytes": "52428800",
    }
    config = chalice_config.updated_config({"stages": {}}, "prod", {**_base_outputs(), **limits})
    environment = config["stages"]["prod"]["lambda_functions"]["attachment_scanner"]["environment_variables"]
    assert environment["SCAN_ALLOWED_EXTENSIONS"] == "docx,pdf,png" and environment["SCAN_MAX_BYTES"] == "52428800"
    assert chalice_config.attachment_limits([]) == {}


def test_the_messenger_relay_follows_the_chat_scope():
    """One place sets the limits: a chat scope lowered to 5 MB is refused by the relay before downloading."""
    chat = {
        "AttachmentScope": "CHAT",
        "MaximumSizeLimitInBytes": 5242880,
        "ExtensionConfiguration": {"AllowedExtensions": [{"Extension": ".JPG"}, {"Extension": "pdf"}]},
    }
    email = {"AttachmentScope": "EMAIL", "MaximumSizeLimitInBytes": 20971520}
    limits = chalice_config.attachment_limits([chat, email])
    config = chalice_config.updated_config({"stages": {}}, "prod", {**_base_outputs(), **limits})
    environment = config["stages"]["prod"]["environment_variables"]
    assert (
        environment["ATTACHMENT_MAX_BYTES"] == "5242880" and environment["ATTACHMENT_ALLOWED_EXTENSIONS"] == "jpg,pdf"
    )
    assert limits["ScanMaxBytes"] == "20971520"  # the scanner takes the largest of the scanned scopes

    from chalicelib.settings import MessagingSettings, _Reader
    from tests.support import LOCAL_STAGE

    relay_environment = {name: environment[name] for name in ("ATTACHMENT_MAX_BYTES", "ATTACHMENT_ALLOWED_EXTENSIONS")}
    relay = MessagingSettings.parse(_Reader({**LOCAL_STAGE, **relay_environment}))
    assert relay.attachment_max_bytes == 5242880 and relay.attachment_allowed_extensions == {"jpg", "pdf"}
    unset = chalice_config.updated_config({"stages": {}}, "prod", _base_outputs())
    assert "ATTACHMENT_MAX_BYTES" not in unset["stages"]["prod"]["environment_variables"]  # Connect's defaults

"""What one deployment is: the stage's parameters and every name and ARN derived from them.

Names follow Chalice (`<app>-<stage>` for the API function, `<app>-<stage>-<name>` for the others) and
the template (`<app>-<stage>-sessions`, ...), so a dry run can predict every ARN without credentials,
and a test checks the prediction against the stack moto's CloudFormation builds from the template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parent
PROJECT_DIR = INFRA_DIR.parent
TEMPLATE_PATH = INFRA_DIR / "template.yaml"
EXAMPLE_PARAMS_PATH = INFRA_DIR / "params.example.json"

FUNCTIONS = ("api_handler", "connect_stream_handler", "attachment_scanner", "ivr_decryptor", "message_processor")
STAGES = ("dev", "prod")

REQUIRED_PARAMS = ("ConnectInstanceArn", "ConnectContactFlowId", "AttachmentsBucketName", "MessengerSecretArn")
OPTIONAL_PARAMS = {
    "AttachmentsPrefix": "connect",
    "AttachmentsKmsKeyArn": "",
    "IvrKeysPath": "",  # default: /<app>/<stage>/ivr-keys/
    "IvrKeysKmsKeyArn": "",
    "AlarmTopicArn": "",
    "LogRetentionDays": "30",
    "ScannerRejectionRatePercent": "50",
    # The scanner's antivirus (docs/scanner.md#engines): off | clamav | guardduty, and clamd's service.
    "AntivirusEngine": "off",
    "ClamavImage": "clamav/clamav:1.4_base",
    "ClamdTaskCount": "2",
    "ScannerVpcCidr": "10.42.0.0/16",
    # Chat transcripts (message processor): Connect keeps the unprocessed original of every processed message
    # under an `Unprocessed` prefix. Set the bucket to have `make deploy` protect it; each protection is optional.
    "TranscriptsBucketName": "",
    "TranscriptsPrefix": "",  # the instance's chat transcripts prefix, e.g. connect/<alias>/ChatTranscripts
    "UnprocessedExpiryDays": "",  # a lifecycle rule deletes unprocessed originals after this many days
    "UnprocessedReaderRoleArn": "",  # a bucket policy denies reading them to every principal but this role
}
# Used by the deploy tool itself (S3 calls), not by the infra stack's template.
DEPLOY_ONLY_PARAMS = frozenset(
    {"TranscriptsBucketName", "TranscriptsPrefix", "UnprocessedExpiryDays", "UnprocessedReaderRoleArn"}
)
# Parameters of the contact flows (infra/flow_deploy.py), never passed to the infra stack's template.
FLOW_PARAMS = {
    "FlowQueueArn": "",  # queue the flows transfer to: its ARN, or its id in the instance
    "IvrEncryptionKeyId": "",  # Connect key id of the uploaded public key (secure-ivr)
    "IvrCertificateFile": "",  # certificate PEM of that key, a path relative to the project (secure-ivr)
}
_INSTANCE_ARN = re.compile(r"^arn:(aws[a-z-]*):connect:([a-z0-9-]+):(\d{12}):instance/([0-9a-f-]{36})$")


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$")


class StageError(ValueError):
    """The stage's parameters are missing or malformed."""


def params_path(stage: str) -> Path:
    return INFRA_DIR / f"params-{stage}.json"


def app_name() -> str:
    return json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["app_name"]


@dataclass(frozen=True)
class Stage:
    """One stage of the app in one account and Region, from `infra/params-<stage>.json`."""

    app: str
    name: str
    params: dict[str, str]

    @classmethod
    def load(cls, stage: str, path: Path, app: str | None = None) -> Stage:
        if stage not in STAGES:
            raise StageError(f"STAGE must be one of {', '.join(STAGES)} (the local stage is never deployed)")
        try:
            given = json.loads(path.read_text())
        except FileNotFoundError:
            raise StageError(f"{path} not found: copy {EXAMPLE_PARAMS_PATH.name} to it and fill it in") from None
        except json.JSONDecodeError as exc:
            raise StageError(f"{path} is not valid JSON (line {exc.lineno})") from None
        return cls.from_params(stage, given, app or app_name())

    @classmethod
    def from_params(cls, stage: str, given: dict, app: str) -> Stage:
        unknown = sorted(set(given) - set(REQUIRED_PARAMS) - set(OPTIONAL_PARAMS) - set(FLOW_PARAMS))
        if unknown:
            raise StageError(f"unknown parameter(s): {', '.join(unknown)}")
        missing = [name for name in REQUIRED_PARAMS if not str(given.get(name, "")).strip()]
        if missing:
            raise StageError(f"missing parameter(s): {', '.join(missing)}")
        params = {**OPTIONAL_PARAMS, **FLOW_PARAMS, **{k: str(v).strip() for k, v in given.items()}}
        if not _INSTANCE_ARN.match(params["ConnectInstanceArn"]):
            raise StageError("ConnectInstanceArn must look like arn:aws:connect:<region>:<account>:instance/<id>")
        params["AttachmentsPrefix"] = params["AttachmentsPrefix"].strip("/")
        params["TranscriptsPrefix"] = params["TranscriptsPrefix"].strip("/")
        if params["UnprocessedExpiryDays"] and not (
            params["UnprocessedExpiryDays"].isdigit() and 1 <= int(params["UnprocessedExpiryDays"]) <= 3650
        ):
            raise StageError("UnprocessedExpiryDays must be a number of days between 1 and 3650")
        protects = params["UnprocessedExpiryDays"] or params["UnprocessedReaderRoleArn"]
        if protects and not (params["TranscriptsBucketName"] and params["TranscriptsPrefix"]):
            raise StageError(
                "UnprocessedExpiryDays and UnprocessedReaderRoleArn need TranscriptsBucketName and TranscriptsPrefix"
            )
        if params["UnprocessedReaderRoleArn"] and not _ROLE_ARN.match(params["UnprocessedReaderRoleArn"]):
            raise StageError("UnprocessedReaderRoleArn must look like arn:aws:iam::<account>:role/<name>")
        params["IvrKeysPath"] = params["IvrKeysPath"] or f"/{app}/{stage}/ivr-keys/"
        if not params["IvrKeysPath"].endswith("/"):
            params["IvrKeysPath"] += "/"
        return cls(app=app, name=stage, params=params)

    # -------------------------------------------------------------------- where

    @property
    def _instance(self) -> re.Match[str]:
        match = _INSTANCE_ARN.match(self.params["ConnectInstanceArn"])
        if match is None:  # load() checked it: only a Stage built around load() gets here
            raise StageError("ConnectInstanceArn must look like arn:aws:connect:<region>:<account>:instance/<id>")
        return match

    @property
    def partition(self) -> str:
        return self._instance.group(1)

    @property
    def region(self) -> str:
        return self._instance.group(2)

    @property
    def account(self) -> str:
        return self._instance.group(3)

    @property
    def instance_id(self) -> str:
        return self._instance.group(4)

    @property
    def instance_arn(self) -> str:
        return self.params["ConnectInstanceArn"]

    @property
    def stack_name(self) -> str:
        return f"{self.app}-{self.name}-infra"

    def template_parameters(self) -> list[dict[str, str]]:
        values = {
            "AppName": self.app,
            "Stage": self.name,
            **{k: v for k, v in self.params.items() if k not in FLOW_PARAMS and k not in DEPLOY_ONLY_PARAMS},
        }
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())]

    @property
    def flow_queue_arn(self) -> str:
        """`FlowQueueArn` as an ARN (a bare queue id is completed with the instance's ARN); empty if unset."""
        queue = self.params.get("FlowQueueArn", "")
        return queue if not queue or queue.startswith("arn:") else f"{self.instance_arn}/queue/{queue}"

    # -------------------------------------------------------------------- Chalice's names

    def function_name(self, function: str) -> str:
        return f"{self.app}-{self.name}" if function == "api_handler" else f"{self.app}-{self.name}-{function}"

    def function_arn(self, function: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.function_name(function)}"

    @property
    def unprocessed_transcripts_prefix(self) -> str | None:
        """Where Connect writes unprocessed originals: the transcripts prefix's last segment, `Unprocessed` first
        (connect/<alias>/ChatTranscripts -> connect/<alias>/UnprocessedChatTranscripts)."""
        prefix = self.params["TranscriptsPrefix"]
        if not prefix:
            return None
        head, _, last = prefix.rpartition("/")
        return f"{head}/Unprocessed{last}" if head else f"Unprocessed{last}"

    def log_group_arn(self, function: str) -> str:
        return (
            f"arn:{self.partition}:logs:{self.region}:{self.account}"
            f":log-group:/aws/lambda/{self.function_name(function)}"
        )

    # -------------------------------------------------------------------- the stack's outputs, predicted

    def predicted_outputs(self) -> dict[str, str]:
        """What the template outputs for these parameters (dry runs use this; a test holds it to the template)."""
        arn = f"arn:{self.partition}"
        prefix = f"{self.app}-{self.name}"
        return {
            "ConnectInstanceId": self.instance_id,
            "ConnectContactFlowId": self.params["ConnectContactFlowId"],
            "StreamingTopicArn": f"{arn}:sns:{self.region}:{self.account}:{prefix}-chat-stream",
            "SessionsTableName": f"{prefix}-sessions",
            "MessengerSecretArn": self.params["MessengerSecretArn"],
            "IvrKeysPath": self.params["IvrKeysPath"],
            "ConnectInstanceArn": self.instance_arn,
            "SessionsTableArn": f"{arn}:dynamodb:{self.region}:{self.account}:table/{prefix}-sessions",
            "DeadLetterQueueArn": f"{arn}:sqs:{self.region}:{self.account}:{prefix}-dlq",
            "DeadLetterQueueUrl": f"https://sqs.{self.region}.amazonaws.com/{self.account}/{prefix}-dlq",
            "DeadLetterQueueKeyAlias": f"alias/{prefix}-dlq",
            "AttachmentsObjectsArn": f"{arn}:s3:::{self.params['AttachmentsBucketName']}/{self.params['AttachmentsPrefix']}/*",
            "AttachmentsKmsKeyArn": self.params["AttachmentsKmsKeyArn"],
            "IvrKeysKmsKeyArn": self.params["IvrKeysKmsKeyArn"],
            **self._predicted_antivirus(prefix),
        }

    def _predicted_antivirus(self, prefix: str) -> dict[str, str]:
        """The antivirus outputs: the VPC's subnet and group ids exist only once created (dry runs show placeholders)."""
        engine = self.params.get("AntivirusEngine", "off") or "off"
        clamav = engine == "clamav"
        return {
            "ScanAntivirus": engine,
            "ScanClamavAddress": f"clamd.{prefix}.internal:3310" if clamav else "",
            "ScannerSubnetIds": "subnet-scanner-a,subnet-scanner-b" if clamav else "",
            "ScannerSecurityGroupId": "sg-scanner" if clamav else "",
        }

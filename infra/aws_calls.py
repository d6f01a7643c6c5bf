"""The AWS calls and commands a deployment makes: really (boto3, subprocess) or as a dry run.

Both print every call as the equivalent AWS CLI command line, so `make deploy DRY_RUN=1` doubles as
a runbook. The dry run needs no credentials: it answers with what a fresh account would (no stack
yet, nothing associated), using the names and ARNs `Stage` predicts.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

from infra.flow_deploy import FlowDryRunAnswers
from infra.stage import TEMPLATE_PATH, Stage

Printer = Callable[[str], None]


def cli_line(service: str, operation: str, params: dict[str, Any]) -> str:
    """`aws connect list-lambda-functions --instance-id ...` for a boto3 call."""
    words = ["aws", service, operation.replace("_", "-")]
    for name, value in params.items():
        words.append("--" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower())
        if name == "TemplateBody":
            words.append(f"file://{TEMPLATE_PATH.relative_to(TEMPLATE_PATH.parents[1])}")
        else:
            words.append(shlex.quote(value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))))
    return " ".join(words)


def not_found(operation: str, code: str = "ResourceNotFoundException", message: str = "not found") -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class RealAws:
    """Calls AWS with the caller's credentials, in the instance's Region."""

    dry_run = False

    def __init__(self, stage: Stage, printer: Printer = print):
        import boto3

        self._session = boto3.session.Session(region_name=stage.region)
        self._clients: dict[str, Any] = {}
        self._print = printer

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        self._print(cli_line(service, operation, params))
        return getattr(self._client(service), operation)(**params)

    def wait(self, service: str, waiter: str, **params: Any) -> None:
        self._print(cli_line(service, "wait " + waiter.replace("_", "-"), params))
        self._client(service).get_waiter(waiter).wait(**params, WaiterConfig={"Delay": 10, "MaxAttempts": 180})

    def run(self, argv: Sequence[str], env: dict[str, str], cwd: str, capture: bool = False) -> str:
        """Runs a command; its output streams to the terminal unless captured for the caller."""
        self._print("$ " + shlex.join(argv))
        done = subprocess.run(
            list(argv), env=env, cwd=cwd, check=True, text=True, stdout=subprocess.PIPE if capture else None
        )
        return done.stdout or ""

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]


class DryRunAws(FlowDryRunAnswers):
    """Prints the calls and touches nothing. Answers like a fresh account would, or (for a destroy
    rehearsal, `deployed=True`) like one where everything is in place."""

    dry_run = True

    def __init__(self, stage: Stage, printer: Printer = print, deployed: bool = False):
        self._stage = stage
        self._print = printer
        self._deployed = deployed
        self._stack_created = deployed
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        self._print(cli_line(service, operation, params))
        self.calls.append((service, operation, params))
        answer = getattr(self, f"_{service}_{operation}", None)
        return answer(params) if answer else {}

    def wait(self, service: str, waiter: str, **params: Any) -> None:
        self._print(cli_line(service, "wait " + waiter.replace("_", "-"), params))
        self.calls.append((service, "wait:" + waiter, params))

    def run(self, argv: Sequence[str], env: dict[str, str], cwd: str, capture: bool = False) -> str:
        self._print("$ " + shlex.join(argv))
        self.calls.append(("command", " ".join(argv[1:3]), {}))
        if argv[1:2] == ["url"]:
            return f"https://<rest-api-id>.execute-api.{self._stage.region}.amazonaws.com/api/\n"
        return ""

    # ---------------------------------------------------------------- canned answers of a fresh account

    def _cloudformation_describe_stacks(self, params):
        if not self._stack_created:
            raise not_found("DescribeStacks", "ValidationError", f"Stack with id {params['StackName']} does not exist")
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self._stage.predicted_outputs().items()]
        return {"Stacks": [{"StackStatus": "CREATE_COMPLETE", "Outputs": outputs}]}

    def _cloudformation_create_stack(self, params):
        self._stack_created = True
        return {"StackId": "<stack-id>"}

    def _sns_list_subscriptions_by_topic(self, params):
        endpoint = self._stage.function_arn("connect_stream_handler")
        return {
            "Subscriptions": [
                {
                    "SubscriptionArn": params["TopicArn"] + ":<created-by-chalice>",
                    "Protocol": "lambda",
                    "Endpoint": endpoint,
                }
            ]
        }

    def _lambda_get_policy(self, params):
        raise not_found("GetPolicy")

    def _connect_list_lambda_functions(self, params):
        associated = [p["FunctionArn"] for s, o, p in self.calls if o == "associate_lambda_function"]
        return {"LambdaFunctions": ([self._stage.function_arn("ivr_decryptor")] if self._deployed else []) + associated}

    def _connect_list_integration_associations(self, params):
        if not self._deployed:
            return {"IntegrationAssociationSummaryList": []}
        kind = params.get("IntegrationType", "FILE_SCANNER")
        function = {"FILE_SCANNER": "attachment_scanner", "MESSAGE_PROCESSOR": "message_processor"}.get(kind)
        if function is None:
            return {"IntegrationAssociationSummaryList": []}
        return {
            "IntegrationAssociationSummaryList": [
                {
                    "IntegrationAssociationId": f"<{function}-association-id>",
                    "IntegrationType": kind,
                    "IntegrationArn": self._stage.function_arn(function),
                }
            ]
        }

    def _s3_get_bucket_lifecycle_configuration(self, params):
        raise not_found(
            "GetBucketLifecycleConfiguration", "NoSuchLifecycleConfiguration", "NoSuchLifecycleConfiguration"
        )

    def _s3_get_bucket_policy(self, params):
        raise not_found("GetBucketPolicy", "NoSuchBucketPolicy", "NoSuchBucketPolicy")

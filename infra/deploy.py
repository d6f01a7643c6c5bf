"""`make deploy STAGE=prod` / `make destroy STAGE=prod`: the whole deployment, one idempotent step at a time.

    python -m infra.deploy deploy --stage prod [--dry-run] [--params infra/params-prod.json]

deploy:  infra stack (create or update) -> stage env + policy files in .chalice/
         -> `chalice package` builds the app and dependency zips, bytecode goes into them -> `chalice deploy`
         -> SNS filter + redrive on the stream subscription -> async failures to the DLQ
         -> Connect: decryptor associated, FILE_SCANNER and MESSAGE_PROCESSOR associations, invoke permissions
            scoped to the instance -> (parameters) the transcripts' `Unprocessed` prefix expired and locked down
         -> contact flows of infra/flows/ created or updated, published, their Lambdas associated
         -> prints the webhook URL and what to do in the Messenger and Connect consoles.
destroy: the same, undone in reverse order (the flows first).

Every step first looks at what exists, so re-running after a failure (or on a deployed stage) is safe.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra import bytecode, chalice_config, policies
from infra.aws_calls import DryRunAws, RealAws
from infra.flow_deploy import FlowDeployError, FlowDeployment
from infra.paging import connect_lambda_functions, each_item
from infra.stage import EXAMPLE_PARAMS_PATH, FUNCTIONS, PROJECT_DIR, TEMPLATE_PATH, Stage, StageError, params_path

# Saves invocations for chat items only the agent sees (docs/reference/connect-chat.md). It must never drop what the
# handler acts on, and the handler applies the same rule itself: so the end of a chat passes whatever its
# visibility, and so does an item Connect sent without a visibility (a filter would otherwise drop it).
CHAT_ENDED = "application/vnd.amazonaws.connect.event.chat.ended"
PARTICIPANT_LEFT = "application/vnd.amazonaws.connect.event.participant.left"
STREAM_FILTER_POLICY = {
    "$or": [
        {"MessageVisibility": ["CUSTOMER", "ALL"]},
        {"MessageVisibility": [{"exists": False}]},
        {"ContentType": [CHAT_ENDED, PARTICIPANT_LEFT]},
    ]
}
PERMISSION_SID = "connect-guard-connect-instance"
UNPROCESSED_RULE_ID = "connect-guard-unprocessed-transcripts"
UNPROCESSED_POLICY_SID = "ConnectGuardUnprocessedTranscriptsReader"
WEBHOOK_PATH = "webhook/messenger"


class DeployError(RuntimeError):
    """A step cannot continue; the message says what to fix."""


class Deployment:
    def __init__(self, stage: Stage, aws: Any, printer: Callable[[str], None] = print, project_dir: Path = PROJECT_DIR):
        self.stage = stage
        self.aws = aws
        self.say = printer
        self.project_dir = project_dir

    # ======================================================================== deploy

    def deploy(self) -> None:
        outputs = self.ensure_stack()
        self.write_chalice_files(outputs)
        packaged = self.build_packages()
        self.chalice("deploy")
        self.check_packages_reused(packaged)
        self.filter_stream_subscription(outputs)
        self.route_async_failures(outputs)
        self.allow_connect_to_invoke("ivr_decryptor")
        self.associate_decryptor()
        self.allow_connect_to_invoke("attachment_scanner")
        self.associate_scanner()
        self.allow_connect_to_invoke("message_processor")
        self.associate_processor()
        self.protect_unprocessed_transcripts()
        self.deploy_flows()
        self.print_next_steps(outputs)

    def ensure_stack(self) -> dict[str, str]:
        self.step("Infrastructure stack " + self.stage.stack_name)
        name = self.stage.stack_name
        request = {
            "StackName": name,
            "TemplateBody": TEMPLATE_PATH.read_text(),
            "Parameters": self.stage.template_parameters(),
            "Tags": [{"Key": "app", "Value": self.stage.app}, {"Key": "stage", "Value": self.stage.name}],
        }
        status = self.stack_status()
        if status is None:
            self.aws.call("cloudformation", "create_stack", **request)
            self.aws.wait("cloudformation", "stack_create_complete", StackName=name)
        elif status.endswith("_IN_PROGRESS") or status == "ROLLBACK_COMPLETE":
            raise DeployError(f"stack {name} is {status}: wait for it, or `make destroy` a failed first creation")
        else:
            try:
                self.aws.call("cloudformation", "update_stack", **request)
            except Exception as exc:  # CloudFormation reports "nothing to do" as a ValidationError
                if "No updates are to be performed" not in str(exc):
                    raise
                self.say("  (no changes)")
            else:
                self.aws.wait("cloudformation", "stack_update_complete", StackName=name)
        stack = self.aws.call("cloudformation", "describe_stacks", StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def stack_status(self) -> str | None:
        try:
            stacks = self.aws.call("cloudformation", "describe_stacks", StackName=self.stage.stack_name)["Stacks"]
        except Exception as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return stacks[0]["StackStatus"] if stacks else None

    def write_chalice_files(self, outputs: dict[str, str]) -> None:
        self.step(f"Stage {self.stage.name}: environment and IAM policies in .chalice/")
        outputs = {**outputs, **self.attachment_limits()}
        environment = chalice_config.stage_environment(outputs)
        if self.aws.dry_run:
            for variable, value in environment.items():
                self.say(f"  would set {variable}={value}")
            for function in FUNCTIONS:
                self.say(f"  would write .chalice/{policies.policy_file_name(self.stage.name, function)}")
            return
        chalice_config.write(self.stage.name, outputs, self.project_dir)
        for path in policies.write_all(self.stage, outputs, self.project_dir):
            self.say(f"  wrote {path.relative_to(self.project_dir)}")

    def attachment_limits(self) -> dict[str, str]:
        """The scanner and the Messenger relay follow the instance's attachment configuration
        (docs/reference/file-scanner.md#configuration; `chalice_config.attachment_limits`). Unreadable (older API,
        no permission): Connect's defaults, said so."""
        try:
            answer = self.aws.call("connect", "list_attached_files_configurations", InstanceId=self.stage.instance_id)
        except Exception as exc:
            self.say(
                f"  attachment configuration not readable ({type(exc).__name__}): the scanner keeps Connect's defaults"
            )
            return {}
        limits = chalice_config.attachment_limits(answer.get("AttachedFilesConfigurations", []))
        for extension in limits.pop("_uninspectable", "").split(","):
            if extension:
                self.say(
                    f"  .{extension} is allowed on the instance but the scanner cannot inspect it: it will be REJECTED"
                )
        return limits

    def build_packages(self) -> set[str]:
        """`chalice package` builds the two zips `chalice deploy` then reuses from .chalice/deployments (the app and
        the dependency layer, each named by a hash of its sources); bytecode goes into them in between, so that cold
        starts do not compile what they import (infra/bytecode.py). Returns the cache's zips after that."""
        cache = self.project_dir / ".chalice" / "deployments"
        out = cache / f"package-{self.stage.name}"  # chalice package's copies of the two, to find them in the cache
        shutil.rmtree(out, ignore_errors=True)
        self.chalice("package", os.path.relpath(out, self.project_dir))
        self.step("Bytecode into the deployment packages (.chalice/deployments)")
        if self.aws.dry_run:
            self.say("  would compile every module of the two zips chalice package built")
            return set()
        try:
            for package in _originals_in(cache, sorted(out.glob("*.zip"))):
                if bytecode.has_bytecode(package):
                    self.say(f"  {package.name}: has bytecode")
                    continue
                compiled, left = bytecode.add_bytecode(package)
                self.say(
                    f"  {package.name}: {compiled} modules compiled" + (f", {left} left as source" if left else "")
                )
        except Exception as exc:  # an optimisation only: the zips are intact (add_bytecode is atomic)
            self.say(
                f"  warning: no bytecode added ({type(exc).__name__}); deploying sources, cold starts compile them"
            )
        finally:
            shutil.rmtree(out, ignore_errors=True)
        return {package.name for package in cache.glob("*.zip")}

    def check_packages_reused(self, packaged: set[str]) -> None:
        """Chalice names its zips by a hash of their sources: a zip `chalice deploy` had to build itself (a source
        changed in between) went up without bytecode. Still a correct deploy; the next one adds it."""
        if self.aws.dry_run:
            return
        built = {package.name for package in (self.project_dir / ".chalice" / "deployments").glob("*.zip")} - packaged
        for name in sorted(built):
            self.say(f"  warning: chalice deploy built {name} itself: deployed without bytecode (make deploy adds it)")

    def chalice(self, command: str, *arguments: str, capture: bool = False) -> str:
        self.step(f"chalice {command} --stage {self.stage.name}")
        # The chalice installed beside this Python, relative to the project (where it runs) for readable output.
        executable = os.path.relpath(Path(sys.executable).with_name("chalice"), self.project_dir)
        # No __pycache__ written while chalice loads the app: the app zip's name hashes chalicelib's files, so
        # `chalice deploy` must find them as `chalice package` did to reuse the zip that holds our bytecode.
        env = {**os.environ, "AWS_DEFAULT_REGION": self.stage.region, "PYTHONDONTWRITEBYTECODE": "1"}
        return self.aws.run(
            [executable, command, "--stage", self.stage.name, *arguments],
            env=env,
            cwd=str(self.project_dir),
            capture=capture,
        )

    def filter_stream_subscription(self, outputs: dict[str, str]) -> None:
        """Chalice subscribes the stream handler but cannot set a filter or a redrive policy."""
        self.step("Stream subscription: visibility filter and dead-letter queue")
        subscription = self.stream_subscription(outputs["StreamingTopicArn"])
        if subscription is None:
            raise DeployError(
                "connect_stream_handler is not subscribed to the streaming topic: did chalice deploy run?"
            )
        for name, value in (
            ("FilterPolicy", STREAM_FILTER_POLICY),
            ("RedrivePolicy", {"deadLetterTargetArn": outputs["DeadLetterQueueArn"]}),
        ):
            self.aws.call(
                "sns",
                "set_subscription_attributes",
                SubscriptionArn=subscription,
                AttributeName=name,
                AttributeValue=json.dumps(value, separators=(",", ":")),
            )

    def stream_subscription(self, topic_arn: str) -> str | None:
        endpoint = self.stage.function_arn("connect_stream_handler")
        for subscription in each_item(
            self.aws, "sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic_arn
        ):
            if subscription.get("Endpoint") == endpoint and subscription.get("Protocol") == "lambda":
                return subscription["SubscriptionArn"]
        return None

    def route_async_failures(self, outputs: dict[str, str]) -> None:
        self.step("connect_stream_handler: failed events to the dead-letter queue")
        self.aws.call(
            "lambda",
            "put_function_event_invoke_config",
            FunctionName=self.stage.function_name("connect_stream_handler"),
            MaximumRetryAttempts=2,
            MaximumEventAgeInSeconds=3600,
            DestinationConfig={"OnFailure": {"Destination": outputs["DeadLetterQueueArn"]}},
        )

    def allow_connect_to_invoke(self, function: str) -> None:
        """Only our instance, in our account, may invoke it (the decryptor is a decryption oracle)."""
        self.step(f"{function}: invoke permission for the Connect instance only")
        name = self.stage.function_name(function)
        existing = self.permission_statement(name)
        if existing is not None:
            condition = existing.get("Condition", {})
            if condition.get("ArnLike", {}).get("AWS:SourceArn") == self.stage.instance_arn:
                self.say("  (already in place)")
                return
            self.aws.call("lambda", "remove_permission", FunctionName=name, StatementId=PERMISSION_SID)
        self.aws.call(
            "lambda",
            "add_permission",
            FunctionName=name,
            StatementId=PERMISSION_SID,
            Action="lambda:InvokeFunction",
            Principal="connect.amazonaws.com",
            SourceArn=self.stage.instance_arn,
            SourceAccount=self.stage.account,
        )

    def permission_statement(self, function_name: str) -> dict | None:
        try:
            policy = json.loads(self.aws.call("lambda", "get_policy", FunctionName=function_name)["Policy"])
        except Exception as exc:
            if "ResourceNotFound" in type(exc).__name__ or "ResourceNotFound" in str(exc):
                return None
            raise
        return next((s for s in policy.get("Statement", []) if s.get("Sid") == PERMISSION_SID), None)

    def associate_decryptor(self) -> None:
        self.step("ivr_decryptor: associated with the Connect instance")
        arn = self.stage.function_arn("ivr_decryptor")
        if arn in self.associated_functions():
            self.say("  (already associated)")
            return
        self.aws.call("connect", "associate_lambda_function", InstanceId=self.stage.instance_id, FunctionArn=arn)

    def associated_functions(self) -> list[str]:
        return connect_lambda_functions(self.aws, self.stage.instance_id)

    def associate_scanner(self) -> None:
        self.step("attachment_scanner: the instance's FILE_SCANNER")
        arn = self.stage.function_arn("attachment_scanner")
        current = self.integration_associations()
        if any(a.get("IntegrationArn") == arn for a in current):
            self.say("  (already associated)")
            return
        if current:
            others = ", ".join(a.get("IntegrationArn", "?") for a in current)
            raise DeployError(
                f"the instance already has a FILE_SCANNER ({others}): remove it first "
                "(aws connect delete-integration-association) if this app should replace it"
            )
        self.aws.call(
            "connect",
            "create_integration_association",
            InstanceId=self.stage.instance_id,
            IntegrationType="FILE_SCANNER",
            IntegrationArn=arn,
        )

    def associate_processor(self) -> None:
        """Allows chats to name the function as their message processor (flow block or StartContactMediaProcessing).
        Other processors on the instance are left alone: each chat names the one it uses."""
        self.step("message_processor: a MESSAGE_PROCESSOR of the instance")
        arn = self.stage.function_arn("message_processor")
        if any(a.get("IntegrationArn") == arn for a in self.integration_associations("MESSAGE_PROCESSOR")):
            self.say("  (already associated)")
            return
        self.aws.call(
            "connect",
            "create_integration_association",
            InstanceId=self.stage.instance_id,
            IntegrationType="MESSAGE_PROCESSOR",
            IntegrationArn=arn,
        )

    def protect_unprocessed_transcripts(self) -> None:
        """Connect keeps the original of every processed message under `Unprocessed<prefix>`: expire it after N
        days and/or deny reading it to all but one role (parameters UnprocessedExpiryDays, UnprocessedReaderRoleArn).
        Existing lifecycle rules and policy statements of the bucket are kept; ours are replaced by id."""
        bucket, prefix = self.stage.params["TranscriptsBucketName"], self.stage.unprocessed_transcripts_prefix
        days, reader = self.stage.params["UnprocessedExpiryDays"], self.stage.params["UnprocessedReaderRoleArn"]
        if not (days or reader):
            self.step(
                "Unprocessed chat transcripts: not managed (set UnprocessedExpiryDays / UnprocessedReaderRoleArn)"
            )
            return
        if days:
            self.step(f"Unprocessed chat transcripts: deleted after {days} days")
            rules = [r for r in self.lifecycle_rules(bucket) if r.get("ID") != UNPROCESSED_RULE_ID]
            rules.append(
                {
                    "ID": UNPROCESSED_RULE_ID,
                    "Status": "Enabled",
                    "Filter": {"Prefix": f"{prefix}/"},
                    "Expiration": {"Days": int(days)},
                }
            )
            self.aws.call(
                "s3", "put_bucket_lifecycle_configuration", Bucket=bucket, LifecycleConfiguration={"Rules": rules}
            )
        if reader:
            self.step("Unprocessed chat transcripts: readable by one role only")
            policy = self.bucket_policy(bucket)
            statements = [st for st in policy.get("Statement", []) if st.get("Sid") != UNPROCESSED_POLICY_SID]
            statements.append(
                {
                    "Sid": UNPROCESSED_POLICY_SID,
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:{self.stage.partition}:s3:::{bucket}/{prefix}/*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": reader}},
                }
            )
            policy = {"Version": policy.get("Version", "2012-10-17"), **policy, "Statement": statements}
            self.aws.call("s3", "put_bucket_policy", Bucket=bucket, Policy=json.dumps(policy, separators=(",", ":")))

    def lifecycle_rules(self, bucket: str) -> list[dict]:
        try:
            return self.aws.call("s3", "get_bucket_lifecycle_configuration", Bucket=bucket).get("Rules", [])
        except Exception as exc:
            if "NoSuchLifecycleConfiguration" in str(exc):
                return []
            raise

    def bucket_policy(self, bucket: str) -> dict:
        try:
            return json.loads(self.aws.call("s3", "get_bucket_policy", Bucket=bucket)["Policy"])
        except Exception as exc:
            if "NoSuchBucketPolicy" in str(exc):
                return {}
            raise

    def integration_associations(self, integration_type: str = "FILE_SCANNER") -> list[dict]:
        return list(
            each_item(
                self.aws,
                "connect",
                "list_integration_associations",
                "IntegrationAssociationSummaryList",
                InstanceId=self.stage.instance_id,
                IntegrationType=integration_type,
            )
        )

    def deploy_flows(self) -> None:
        """The contact flows of infra/flows/, created or updated and published (infra/flow_deploy.py)."""
        try:
            self.flow_ids = FlowDeployment(self.stage, self.aws, self.say, self.project_dir).deploy()
        except FlowDeployError as exc:
            raise DeployError(str(exc)) from None

    def print_next_steps(self, outputs: dict[str, str]) -> None:
        base = self.chalice("url", capture=True).strip().rstrip("/")
        secret = outputs["MessengerSecretArn"]
        self.step("Done. Finish in the consoles (docs/deploy.md, steps 4 and 5):")
        self.say(f"  Messenger callback URL: {base}/{WEBHOOK_PATH}")
        self.say("  Messenger verify token: the VERIFY_TOKEN field of the secret, read it with")
        self.say(f"    aws secretsmanager get-secret-value --secret-id {secret} --query SecretString --output text")
        self.say("  Subscribe the page to the webhook fields: messages, messaging_postbacks")
        self.say(f"  IVR private keys: one SecureString per Connect key id under {outputs['IvrKeysPath']}")
        self.say(f"  Attachments: enable them on the instance; the scanner reads {outputs['AttachmentsObjectsArn']}")
        self.say("  Message processor: in each chat flow, block 'Set recording, analytics and processing behavior' ->")
        self.say(
            f"    Set message processor -> {self.stage.function_name('message_processor')}, "
            "'Do not deliver unprocessed messages' (docs/message-processor.md)"
        )
        self.print_flow_steps(outputs)

    def print_flow_steps(self, outputs: dict[str, str]) -> None:
        flow_ids = getattr(self, "flow_ids", {})
        if "secure-ivr" in flow_ids:
            self.say(f"  Secure IVR: transfer callers to flow {flow_ids['secure-ivr']} (or assign it to a number)")
        if "chat-redaction" in flow_ids:
            self.say(f"  Native chat (web, SMS, WhatsApp): start chats in flow {flow_ids['chat-redaction']}")
        inbound = flow_ids.get("messenger-inbound")
        if inbound and inbound != outputs["ConnectContactFlowId"]:
            self.say(
                f"  Messenger chats start in ConnectContactFlowId={outputs['ConnectContactFlowId']}: to start them "
                f"in messenger-inbound, set ConnectContactFlowId to {inbound} in the parameters and deploy again"
            )

    def render_policies(self) -> None:
        """The policy files alone, from the outputs the parameters imply (for `chalice package`)."""
        for path in policies.write_all(self.stage, self.stage.predicted_outputs(), self.project_dir):
            self.say(f"wrote {path.relative_to(self.project_dir)}")

    # ======================================================================== destroy

    def destroy(self) -> None:
        self.remove_flows()
        self.remove_integration_association("message_processor", "MESSAGE_PROCESSOR")
        self.remove_integration_association("attachment_scanner", "FILE_SCANNER")
        self.remove_decryptor_association()
        if self.aws.dry_run or (self.project_dir / ".chalice" / "deployed" / f"{self.stage.name}.json").exists():
            self.chalice("delete")
        else:
            self.step(f"chalice delete --stage {self.stage.name}: nothing deployed, skipped")
        self.delete_stack()

    def remove_flows(self) -> None:
        FlowDeployment(self.stage, self.aws, self.say, self.project_dir).destroy()

    def remove_integration_association(self, function: str, integration_type: str) -> None:
        """The instance's `integration_type` associations of our function removed (other functions' are kept)."""
        self.step(f"{function}: {integration_type} association removed")
        arn = self.stage.function_arn(function)
        for association in self.integration_associations(integration_type):
            if association.get("IntegrationArn") == arn:
                self.aws.call(
                    "connect",
                    "delete_integration_association",
                    InstanceId=self.stage.instance_id,
                    IntegrationAssociationId=association["IntegrationAssociationId"],
                )

    def remove_decryptor_association(self) -> None:
        self.step("ivr_decryptor: disassociated from the Connect instance")
        arn = self.stage.function_arn("ivr_decryptor")
        if arn in self.associated_functions():
            self.aws.call("connect", "disassociate_lambda_function", InstanceId=self.stage.instance_id, FunctionArn=arn)

    def delete_stack(self) -> None:
        self.step("Infrastructure stack " + self.stage.stack_name + " deleted")
        if self.stack_status() is None and not self.aws.dry_run:
            self.say("  (no stack)")
            return
        self.aws.call("cloudformation", "delete_stack", StackName=self.stage.stack_name)
        self.aws.wait("cloudformation", "stack_delete_complete", StackName=self.stage.stack_name)

    # ======================================================================== output

    def step(self, title: str) -> None:
        self.say(f"\n== {title}")


def _originals_in(cache: Path, copies: list[Path]) -> list[Path]:
    """The zips of `cache` that `copies` are byte-for-byte copies of (chalice package copies its cached zips out).
    Only a zip of a copy's size is hashed."""

    def digest(path: Path) -> str:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()

    wanted: dict[int, set[str]] = {}
    for copy in copies:
        wanted.setdefault(copy.stat().st_size, set()).add(digest(copy))
    originals = []
    for package in sorted(cache.glob("*.zip")):
        same_size = wanted.get(package.stat().st_size)
        if same_size and digest(package) in same_size:
            originals.append(package)
    return originals


def main(argv: list[str] | None = None, printer: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "action",
        choices=("deploy", "destroy", "policies"),
        help="policies: only render .chalice/policy-<stage>-*.json from the parameters (no AWS)",
    )
    parser.add_argument("--stage", required=True)
    parser.add_argument("--params", type=Path, help="stage parameters (default: infra/params-<stage>.json)")
    parser.add_argument("--dry-run", action="store_true", help="print every AWS call; needs no credentials")
    args = parser.parse_args(argv)

    path = args.params or params_path(args.stage)
    if (args.dry_run or args.action == "policies") and args.params is None and not path.exists():
        printer(f"({path.name} not found: using {EXAMPLE_PARAMS_PATH.name})")
        path = EXAMPLE_PARAMS_PATH
    try:
        stage = Stage.load(args.stage, path)
        aws: DryRunAws | RealAws
        if args.dry_run or args.action == "policies":
            aws = DryRunAws(stage, printer, deployed=args.action == "destroy")
        else:
            aws = RealAws(stage, printer)
        deployment = Deployment(stage, aws, printer)
        {"deploy": deployment.deploy, "destroy": deployment.destroy, "policies": deployment.render_policies}[
            args.action
        ]()
    except (StageError, DeployError) as exc:
        printer(f"error: {exc}")
        return 2
    except subprocess.CalledProcessError as exc:
        printer(
            f"error: `{' '.join(Path(exc.cmd[0]).name if i == 0 else a for i, a in enumerate(exc.cmd))}` "
            f"failed (exit {exc.returncode}); fix the cause above and run the same command again"
        )
        return 1
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        if isinstance(exc, NoCredentialsError):
            printer("error: no AWS credentials (configure the AWS CLI, or use DRY_RUN=1)")
            return 1
        if isinstance(exc, (ClientError, BotoCoreError)):
            printer(f"error: {exc}; fix it and run the same command again (every step is idempotent)")
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())

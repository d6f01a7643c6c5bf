"""`make deploy` / `make destroy` for the contact flows of `infra/flows/` (docs/flows.md#deploy).

Why the Connect API and not CloudFormation's `AWS::Connect::ContactFlow`: the flows name the Lambda
functions Chalice deploys, which exist only after the infra stack, so a flow resource would need a second
stack or a second update of the first; the API step runs after `chalice deploy` like the other Connect steps
(associations, FILE_SCANNER), and it reports Connect's own validation problems
(`InvalidContactFlowException.problems`) line by line. Each flow is also checked by `infra.flow_checks`
after rendering, so a flow that breaks an invariant is never uploaded.

Per flow, idempotent: render it (placeholders from the stage) -> find it by name (`ListContactFlows`) ->
create it published (`CreateContactFlow`, `Status=PUBLISHED`, which validates it) or, if its published
content differs, `UpdateContactFlowContent` (a published flow stays published) -> every Lambda it invokes
associated with the instance. `destroy` deletes the flows it finds by those names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infra import flow_checks
from infra.flow_files import PLACEHOLDER, Flow, FlowFile, content_text, load_all, render, strings
from infra.paging import connect_lambda_functions, each_item
from infra.stage import FUNCTIONS, PROJECT_DIR, Stage

Printer = Callable[[str], None]
TRUE_WORDS = ("1", "true", "yes", "on")  # as chalicelib/settings.py reads a flag


class FlowDeployError(RuntimeError):
    """A flow cannot be deployed; the message says what to fix."""


def flow_name(stage: Stage, flow_file: FlowFile) -> str:
    """`connect-guard-prod-secure-ivr`: unique per stage, so dev and prod can share an instance."""
    return f"{stage.app}-{stage.name}-{flow_file.key}"


def stage_settings(stage: Stage, project_dir: Path = PROJECT_DIR) -> dict[str, bool]:
    """The flow switches, read from the stage's environment in `.chalice/config.json` (as the Lambda sees it)."""
    try:
        config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        config = {}
    environment = {
        **config.get("environment_variables", {}),
        **config.get("stages", {}).get(stage.name, {}).get("environment_variables", {}),
    }
    return {"MESSENGER_USE_PROCESSOR": str(environment.get("MESSENGER_USE_PROCESSOR", "")).lower() in TRUE_WORDS}


class FlowDeployment:
    def __init__(
        self,
        stage: Stage,
        aws: Any,
        printer: Printer = print,
        project_dir: Path = PROJECT_DIR,
        flows: list[FlowFile] | None = None,
    ):
        self.stage = stage
        self.aws = aws
        self.say = printer
        self.project_dir = project_dir
        self.flows = flows if flows is not None else load_all()

    # ---------------------------------------------------------------- values of the placeholders

    def values(self) -> dict[str, str]:
        """Every placeholder the stage can fill; one it cannot fill is left out (its flows are skipped)."""
        values = {
            "IvrDecryptorArn": self.stage.function_arn("ivr_decryptor"),
            "QueueArn": self.stage.flow_queue_arn,
            "IvrEncryptionKeyId": self.stage.params.get("IvrEncryptionKeyId", ""),
        }
        if "message_processor" in FUNCTIONS:
            values["MessageProcessorArn"] = self.stage.function_arn("message_processor")
        certificate = self.stage.params.get("IvrCertificateFile", "")
        if certificate:
            path = Path(certificate) if Path(certificate).is_absolute() else PROJECT_DIR / certificate
            try:
                values["IvrCertificate"] = path.read_text()
            except OSError:
                raise FlowDeployError(f"IvrCertificateFile {certificate}: cannot read it") from None
            if "-----BEGIN CERTIFICATE-----" not in values["IvrCertificate"]:
                raise FlowDeployError(f"IvrCertificateFile {certificate}: not a PEM certificate")
        return {name: value for name, value in values.items() if value}

    def missing(self, flow_file: FlowFile, flow: Flow, values: Mapping[str, str]) -> list[str]:
        used = {name for text in strings(flow["Actions"]) for name in PLACEHOLDER.findall(text)}
        return sorted(used - set(values))

    # ---------------------------------------------------------------- deploy

    def deploy(self) -> dict[str, str]:
        """Creates or updates every flow the stage can fill; returns flow key -> flow id."""
        values = self.values()
        settings = stage_settings(self.stage, self.project_dir)
        self.step("Contact flows of infra/flows/ in the instance")
        existing = self.existing_flows()
        deployed: dict[str, str] = {}
        for flow_file in self.flows:
            name = flow_name(self.stage, flow_file)
            self.step(f"Contact flow {name}")
            missing = self.missing(flow_file, flow_file.select(settings), values)
            if missing:
                self.say(f"  skipped: no value for {', '.join(missing)} ({', '.join(_WHERE[m] for m in missing)})")
                continue
            flow = render(flow_file, values, settings)
            found = flow_checks.problems(
                flow, decryptor_arns=[values["IvrDecryptorArn"]], flow_key=flow_file.key, settings=settings
            )
            if found:
                raise FlowDeployError(f"{flow_file.key} breaks its invariants: " + "; ".join(found))
            if self.aws.dry_run:
                self.print_content(flow, settings)
            flow_id = self.put_flow(flow_file, name, flow, existing.get(name))
            self.associate_lambdas(flow)
            deployed[flow_file.key] = flow_id
        return deployed

    def print_content(self, flow: Flow, settings: Mapping[str, bool]) -> None:
        """The rendered flow, one action a line (the call below carries the same content, Metadata included)."""
        switches = ", ".join(f"{k}={'on' if v else 'off'}" for k, v in settings.items())
        self.say(
            f"  rendered content ({switches}; Metadata: designer positions of "
            f"{len(flow['Metadata']['ActionMetadata'])} actions)"
        )
        self.say(f'    "Version": "{flow["Version"]}", "StartAction": "{flow["StartAction"]}", "Actions":')
        for action in flow["Actions"]:
            self.say("      " + json.dumps(action, separators=(",", ":"), ensure_ascii=False))

    def put_flow(self, flow_file: FlowFile, name: str, flow: Flow, flow_id: str | None) -> str:
        try:
            return self._put_flow(flow_file, name, flow, flow_id)
        except Exception as exc:
            problems = getattr(exc, "response", {}).get("problems")
            if getattr(exc, "response", {}).get("Error", {}).get("Code") == "InvalidContactFlowException":
                listed = "; ".join(str(p.get("message")) for p in problems or [] if isinstance(p, dict))
                raise FlowDeployError(f"Connect rejected {name}: {listed or exc}") from None
            raise

    def _put_flow(self, flow_file: FlowFile, name: str, flow: Flow, flow_id: str | None) -> str:
        content = content_text(flow)
        if flow_id is None:
            answer = self.aws.call(
                "connect",
                "create_contact_flow",
                InstanceId=self.stage.instance_id,
                Name=name,
                Type=flow_file.flow_type,
                Description=flow_file.description[:500],
                Content=content,
                Status="PUBLISHED",
                Tags={"app": self.stage.app, "stage": self.stage.name},
            )
            created: str = answer["ContactFlowId"]
            return created
        current = self.aws.call(
            "connect", "describe_contact_flow", InstanceId=self.stage.instance_id, ContactFlowId=flow_id
        )["ContactFlow"]
        if current.get("Status") == "PUBLISHED" and same_flow(current.get("Content", ""), flow):
            self.say("  (no changes)")
            return flow_id
        self.aws.call(
            "connect",
            "update_contact_flow_content",
            InstanceId=self.stage.instance_id,
            ContactFlowId=flow_id,
            Content=content,
        )
        if not self.aws.dry_run:
            after = self.aws.call(
                "connect", "describe_contact_flow", InstanceId=self.stage.instance_id, ContactFlowId=flow_id
            )["ContactFlow"]
            if after.get("Status") != "PUBLISHED" or not same_flow(after.get("Content", ""), flow):
                raise FlowDeployError(
                    f"{name} was saved but its published content is not the new one: "
                    "publish it in the console (Routing > Flows) and run the deploy again"
                )
        return flow_id

    def associate_lambdas(self, flow: Flow) -> None:
        """Flows may invoke only functions associated with the instance (console: Flows > AWS Lambda)."""
        arns = sorted(
            {a["Parameters"]["LambdaFunctionARN"] for a in flow["Actions"] if a["Type"] == "InvokeLambdaFunction"}
        )
        if not arns:
            return
        associated = set(self.associated_functions())
        for arn in arns:
            if arn in associated:
                self.say(f"  {arn.rsplit(':', 1)[-1]}: already associated")
            else:
                self.aws.call(
                    "connect", "associate_lambda_function", InstanceId=self.stage.instance_id, FunctionArn=arn
                )

    # ---------------------------------------------------------------- destroy

    def destroy(self) -> None:
        self.step("Contact flows of infra/flows/ in the instance")
        existing = self.existing_flows()
        for flow_file in self.flows:
            name = flow_name(self.stage, flow_file)
            self.step(f"Contact flow {name} deleted")
            if name not in existing:
                self.say("  (not there)")
                continue
            self.aws.call(
                "connect", "delete_contact_flow", InstanceId=self.stage.instance_id, ContactFlowId=existing[name]
            )

    # ---------------------------------------------------------------- what is there

    def existing_flows(self) -> dict[str, str]:
        """Name -> id of this instance's contact flows."""
        flows = each_item(
            self.aws,
            "connect",
            "list_contact_flows",
            "ContactFlowSummaryList",
            InstanceId=self.stage.instance_id,
            ContactFlowTypes=["CONTACT_FLOW"],
            MaxResults=1000,
        )
        return {summary["Name"]: summary["Id"] for summary in flows}

    def associated_functions(self) -> list[str]:
        return connect_lambda_functions(self.aws, self.stage.instance_id)

    def step(self, title: str) -> None:
        self.say(f"\n== {title}")


# Where each placeholder's value comes from, for the "skipped" line.
_WHERE = {
    "IvrDecryptorArn": "the ivr_decryptor function",
    "MessageProcessorArn": "the message_processor function is not part of this app yet",
    "IvrEncryptionKeyId": "parameter IvrEncryptionKeyId",
    "IvrCertificate": "parameter IvrCertificateFile",
    "QueueArn": "parameter FlowQueueArn",
}


def same_flow(content: str, flow: Flow) -> bool:
    """Same actions and start (Connect may rewrite the designer metadata)."""
    try:
        current = json.loads(content)
    except (TypeError, json.JSONDecodeError):
        return False
    return bool(current.get("StartAction") == flow["StartAction"] and current.get("Actions") == flow["Actions"])


class FlowDryRunAnswers:
    """Canned answers of the dry run (infra/aws_calls.py `DryRunAws`) for the flow calls."""

    _stage: Stage
    _deployed: bool

    def _connect_list_contact_flows(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self._deployed:
            return {"ContactFlowSummaryList": []}
        return {
            "ContactFlowSummaryList": [
                {
                    "Id": f"<{flow_file.key}-id>",
                    "Name": flow_name(self._stage, flow_file),
                    "ContactFlowType": "CONTACT_FLOW",
                }
                for flow_file in load_all()
            ]
        }

    def _connect_create_contact_flow(self, params: dict[str, Any]) -> dict[str, Any]:
        key = params["Name"].removeprefix(f"{self._stage.app}-{self._stage.name}-")
        return {"ContactFlowId": f"<{key}-id>", "ContactFlowArn": f"{self._stage.instance_arn}/contact-flow/<{key}-id>"}


def render_files(stage: Stage, out_dir: Path, printer: Printer = print, project_dir: Path = PROJECT_DIR) -> list[Path]:
    """Each flow rendered for the stage into `out_dir`, ready for the console's *Import* (docs/flows.md)."""
    deployment = FlowDeployment(stage, None, printer, project_dir)
    values, settings = deployment.values(), stage_settings(stage, project_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for flow_file in deployment.flows:
        missing = deployment.missing(flow_file, flow_file.select(settings), values)
        if missing:
            printer(f"{flow_file.key}: skipped, no value for {', '.join(missing)}")
            continue
        flow = render(flow_file, values, settings)
        found = flow_checks.problems(flow, [values["IvrDecryptorArn"]], flow_file.key, settings)
        if found:
            raise FlowDeployError(f"{flow_file.key} breaks its invariants: " + "; ".join(found))
        path = out_dir / f"{flow_name(stage, flow_file)}.json"
        path.write_text(json.dumps(flow, indent=2, ensure_ascii=False) + "\n")
        printer(f"wrote {path}")
        written.append(path)
    return written


def main(argv: list[str] | None = None, printer: Printer = print) -> int:
    import argparse

    from infra.stage import EXAMPLE_PARAMS_PATH, StageError, params_path

    parser = argparse.ArgumentParser(
        prog="python -m infra.flow_deploy", description="Render the contact flows of infra/flows/ for a stage (no AWS)."
    )
    parser.add_argument("action", choices=("render",))
    parser.add_argument("--stage", required=True)
    parser.add_argument("--params", type=Path, help="stage parameters (default: infra/params-<stage>.json)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "flows")
    args = parser.parse_args(argv)
    path = args.params or params_path(args.stage)
    if args.params is None and not path.exists():
        printer(f"({path.name} not found: using {EXAMPLE_PARAMS_PATH.name})")
        path = EXAMPLE_PARAMS_PATH
    try:
        render_files(Stage.load(args.stage, path), args.out, printer)
    except (StageError, FlowDeployError) as exc:
        printer(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())

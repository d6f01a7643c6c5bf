"""`chalice package --stage prod` of the app as `make deploy` configures it: the template lints, every
function gets its own role with exactly its policy file, and the sizing rules hold.

Packaging downloads Linux arm64 wheels (the package index, or a wheelhouse through PIP_FIND_LINKS with
PIP_NO_INDEX=1), so it runs once per module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import chalice_config, policies
from infra.stage import FUNCTIONS, Stage
from tests.iam_scan import Project
from tests.support import PROJECT_DIR, REGION

EXAMPLE = json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text())


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    for name in ("app.py", "requirements.txt"):
        shutil.copy(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        PROJECT_DIR / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployed", "deployments")
    )
    # Chalice caches built packages by requirements, runtime and architecture in .chalice/deployments
    # (git-ignored); sharing it with the project makes every run after the first one fast.
    cache = PROJECT_DIR / ".chalice" / "deployments"
    if cache.is_dir():
        shutil.copytree(cache, project / ".chalice" / "deployments")
    stage = Stage.from_params("prod", EXAMPLE, "connect-guard")
    outputs = stage.predicted_outputs()
    chalice_config.write("prod", outputs, project)  # what `make deploy` does before `chalice deploy`
    policies.write_all(stage, outputs, project)

    env = {k: v for k, v in os.environ.items() if k != "CONNECT_STREAMING_TOPIC_ARN"}
    env["AWS_DEFAULT_REGION"] = REGION
    chalice = str(Path(sys.executable).with_name("chalice"))
    done = subprocess.run(
        [chalice, "package", "--stage", "prod", "out"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    cache.mkdir(exist_ok=True)
    for layer in (project / ".chalice" / "deployments").glob("managed-layer-*.zip"):
        shutil.copy(layer, cache / layer.name)
    template = json.loads((project / "out" / "sam.json").read_text())
    return project, stage, outputs, template


def functions(template) -> dict[str, dict]:
    return {
        name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }


def by_chalice_name(template, stage: Stage) -> dict[str, dict]:
    """{chalice function name: properties}; Chalice names logical ids APIHandler and CamelCase(name)."""
    from chalice.utils import to_cfn_resource_name

    found = functions(template)
    logical = {f: "APIHandler" if f == "api_handler" else to_cfn_resource_name(f) for f in FUNCTIONS}
    return {f: found[name] for f, name in logical.items() if name in found}


def test_packaged_template_passes_cfn_lint(package):
    from cfnlint.api import ManualArgs, lint_file

    project, *_ = package
    assert [str(m) for m in lint_file(project / "out" / "sam.json", config=ManualArgs(regions=[REGION]))] == []


def test_every_entry_point_is_packaged_and_nothing_else(package):
    _, stage, _, template = package
    entry_points = set(Project(PROJECT_DIR).entry_points())
    assert set(by_chalice_name(template, stage)) == entry_points
    assert len(functions(template)) == len(entry_points)


def test_each_function_has_its_own_role_with_exactly_its_policy(package):
    _, stage, outputs, template = package
    project = package[0]
    expected = policies.render_all(stage, outputs, json.loads((project / ".chalice" / "config.json").read_text()))
    roles = {}
    for function, props in by_chalice_name(template, stage).items():
        role = template["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert [p["PolicyDocument"] for p in role["Policies"]] == [expected[function]]
        assert "ManagedPolicyArns" not in role
        roles[function] = props["Role"]["Fn::GetAtt"][0]
    assert len(set(roles.values())) == len(roles)


def test_functions_take_memory_timeout_and_architecture_from_the_stage(package):
    project, stage, _, template = package
    config = json.loads((project / ".chalice" / "config.json").read_text())["stages"]["prod"]
    for function, props in by_chalice_name(template, stage).items():
        wanted = config["lambda_functions"][function]
        assert (props["MemorySize"], props["Timeout"]) == (wanted["lambda_memory_size"], wanted["lambda_timeout"])
        assert props.get("ReservedConcurrentExecutions") == wanted.get("reserved_concurrency")
        assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"]
        assert props["Layers"] == [{"Ref": "ManagedLayer"}]


def test_stream_handler_subscribes_to_the_stacks_topic(package):
    _, stage, outputs, template = package
    named = by_chalice_name(template, stage)
    if "connect_stream_handler" not in named:
        pytest.skip("connect_stream_handler has not landed in app.py yet")
    events = named["connect_stream_handler"]["Events"]
    (sns,) = [e["Properties"] for e in events.values() if e["Type"] == "SNS"]
    assert sns["Topic"] == outputs["StreamingTopicArn"]


def test_the_stage_environment_carries_no_secret(package):
    project, *_ = package
    environment = json.loads((project / ".chalice" / "config.json").read_text())["stages"]["prod"][
        "environment_variables"
    ]
    assert all(not any(word in name for word in ("TOKEN", "PASSWORD", "PRIVATE")) for name in environment)
    assert environment["MESSENGER_SECRET_ID"].startswith("arn:aws:secretsmanager:")


def test_chalice_reuses_the_zips_the_deploy_put_bytecode_into(package, monkeypatch):
    """What `make deploy` does before `chalice deploy` (Deployment.build_packages), then a second packaging:
    chalice builds its zips for `deploy` exactly as for `package`, so this is what a deploy would upload."""
    from infra import bytecode
    from infra.aws_calls import RealAws
    from infra.deploy import Deployment

    project, stage, _, _ = package
    monkeypatch.delenv("CONNECT_STREAMING_TOPIC_ARN", raising=False)
    said: list[str] = []
    Deployment(stage, RealAws(stage, said.append), printer=said.append, project_dir=project).build_packages()
    assert any("modules compiled" in line for line in said), said
    chalice = str(Path(sys.executable).with_name("chalice"))
    again = subprocess.run(
        [chalice, "package", "--stage", "prod", "out-again"],
        cwd=project,
        env={**os.environ, "AWS_DEFAULT_REGION": REGION, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Reusing existing" in again.stdout + again.stderr
    for name in ("deployment.zip", "layer-deployment.zip"):
        assert bytecode.has_bytecode(project / "out-again" / name), name

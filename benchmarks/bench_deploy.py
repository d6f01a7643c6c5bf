"""Deploy size: what `make deploy STAGE=prod` uploads with `automatic_layer` (ours) beside the same app packaged
without it (baseline), both from `chalice package` of the stage as `make deploy` writes it, with the bytecode it
adds (infra/bytecode.py).

Chalice 1.34 publishes a new layer version on every deploy and uploads each function's zip, so a deploy
uploads the layer once plus every function's own zip, against the whole bundle once per function without
the layer. Budget: the layer at least halves what a deploy uploads (true from two functions on).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from infra import bytecode, chalice_config, policies  # noqa: E402
from infra.stage import Stage  # noqa: E402

MB = 1024 * 1024


def package(automatic_layer: bool) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("app.py", "requirements.txt"):
            shutil.copy(PROJECT_DIR / name, project / name)
        shutil.copytree(
            PROJECT_DIR / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(PROJECT_DIR / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployed"))
        stage = Stage.from_params(
            "prod", json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text()), "connect-guard"
        )
        chalice_config.write("prod", stage.predicted_outputs(), project)
        policies.write_all(stage, stage.predicted_outputs(), project)
        config_path = project / ".chalice" / "config.json"
        config = json.loads(config_path.read_text())
        config["stages"]["prod"]["automatic_layer"] = automatic_layer
        config_path.write_text(json.dumps(config))
        env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
        subprocess.run(
            [str(Path(sys.executable).with_name("chalice")), "package", "--stage", "prod", "out"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
        template = json.loads((project / "out" / "sam.json").read_text())
        functions = sum(r["Type"] == "AWS::Serverless::Function" for r in template["Resources"].values())
        app_zip = project / "out" / "deployment.zip"
        layer_zip = project / "out" / "layer-deployment.zip"
        for package_zip in (app_zip, layer_zip):
            if package_zip.exists():
                bytecode.add_bytecode(package_zip)
        layer = layer_zip.stat().st_size if layer_zip.exists() else 0
        return {
            "functions": functions,
            "function_zip": app_zip.stat().st_size,
            "layer_zip": layer,
            "upload": layer + functions * app_zip.stat().st_size,
            "unzipped": sum(i.file_size for i in zipfile.ZipFile(app_zip).infolist())
            + (sum(i.file_size for i in zipfile.ZipFile(layer_zip).infolist()) if layer else 0),
        }


def main() -> None:
    ours, baseline = package(True), package(False)
    count = ours["functions"]
    print("## Deploy size (`chalice package --stage prod` with bytecode, arm64)\n")
    print(f"{count} function(s) in app.py; a deploy uploads the layer once plus each function's own zip.\n")
    print("| | function zip | layer zip | upload per deploy | unzipped (function + layer) |")
    print("|---|---:|---:|---:|---:|")
    for label, figures in (("automatic_layer (ours)", ours), ("no layer (baseline)", baseline)):
        print(
            f"| {label} | {figures['function_zip'] / MB:.2f} MB | {figures['layer_zip'] / MB:.2f} MB | "
            f"{figures['upload'] / MB:.1f} MB | {figures['unzipped'] / MB:.1f} MB |"
        )
    ok = ours["upload"] <= baseline["upload"] / 2
    print(
        f"\n- {'PASS' if ok else 'MISS'}: upload per deploy {ours['upload'] / MB:.1f} MB "
        f"<= half of {baseline['upload'] / MB:.1f} MB"
    )


if __name__ == "__main__":
    main()

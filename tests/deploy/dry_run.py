"""The prod deploy's dry run as `make deploy STAGE=prod DRY_RUN=1` starts it, on a machine without AWS credentials."""

from __future__ import annotations

from infra.deploy import main


def dry_run_deploy_lines(monkeypatch, tmp_path) -> list[str]:
    """Every line the dry run prints; no credential in the environment or a credentials file (it needs none)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    lines: list[str] = []
    assert main(["deploy", "--stage", "prod", "--dry-run"], printer=lines.append) == 0
    return lines

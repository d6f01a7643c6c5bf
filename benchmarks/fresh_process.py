"""One sample in a fresh Python process, for the benches that measure a cold start."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

# Signing needs credentials and a Region; nothing is called, and no profile of this machine is read.
DUMMY_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


def sample(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    """Runs `argv`, a child that prints its measurement as one JSON number, and returns that number."""
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout))

"""What several test modules share: the project's paths and local stage, and the warm-container reset.
(Fixtures live in conftest.py; tests import plain helpers from modules like this one, never from a conftest.)"""

from __future__ import annotations

import json
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
LOCAL_STAGE = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["local"][
    "environment_variables"
]


def forget_container_state() -> None:
    """Everything a warm container caches across invocations, in one place."""
    from chalicelib import aws
    from chalicelib.ivr import wiring as ivr_wiring
    from chalicelib.messaging import wiring as messaging_wiring
    from chalicelib.processor import wiring as processor_wiring

    aws.reset()
    processor_wiring.reset()
    messaging_wiring.reset()
    ivr_wiring.reset()  # the decryptor's key store caches keys fetched from SSM

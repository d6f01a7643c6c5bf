"""Every Lambda imports app.py: the redactor must not drag boto3 or python-stdnum in, nor compile its patterns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_redactor_loads_no_heavy_module_and_compiles_no_detector():
    probe = (
        "import sys\n"
        "import chalicelib.redaction.redactor\n"
        "from chalicelib.redaction import detectors\n"
        "heavy = [m for m in ('boto3', 'botocore', 'stdnum', 'ipaddress') if m in sys.modules]\n"
        "print(heavy, detectors.all_detectors.cache_info().currsize)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["[]", "0"]

"""The one Luhn of the project (redaction/checksums.py): the redaction detectors and the IVR result use it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from chalicelib.redaction.checksums import luhn_ok


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=40))
def test_luhn_matches_python_stdnum(digits):
    assert luhn_ok(digits) == luhn.is_valid(digits)

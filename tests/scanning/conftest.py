"""Scanner test fixtures shared by the S3-backed modules."""

from __future__ import annotations

import pytest

from tests.scanning.helpers import BUCKET


@pytest.fixture
def s3():
    """moto S3 with the attachments bucket, through the same cached client the scanner uses."""
    from moto import mock_aws

    from chalicelib import aws

    with mock_aws():
        client = aws.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client

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


@pytest.fixture(scope="session")
def clamd():
    """A real clamd (Debian's clamav-daemon) on 127.0.0.1 with the repository's test signatures."""
    from sandbox import clamd as local_clamd

    if local_clamd.binary() is None:
        pytest.skip("clamd is not installed (make clamav installs Debian's clamav-daemon)")
    with local_clamd.LocalClamd() as running:
        yield running

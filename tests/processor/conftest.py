from __future__ import annotations

import pytest
from moto import mock_aws

from tests.sessions_table import SESSIONS_TABLE, create_sessions_table


@pytest.fixture
def table():
    """moto's DynamoDB with the sessions table; yields the boto3 client tests read items with."""
    with mock_aws():
        create_sessions_table()
        import boto3

        yield boto3.client("dynamodb")


@pytest.fixture
def store(table):
    from chalicelib.processor.context_store import ContextStore

    return ContextStore(table, SESSIONS_TABLE)

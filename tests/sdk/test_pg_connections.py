"""A server on PostgreSQL whose sessions the database ends (``pg_terminate_backend``, what
a PostgreSQL restart does to them): the next calls succeed, reads, writes and the replay
check alike, and a replayed request is still refused by a second process.

PostgreSQL only (OPENWORKS_TEST_POSTGRES): the server's sessions carry an
``application_name`` of their own, so that exactly they are ended.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.dbutil import fresh_database_url, postgres_base
from tests.unit.protocol.signer import sign_acs3

from .clients import TeaClient
from .conftest import DEV_KEY, start_server, unique
from .test_protocol_errors import send

pytestmark = pytest.mark.skipif(not postgres_base(), reason="needs OPENWORKS_TEST_POSTGRES")


def _terminate(tag: str) -> int:
    base = (postgres_base() or "").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (tag,),
        ).fetchall()
    return len(rows)


def test_calls_succeed_after_the_database_ends_the_sessions(tmp_path: Path) -> None:
    tag = f"owterm{uuid.uuid4().hex[:12]}"
    url = f"{fresh_database_url('term')}&application_name={tag}"
    first = start_server(tmp_path, database_url=url)
    second = start_server(tmp_path, database_url=url)
    try:
        client = TeaClient(first.endpoint, *DEV_KEY)
        pid = client.call("CreateProject", ProjectIdentifier=unique("term"), ProjectName="t")[
            "Data"
        ]
        for _ in range(5):  # the pools and the replay check's connections in use
            client.call("GetProject", ProjectId=pid)
            client.call("ListFiles", ProjectId=pid)
        assert _terminate(tag) >= 2
        for n in range(5):  # not one call fails: each connection is checked at checkout
            assert client.call("GetProject", ProjectId=pid)["Data"]["ProjectId"] == pid
            client.call("CreateFile", ProjectId=pid, FileName=unique(f"f{n}"), FileType=10)
        files = client.call("ListFiles", ProjectId=pid)["Data"]["Files"]
        assert len(files) == 5
        raw = sign_acs3(DEV_KEY[0], DEV_KEY[1], uuid.uuid4().hex, time.time(),
                        action="ListProjects")  # fmt: skip
        assert send(first, raw)[0] == 200
        status, _, body = send(second, raw)
        assert status == 400 and b"SignatureNonceUsed" in body
        assert send(first, raw)[0] == 400
    finally:
        first.stop()
        second.stop()

"""The same vault on the cluster's object store: ingest, stream, verify, tamper detection."""

from __future__ import annotations

import uuid

import pytest

from bodycam.auth.service import create_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.system_cli import initialise
from bodycam.verify import verify_all
from tests.conftest import wipe


@pytest.fixture
def s3_ctx(s3_server, db_url, tmp_path):
    wipe(db_url)
    bucket = f"vault-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        home=tmp_path / "home", database_url=db_url, storage_url=s3_server.url_for(bucket)
    )
    initialise(settings)  # creates the bucket and the built-in category
    ctx = Context.from_settings(settings)
    with transaction(ctx.sessions) as s:
        create_user(s, None, "clerk", "records_clerk")
        create_user(s, None, "aud", "auditor")
        create_user(s, None, "o1", "officer", badge="1001")
    yield ctx, s3_server, bucket
    ctx.close()


def test_ingest_stream_and_verify_on_s3(s3_ctx, clips):
    from bodycam.auth.service import actor_for, get_user

    ctx, server, bucket = s3_ctx
    with ctx.sessions() as s:
        clerk = actor_for(get_user(s, "clerk"), "cli")
        aud = actor_for(get_user(s, "aud"), "cli")
    vault = ev.Vault(ctx.sessions, ctx.store)
    data = clips(61).read_bytes()
    res = ev.ingest_file(vault, clerk, clips(61), officer_badge="1001", category=UNCATEGORIZED)
    assert ev.ingest_file(vault, clerk, clips(61), officer_badge="1001").duplicate
    _, _rng, chunks = ev.open_stream(vault, clerk, res.id, "bytes=100-299")
    assert b"".join(chunks) == data[100:300]
    assert verify_all(ctx, aud).ok
    # Tamper with the object behind the store's back: verify names the recording.
    key = ctx.store.key_for(res.sha256)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    server.client().put_object(Bucket=bucket, Key=key, Body=bytes(flipped))
    report = verify_all(ctx, aud)
    assert not report.ok
    assert any(res.id in p and "has changed" in p for p in report.problems)

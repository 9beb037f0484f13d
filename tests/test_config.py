"""Settings: defaults for the embedded deployment, refusal of unsafe production values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bodycam.config import Settings


def test_embedded_defaults(tmp_path):
    s = Settings(home=tmp_path)
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'bodycam.db'}"
    assert s.resolved_storage_url == f"file://{tmp_path / 'blobs'}"
    key = s.resolved_secret_key()
    assert len(key) >= 32 and s.resolved_secret_key() == key  # generated once, kept


@pytest.mark.parametrize("secret", ["", "changeme", "short-but-not-placeholder"])
def test_production_refuses_weak_secrets(tmp_path, secret):
    with pytest.raises(ValidationError, match="BODYCAM_SECRET_KEY"):
        Settings(env="production", home=tmp_path, secret_key=secret, database_url="sqlite://")


def test_production_needs_an_explicit_database(tmp_path):
    with pytest.raises(ValidationError, match="BODYCAM_DATABASE_URL"):
        Settings(env="production", home=tmp_path, secret_key="x" * 40)


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("BODYCAM_HOME", str(tmp_path))
    monkeypatch.setenv("BODYCAM_OFFICER_SEES_OWN", "false")
    s = Settings()
    assert s.home == tmp_path and s.officer_sees_own is False


def test_a_missing_signing_key_is_a_sentence_not_a_new_key(tmp_path):
    from bodycam.context import Context

    s = Settings(home=tmp_path)
    with pytest.raises(ValueError, match="run `bodycam init`"):
        Context.from_settings(s)
    assert not s.resolved_signing_key_path.exists()


def test_audit_origin_must_be_a_valid_key_name(tmp_path):
    with pytest.raises(ValidationError, match="BODYCAM_AUDIT_ORIGIN"):
        Settings(home=tmp_path, audit_origin="my agency")


def test_printed_urls_hide_secrets():
    from bodycam.cli_support import redact

    assert redact("postgresql+psycopg://app:s3cret@db:5432/bodycam") == (
        "postgresql+psycopg://app:***@db:5432/bodycam"
    )
    assert redact("s3://b?endpoint=http://x&access_key=AK&secret_key=SK") == (
        "s3://b?endpoint=http://x&access_key=AK&secret_key=***"
    )

"""Signed checkpoints (C2SP signed-note format) and signing-key storage."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bodycam.audit.merkle import leaf_hash
from bodycam.audit.signing import (
    SIGNATURE_PREFIX,
    Checkpoint,
    SignatureError,
    format_timestamp,
    key_id,
    load_or_create_signing_key,
    load_public_key,
    parse_signed_checkpoint,
    parse_timestamp,
    public_key_pem,
    sign_checkpoint,
    verifier_key,
    verify_checkpoint,
)

ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
WHEN = datetime(2026, 11, 23, 23, 30, 0, 123456, tzinfo=UTC)
ORIGIN = "bodycam.audit/agency-0001"
NAME = "bodycam.audit/agency-0001"

# RFC 8032 section 7.1, TEST 1: a fixed Ed25519 key, so the expected note is fully pinned.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)


def checkpoint(size: int = 8, root: bytes = ROOT) -> Checkpoint:
    return Checkpoint(origin=ORIGIN, tree_size=size, root=root, timestamp=WHEN)


def test_body_is_exactly_four_lines() -> None:
    assert checkpoint().body() == (
        b"bodycam.audit/agency-0001\n"
        b"8\n"
        b"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        b"time 2026-11-23T23:30:00.123456Z\n"
    )
    assert base64.b64decode("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=") == ROOT
    empty = Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest(), WHEN.replace(microsecond=0))
    assert empty.body().split(b"\n")[1] == b"0"
    assert empty.body().endswith(b"time 2026-11-23T23:30:00.000000Z\n")


def test_key_id_follows_signed_note_convention(key: Ed25519PrivateKey) -> None:
    public = key.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == RFC8032_PUBLIC
    expected = hashlib.sha256(NAME.encode() + b"\n\x01" + RFC8032_PUBLIC).digest()[:4]
    assert key_id(NAME, public) == expected
    vkey = verifier_key(NAME, public)
    name, kid, encoded = vkey.split("+", 2)
    assert (name, kid) == (NAME, expected.hex())
    assert base64.b64decode(encoded) == b"\x01" + RFC8032_PUBLIC


def test_sign_and_verify_round_trip(key: Ed25519PrivateKey) -> None:
    cp = checkpoint()
    text = sign_checkpoint(cp, key, NAME)
    body, sig_block = text.split("\n\n")
    assert (body + "\n").encode() == cp.body()
    assert sig_block.startswith("\u2014 " + NAME + " ")
    assert sig_block.endswith("\n") and sig_block.count("\n") == 1
    blob = base64.b64decode(sig_block.split(" ")[2])
    assert len(blob) == 4 + 64
    assert blob[:4] == key_id(NAME, key.public_key())
    key.public_key().verify(blob[4:], cp.body())  # signature is over the body bytes
    # Ed25519 is deterministic: pin the whole note for this RFC 8032 key (regression guard).
    assert text == sign_checkpoint(cp, key, NAME)
    assert text.endswith(
        "\n\n\u2014 bodycam.audit/agency-0001 GebfnrXwyQZhqj8aEs+dEpbOJ8RuN4qAoneT6Z/dTFyCb66z9L5"
        "BdjTvjRcnTauErhAsedpJWZcqbRRhzEyAdTkEkAs=\n"
    )

    verified = verify_checkpoint(text, key.public_key(), NAME)
    assert verified == cp
    parsed, name, kid, signature = parse_signed_checkpoint(text)
    assert parsed == cp
    assert (name, kid, signature) == (NAME, blob[:4], blob[4:])
    assert verify_checkpoint(text.encode(), key.public_key(), NAME) == cp


def test_timestamps() -> None:
    assert format_timestamp(WHEN) == "2026-11-23T23:30:00.123456Z"
    eastern = WHEN.astimezone(timezone(timedelta(hours=-5)))
    assert format_timestamp(eastern) == "2026-11-23T23:30:00.123456Z"
    assert parse_timestamp("2026-11-23T23:30:00.123456Z") == WHEN
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))
    for bad in [
        "2026-11-23T23:30:00Z",
        "2026-11-23 23:30:00.123456Z",
        "2026-11-23T23:30:00.1+00:00",
    ]:
        with pytest.raises(ValueError, match="RFC 3339"):
            parse_timestamp(bad)


def test_tampered_or_foreign_checkpoints_are_rejected(key: Ed25519PrivateKey) -> None:
    text = sign_checkpoint(checkpoint(), key, NAME)
    public = key.public_key()
    altered = text.replace("\n8\n", "\n9\n", 1)
    with pytest.raises(SignatureError, match="invalid: the checkpoint was altered"):
        verify_checkpoint(altered, public, NAME)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(SignatureError, match="no signature by key"):
        verify_checkpoint(text, other.public_key(), NAME)
    with pytest.raises(SignatureError, match="no signature by key 'other-name'"):
        verify_checkpoint(text, public, "other-name")
    # A forged signature line claiming our name and key id, but signed by another key.
    forged_sig = base64.b64encode(key_id(NAME, public) + other.sign(checkpoint().body()))
    forged = text.split("\n\n")[0] + f"\n\n{SIGNATURE_PREFIX}{NAME} {forged_sig.decode()}\n"
    with pytest.raises(SignatureError, match="invalid"):
        verify_checkpoint(forged, public, NAME)


def test_extra_signatures_by_other_keys_are_ignored(key: Ed25519PrivateKey) -> None:
    witness = Ed25519PrivateKey.generate()
    cp = checkpoint()
    mine = sign_checkpoint(cp, key, NAME)
    theirs = sign_checkpoint(cp, witness, "witness.example")
    cosigned = theirs + mine.split("\n\n")[1]
    assert verify_checkpoint(cosigned, key.public_key(), NAME) == cp
    assert verify_checkpoint(cosigned, witness.public_key(), "witness.example") == cp
    assert parse_signed_checkpoint(cosigned)[1] == "witness.example"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.rstrip("\n"), "does not end with a newline"),
        (lambda t: t.replace("\n\n", "\n"), "no blank line"),
        (lambda t: t.replace("\u2014", "-"), "em dash"),
        (lambda t: t.split("\n\n")[0] + "\n\n", "no signature lines"),
        (lambda t: t.replace("\n8\n", "\n08\n"), "not a decimal number"),
        (lambda t: t.replace("\n8\n", "\n-8\n"), "not a decimal number"),
        (lambda t: t.replace("time ", "when "), "does not start with 'time '"),
        (lambda t: t.replace(".123456Z", "Z"), "time is malformed"),
        (lambda t: t.replace("Xcnaeac", "Xcnae!c"), "not standard base64"),
        (lambda t: t.replace("yg=\n", "yg\n"), "not valid base64"),
        (lambda t: t.replace("\ntime", "\nextra\ntime"), "expected exactly 4"),
        (lambda t: t.replace(NAME + " ", NAME + "  "), "not '— <name> <signature>'"),
        (lambda t: t[: t.rindex(" ") + 1] + "!!!!\n", "not valid base64"),
    ],
)
def test_malformed_notes_are_rejected(key: Ed25519PrivateKey, mutate: object, message: str) -> None:
    text = sign_checkpoint(checkpoint(), key, NAME)
    assert callable(mutate)
    bad = mutate(text)
    with pytest.raises(SignatureError, match=message):
        parse_signed_checkpoint(bad)
    with pytest.raises(SignatureError):
        verify_checkpoint(bad, key.public_key(), NAME)


def test_invalid_inputs_to_signing(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match="Key name"):
        sign_checkpoint(checkpoint(), key, "has space")
    with pytest.raises(ValueError, match="Key name"):
        sign_checkpoint(checkpoint(), key, "a+b")
    with pytest.raises(ValueError, match="32 bytes"):
        checkpoint(root=b"short").body()
    with pytest.raises(ValueError, match="negative"):
        checkpoint(size=-1).body()
    with pytest.raises(ValueError, match="origin"):
        Checkpoint("two\nlines", 1, ROOT, WHEN).body()
    with pytest.raises(SignatureError, match="not valid UTF-8"):
        parse_signed_checkpoint(b"\xff\n\n")


def test_signing_key_created_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-signing.pem"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    again = load_or_create_signing_key(path)
    assert public_key_pem(again) == public_key_pem(key)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    cp = checkpoint()
    assert verify_checkpoint(sign_checkpoint(cp, again, NAME), key.public_key(), NAME) == cp


def test_signing_key_never_overwritten_under_races(tmp_path: Path) -> None:
    path = tmp_path / "audit-signing.pem"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(public_key_pem(load_or_create_signing_key(path)))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert public_key_pem(load_or_create_signing_key(path)) == results[0]
    assert os.listdir(tmp_path) == [path.name]


def test_signing_key_file_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ValueError, match="not a PEM private key"):
        load_or_create_signing_key(garbage)
    ec_path = tmp_path / "ec.pem"
    ec_path.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="not Ed25519"):
        load_or_create_signing_key(ec_path)


def test_public_key_pem_round_trip(key: Ed25519PrivateKey) -> None:
    pem = public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert public_key_pem(key.public_key()) == pem
    loaded = load_public_key(pem)
    assert key_id(NAME, loaded) == key_id(NAME, key.public_key())
    assert key_id(NAME, load_public_key(pem.encode())) == key_id(NAME, loaded)
    with pytest.raises(ValueError, match="not a valid PEM"):
        load_public_key("nope")
    ec_pem = (
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        load_public_key(ec_pem)


def test_checkpoint_commits_to_a_real_root(key: Ed25519PrivateKey) -> None:
    root = leaf_hash(b"only record")
    cp = Checkpoint(ORIGIN, 1, root, WHEN)
    assert verify_checkpoint(sign_checkpoint(cp, key, NAME), key.public_key(), NAME).root == root

"""Ed25519-signed audit checkpoints in the transparency-log "signed note" format.

A checkpoint commits to the whole audit log at one size. It follows the C2SP
``tlog-checkpoint`` and ``signed-note`` conventions (as used by Go's ``sumdb/note``,
Sigstore and transparency-dev), so generic tools can read it.

Body (UTF-8, every line ends with ``\\n``, exactly four lines)::

    <origin>\\n                       e.g. "bodycam.audit/<agency-id>"; no newline, non-empty
    <tree size>\\n                    decimal, no sign, no leading zeros ("0" for empty)
    <root hash>\\n                    standard base64 (with "=" padding) of the 32-byte root
    time <timestamp>\\n               RFC 3339 UTC, always with microseconds:
                                      YYYY-MM-DDTHH:MM:SS.ffffffZ

The signed note is the body, one blank line, then one or more signature lines::

    — <key name> <base64(key id || signature)>\\n

where ``—`` is U+2014 EM DASH followed by one space, ``key name`` is non-empty UTF-8 with
no whitespace and no ``+``, ``signature`` is the 64-byte Ed25519 signature of the body
bytes (including the body's final newline, excluding the blank line), and ``key id`` is
the first 4 bytes of ``SHA-256(key name || 0x0A || 0x01 || 32-byte raw public key)``.

A verifier knows the key name and public key in advance; it uses the first signature line
whose name and key id match, and ignores the others. Signing keys are stored as PKCS#8 PEM
files with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "SIGNATURE_PREFIX",
    "Checkpoint",
    "SignatureError",
    "format_timestamp",
    "key_id",
    "load_or_create_signing_key",
    "load_public_key",
    "parse_signed_checkpoint",
    "parse_timestamp",
    "public_key_pem",
    "sign_checkpoint",
    "verifier_key",
    "verify_checkpoint",
]

SIGNATURE_PREFIX = "\u2014 "
"""Start of every signature line: EM DASH and a space."""

_ED25519_TYPE = b"\x01"
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_MAX_NOTE_BYTES = 1 << 20
_MAX_SIGNATURES = 100


class SignatureError(Exception):
    """A checkpoint is malformed, or its signature is missing or does not verify."""


def format_timestamp(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with microseconds (``...T..:..:...ffffffZ``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Checkpoint timestamps must be timezone-aware.")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Parse the exact format written by :func:`format_timestamp`; raise ValueError otherwise."""
    if not _TIME_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not an RFC 3339 UTC time like 2026-11-23T23:30:00.123456Z.")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _check_key_name(key_name: str) -> None:
    if (
        not isinstance(key_name, str)
        or not key_name
        or "+" in key_name
        or any(ch.isspace() for ch in key_name)
    ):
        raise ValueError(
            f"Key name {key_name!r} is not valid: it must be non-empty, without spaces or '+'."
        )


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """Return the 4-byte signed-note key id: SHA-256(name || 0x0A || 0x01 || raw key)[:4]."""
    raw = key_name.encode("utf-8") + b"\n" + _ED25519_TYPE + _raw_public(public_key)
    return hashlib.sha256(raw).digest()[:4]


def verifier_key(key_name: str, public_key: Ed25519PublicKey) -> str:
    """Return the signed-note verifier key text ``name+hex(key id)+base64(0x01 || key)``."""
    _check_key_name(key_name)
    encoded = base64.b64encode(_ED25519_TYPE + _raw_public(public_key)).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement "the log named ``origin`` had ``tree_size`` leaves and this root"."""

    origin: str
    tree_size: int
    root: bytes
    timestamp: datetime

    def body(self) -> bytes:
        """Return the exact UTF-8 bytes that are signed (four lines, see the module docstring)."""
        if (
            not self.origin
            or any(ch in self.origin for ch in "\n\r")
            or self.origin != (self.origin.strip())
        ):
            raise ValueError(
                f"Checkpoint origin {self.origin!r} must be non-empty, on one line, "
                "without leading or trailing spaces."
            )
        if isinstance(self.tree_size, bool) or not isinstance(self.tree_size, int):
            raise ValueError("Checkpoint tree size must be an integer.")
        if self.tree_size < 0:
            raise ValueError(f"Checkpoint tree size {self.tree_size} is negative.")
        if len(self.root) != 32:
            raise ValueError(f"Checkpoint root must be 32 bytes, not {len(self.root)}.")
        root = base64.b64encode(bytes(self.root)).decode("ascii")
        when = format_timestamp(self.timestamp)
        return f"{self.origin}\n{self.tree_size}\n{root}\ntime {when}\n".encode()


def sign_checkpoint(cp: Checkpoint, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """Return the full signed note text: body, blank line, one signature line."""
    _check_key_name(key_name)
    body = cp.body()
    signature = private_key.sign(body)
    blob = key_id(key_name, private_key.public_key()) + signature
    line = f"{SIGNATURE_PREFIX}{key_name} {base64.b64encode(blob).decode('ascii')}\n"
    return body.decode("utf-8") + "\n" + line


def _parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    # body ends with "\n", so split gives a trailing empty string.
    if len(lines) != 5 or lines[-1] != "":
        raise SignatureError(
            f"The checkpoint body has {len(lines) - 1} lines; expected exactly 4 "
            "(origin, tree size, root hash, time)."
        )
    origin, size_text, root_text, time_line, _ = lines
    if not origin or origin != origin.strip():
        raise SignatureError("The checkpoint origin line is empty or has surrounding spaces.")
    if not _SIZE_RE.fullmatch(size_text):
        raise SignatureError(f"The checkpoint tree size {size_text!r} is not a decimal number.")
    if not _BASE64_RE.fullmatch(root_text):
        raise SignatureError(f"The checkpoint root {root_text!r} is not standard base64.")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"The checkpoint root {root_text!r} is not valid base64.") from None
    if len(root) != 32 or base64.b64encode(root).decode("ascii") != root_text:
        raise SignatureError("The checkpoint root is not the base64 form of a 32-byte hash.")
    if not time_line.startswith("time "):
        raise SignatureError("The checkpoint's fourth line does not start with 'time '.")
    try:
        timestamp = parse_timestamp(time_line[len("time ") :])
    except ValueError as exc:
        raise SignatureError(f"The checkpoint time is malformed: {exc}") from None
    return Checkpoint(origin=origin, tree_size=int(size_text), root=root, timestamp=timestamp)


def _parse_note(text: str | bytes) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a signed note into (body, [(key name, key id, signature), ...])."""
    if isinstance(text, str):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise SignatureError("The signed checkpoint is not valid Unicode text.") from None
    else:
        data = bytes(text)
    if len(data) > _MAX_NOTE_BYTES:
        raise SignatureError("The signed checkpoint is larger than 1 MiB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("The signed checkpoint is not valid UTF-8.") from None
    if not text.endswith("\n"):
        raise SignatureError("The signed checkpoint does not end with a newline.")
    split = text.rfind("\n\n")
    if split < 0:
        raise SignatureError("The signed checkpoint has no blank line before its signatures.")
    body, sig_block = text[: split + 1], text[split + 2 :]
    signatures: list[tuple[str, bytes, bytes]] = []
    for line in sig_block.split("\n")[:-1]:
        if not line.startswith(SIGNATURE_PREFIX):
            raise SignatureError(
                f"The signature line {line!r} does not start with an em dash and a space."
            )
        parts = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise SignatureError(f"The signature line {line!r} is not '— <name> <signature>'.")
        name, encoded = parts
        if "+" in name or any(ch.isspace() for ch in name):
            raise SignatureError(f"The signature key name {name!r} contains a space or '+'.")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(f"The signature for key {name!r} is not valid base64.") from None
        if len(blob) < 5:
            raise SignatureError(f"The signature for key {name!r} is too short.")
        signatures.append((name, blob[:4], blob[4:]))
    if not signatures:
        raise SignatureError("The signed checkpoint has no signature lines.")
    if len(signatures) > _MAX_SIGNATURES:
        raise SignatureError("The signed checkpoint has more than 100 signatures.")
    return body, signatures


def parse_signed_checkpoint(text: str | bytes) -> tuple[Checkpoint, str, bytes, bytes]:
    """Parse (without verifying) a signed checkpoint; return its first signature's details.

    Returns ``(checkpoint, key_name, key_id, signature)``; raises :class:`SignatureError`
    naming the problem when the text is malformed.
    """
    body, signatures = _parse_note(text)
    name, kid, signature = signatures[0]
    return _parse_body(body), name, kid, signature


def verify_checkpoint(text: str | bytes, public_key: Ed25519PublicKey, key_name: str) -> Checkpoint:
    """Verify a signed checkpoint against a trusted key and return it.

    Raises :class:`SignatureError` with a sentence when the note is malformed, carries no
    signature by ``key_name`` with this key's id, or that signature does not verify.
    """
    body, signatures = _parse_note(text)
    expected_id = key_id(key_name, public_key)
    for name, kid, signature in signatures:
        if name != key_name or kid != expected_id:
            continue
        try:
            public_key.verify(signature, body.encode("utf-8"))
        except InvalidSignature:
            raise SignatureError(
                f"The checkpoint signature by key {key_name!r} is invalid: the checkpoint "
                "was altered or signed by a different key."
            ) from None
        return _parse_body(body)
    names = ", ".join(sorted({name for name, _, _ in signatures}))
    raise SignatureError(
        f"The checkpoint carries no signature by key {key_name!r} with this public key "
        f"(signed by: {names})."
    )


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Return the SubjectPublicKeyInfo PEM text of a key's public half."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from PEM; raise ValueError if it is not one."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The public key is not a valid PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"The public key is a {type(key).__name__}, not an Ed25519 key.")
    return key


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The signing key file {path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"The signing key file {path} holds a {type(key).__name__}, not Ed25519.")
    return key


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load an existing signing key; a missing file is an error naming the path."""
    if not path.exists():
        raise ValueError(
            f"The audit signing key {path} does not exist; run `bodycam init` to create it, "
            "or check BODYCAM_HOME (a new key cannot verify checkpoints signed by the old one)."
        )
    return _load_private(path)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some platforms cannot open directories
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the Ed25519 signing key at ``path``, creating it (mode 0600) if it is missing.

    Creation is atomic and never replaces an existing file: the key is written to a temporary
    file in the same folder, fsynced, then hard-linked into place (which fails if another
    process created the key first, in which case that key is loaded).
    """
    path = Path(path)
    if path.exists():
        return _load_private(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _load_private(path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return key

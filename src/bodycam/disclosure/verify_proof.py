#!/usr/bin/env python3
"""Check, without trusting the server, that one audit record is in a bodycam audit log.

Usage:
    python verify_proof.py PROOF.json --public-key KEY.pem [--key-name NAME]
                           [--previous-checkpoint OLD_CHECKPOINT.txt]

Needs only Python 3.11+ and the ``cryptography`` package. Exits 0 and prints a line
starting with "OK:" when every check passes; exits 1 with a sentence saying what failed.
"""

# -------------------------------------------------------------------------------------------
# What this script checks, and how (read this before trusting it).
#
# A bodycam server writes one audit record for every access to evidence. The records form an
# append-only log hashed into a Merkle tree exactly as in Certificate Transparency (RFC 6962,
# restated in RFC 9162 section 2.1). The server periodically signs a "checkpoint" stating the
# tree's size and root hash. The agency publishes the Ed25519 public key that signs them.
#
# The proof file (JSON, one object) holds:
#   format          "bodycam-audit-inclusion-proof/1"
#   record          the audit record (a JSON object)
#   leaf_hash       hex SHA-256(0x00 || canonical bytes of record)
#   leaf_index      position of the record in the log, counting from 0
#   tree_size       number of records in the log at the checkpoint
#   root_hash       hex root of that tree
#   inclusion_path  list of hex hashes: the RFC 6962 audit path, from the leaf upwards
#   checkpoint      the signed checkpoint text (see below)
#   consistency     null, or {"from_tree_size": m, "to_tree_size": n, "path": [hex, ...]}:
#                   an RFC 6962 consistency proof that the tree of size n extends the tree
#                   of size m (used with --previous-checkpoint)
#
# Canonical bytes of a record (what is hashed): JSON with no whitespace, object members
# sorted by key (keys compared as sequences of Unicode code points), strings written as
# themselves except '"' -> \", '\' -> \\, and the control characters U+0000..U+001F, of which
# \b \f \n \r \t use those short forms and the rest \u00xx (lowercase hex). Integers are plain
# decimal; true, false, null as usual; no floating-point numbers are allowed. The text is
# encoded as UTF-8. See canonical() below.
#
# Hashes: leaf = SHA-256(0x00 || canonical bytes), node = SHA-256(0x01 || left || right).
# A path is verified with the algorithm of RFC 9162 section 2.1.3.2 (see root_from_path()).
#
# The checkpoint is a C2SP "signed note" (the format of Go's sumdb/note, Sigstore, ...):
#     <origin>\n                 the log's name, e.g. bodycam.audit/<agency id>
#     <tree size>\n              decimal
#     <root hash>\n              standard base64 of the 32-byte root
#     time <RFC 3339 UTC>\n      e.g. time 2026-11-23T23:30:00.123456Z
#     \n                         a blank line
#     — <key name> <base64(key id || signature)>\n    (one line per signer; "—" is U+2014)
# The Ed25519 signature covers the four body lines, including the last newline. The 4-byte
# key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key).
#
# Checks, in order (the first failure is reported):
#   1. the file is well-formed JSON with every field of the right type;
#   2. the checkpoint carries a valid signature by the given public key;
#   3. the proof's tree_size and root_hash are the ones the checkpoint states;
#   4. the record hashes to leaf_hash;
#   5. the inclusion path leads from leaf_hash at leaf_index to the root;
#   6. with --previous-checkpoint (an older checkpoint you kept, signed by the same key):
#      the consistency proof shows the current log extends the old one (the log only grew).
# -------------------------------------------------------------------------------------------

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import sys
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the reader's machine
    sys.stderr.write("This verifier needs the 'cryptography' package: pip install cryptography\n")
    sys.exit(2)

FORMAT = "bodycam-audit-inclusion-proof/1"
EM_DASH = "\u2014 "


class Failure(Exception):
    """A check failed; the message is the sentence shown to the user."""


# --- canonical bytes and hashing ------------------------------------------------------------

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t"}  # fmt: skip


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _canonical_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_canonical_text(item) for item in value) + "]"
    if isinstance(value, dict):
        members = sorted(value.items())  # str order is Unicode code point order
        return "{" + ",".join(_string(k) + ":" + _canonical_text(v) for k, v in members) + "}"
    raise Failure(f"The record contains a value of type {type(value).__name__}, not allowed.")


def canonical(record: dict[str, Any]) -> bytes:
    """The exact bytes of a record that are hashed into the log."""
    try:
        return _canonical_text(record).encode("utf-8")
    except UnicodeEncodeError:
        raise Failure("The record contains a string that is not valid Unicode.") from None


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root an audit path leads to, or None if its shape is wrong."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None  # the path is longer than the tree is deep
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None  # sn != 0: the path is too short


def consistent(m: int, n: int, root_m: bytes, root_n: bytes, path: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does the tree (n, root_n) extend the tree (m, root_m)?"""
    if m == n:
        return not path and hmac.compare_digest(root_m, root_n)
    if m == 0:
        return not path and root_m == hashlib.sha256(b"").digest()
    if not 0 < m < n or not path:
        return False
    if m & (m - 1) == 0:
        path = [root_m, *path]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root_m and sr == root_n


# --- checkpoints ----------------------------------------------------------------------------


def key_id(name: str, key: Ed25519PublicKey) -> bytes:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + raw).digest()[:4]


def verify_checkpoint(text: str, key: Ed25519PublicKey, name: str | None) -> dict[str, Any]:
    """Check the signature on a checkpoint and return its fields plus the signer's key name."""
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise Failure("The checkpoint is malformed: no blank line before its signature.")
    body, signatures = text[: split + 1], text[split + 2 :].split("\n")[:-1]
    for line in signatures:
        parts = line[len(EM_DASH) :].split(" ")
        if not line.startswith(EM_DASH) or len(parts) != 2:
            raise Failure(f"The checkpoint has a malformed signature line: {line!r}.")
        signer, encoded = parts
        if name is not None and signer != name:
            continue
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise Failure(f"The checkpoint signature by {signer!r} is not valid base64.") from None
        if blob[:4] != key_id(signer, key):
            continue  # a signature by some other key: ignored, as the signed-note spec says
        try:
            key.verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise Failure(
                f"The checkpoint signature by {signer!r} is invalid: the checkpoint was "
                "altered after signing, or signed by a different key."
            ) from None
        return dict(_checkpoint_fields(body), key_name=signer)
    who = f"key name {name!r} and " if name is not None else ""
    raise Failure(
        f"The checkpoint signature is invalid: no signature by {who}the given public key "
        "(it was signed by a different key)."
    )


def _checkpoint_fields(body: str) -> dict[str, Any]:
    lines = body.split("\n")[:-1]
    if len(lines) != 4:
        raise Failure("The checkpoint is malformed: its body must have exactly 4 lines.")
    origin, size, root, when = lines
    time_ok = re.fullmatch(r"time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", when)
    if not re.fullmatch(r"0|[1-9][0-9]*", size) or not time_ok:
        raise Failure("The checkpoint is malformed: bad tree size or time line.")
    try:
        root_bytes = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        root_bytes = b""
    if len(root_bytes) != 32:
        raise Failure("The checkpoint is malformed: its root is not a base64 32-byte hash.")
    return {"origin": origin, "tree_size": int(size), "root": root_bytes, "time": when[5:]}


# --- the proof file -------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("an object has a duplicate key")
    return dict(pairs)


def _reject(text: str) -> Any:
    raise ValueError(f"number {text} is not allowed (no floats, NaN or Infinity)")


def _hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise Failure(f"The proof file is malformed: {what} is not a 64-digit lowercase hex hash.")
    return bytes.fromhex(value)


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Failure(f"The proof file is malformed: {what} is not a non-negative integer.")
    return value


def load_proof(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.loads(handle.read(), object_pairs_hook=_no_duplicates,
                             parse_float=_reject, parse_constant=_reject)  # fmt: skip
    except OSError as exc:
        raise Failure(f"Cannot read the proof file {path}: {exc.strerror}.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Failure(f"The proof file {path} is malformed JSON: {exc}.") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise Failure(f"The proof file is malformed JSON for this tool: format is not {FORMAT}.")
    if not isinstance(doc.get("record"), dict):
        raise Failure("The proof file is malformed: record is not a JSON object.")
    if not isinstance(doc.get("checkpoint"), str):
        raise Failure("The proof file is malformed: checkpoint is not a string.")
    if not isinstance(doc.get("inclusion_path"), list):
        raise Failure("The proof file is malformed: inclusion_path is not a list.")
    doc["leaf_index"] = _count(doc.get("leaf_index"), "leaf_index")
    doc["tree_size"] = _count(doc.get("tree_size"), "tree_size")
    doc["leaf_hash"] = _hash(doc.get("leaf_hash"), "leaf_hash")
    doc["root_hash"] = _hash(doc.get("root_hash"), "root_hash")
    doc["inclusion_path"] = [_hash(h, "an inclusion_path element") for h in doc["inclusion_path"]]
    return doc


def check_growth(doc: dict[str, Any], current: dict[str, Any], old: dict[str, Any]) -> str:
    """Check the log at the proof's checkpoint extends an older checkpoint; return a summary."""
    m, n = old["tree_size"], current["tree_size"]
    if old["origin"] != current["origin"]:
        raise Failure(f"The previous checkpoint is for another log ({old['origin']!r}).")
    if m > n:
        raise Failure(f"The log shrank: the previous checkpoint has {m} entries, now {n}.")
    path: list[bytes] = []
    if 0 < m < n:  # (from an empty tree, or to the same size, the proof is empty)
        section = doc.get("consistency")
        if not isinstance(section, dict) or section.get("from_tree_size") != m:
            raise Failure(f"The proof file has no consistency proof from tree size {m} to {n}.")
        if section.get("to_tree_size") != n or not isinstance(section.get("path"), list):
            raise Failure("The proof file is malformed: bad consistency section.")
        path = [_hash(h, "a consistency path element") for h in section["path"]]
    if not consistent(m, n, old["root"], current["root"], path):
        raise Failure(
            f"The consistency proof fails: the log of {n} entries does not extend the previous "
            f"checkpoint of {m} entries (earlier records were changed, removed or reordered)."
        )
    return f"the log only grew from {m} entries (checkpoint at {old['time']}) to {n}"


def verify(args: argparse.Namespace) -> str:
    doc = load_proof(args.proof)
    try:
        with open(args.public_key, "rb") as handle:
            key = serialization.load_pem_public_key(handle.read())
    except OSError as exc:
        raise Failure(f"Cannot read the public key {args.public_key}: {exc.strerror}.") from None
    except ValueError:
        raise Failure(f"The public key file {args.public_key} is not a PEM public key.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Failure(f"The public key in {args.public_key} is not an Ed25519 key.")

    cp = verify_checkpoint(doc["checkpoint"], key, args.key_name)
    if doc["tree_size"] != cp["tree_size"]:
        raise Failure(
            f"The proof's tree size ({doc['tree_size']}) differs from the tree size in the "
            f"signed checkpoint ({cp['tree_size']})."
        )
    if doc["root_hash"] != cp["root"]:
        raise Failure("The checkpoint root differs from the proof root.")
    if leaf_hash(canonical(doc["record"])) != doc["leaf_hash"]:
        raise Failure(
            "The record body does not hash to the leaf hash in the proof: the record was altered."
        )
    index, size = doc["leaf_index"], doc["tree_size"]
    if index >= size:
        raise Failure(f"The leaf index {index} is outside a tree of {size} entries.")
    computed = root_from_path(index, size, doc["leaf_hash"], doc["inclusion_path"])
    if computed is None or not hmac.compare_digest(computed, doc["root_hash"]):
        raise Failure(
            f"The inclusion proof path does not lead to the root: entry {index} of {size} "
            "is not this record, or the path was altered."
        )
    if args.previous_checkpoint:
        try:
            with open(args.previous_checkpoint, encoding="utf-8") as handle:
                old_text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise Failure(f"Cannot read the previous checkpoint: {exc}.") from None
        old = verify_checkpoint(old_text, key, cp["key_name"])
        print("OK: " + check_growth(doc, cp, old))
    elif doc.get("consistency") is not None:
        print("note: the proof carries a consistency proof; pass --previous-checkpoint to use it")
    record_id = doc["record"].get("id", "(no id)")
    return (
        f"OK: record {record_id} is entry {index} of {size} in the log signed by "
        f"{cp['key_name']} at {cp['time']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("proof", help="the proof JSON file")
    parser.add_argument("--public-key", required=True, help="the log's Ed25519 public key (PEM)")
    parser.add_argument("--key-name", help="the signer's key name (default: any, by key id)")
    parser.add_argument("--previous-checkpoint", help="an older signed checkpoint you kept")
    args = parser.parse_args(argv)
    try:
        print(verify(args))
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

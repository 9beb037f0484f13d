#!/usr/bin/env python3
"""Check, without trusting the agency's server, a bodycam release package.

Usage:
    python verify_release.py PACKAGE_FOLDER [--key TRUSTED_KEY.pem]

Needs only Python 3.11+ and the ``cryptography`` package. Exits 0 and prints a line
starting with "OK:" when every check passes; exits 1 and names every problem found.
"""

# -------------------------------------------------------------------------------------------
# What this script checks, and how (read this before trusting it).
#
# A release package is a folder:
#   manifest.json   what was released, as compact UTF-8 JSON (the exact bytes are signed)
#   manifest.sig    base64 of the Ed25519 signature of  CONTEXT || bytes of manifest.json
#   public-key.pem  the agency's Ed25519 public key (the one that signs its audit log)
#   ...             every other file, each listed in the manifest's "files"
#
# CONTEXT is b"bodycam release manifest\n" for a release ("format": "bodycam-release/1") and
# b"bodycam discovery bundle manifest\n" for a court discovery bundle
# ("format": "bodycam-discovery-bundle/1"): a signature made for one kind of document can
# never be passed off as another.
#
# Each entry of "files" has "name" (a relative path with "/" separators), "size" (bytes),
# "sha256" (hex of the whole file) and "chunk_size" with "chunks" (hex SHA-256 of each
# consecutive chunk_size bytes): when a file differs, the chunks say which bytes changed.
#
# Checks (every problem is reported, not only the first):
#   1. manifest.json, manifest.sig and public-key.pem are present and well formed;
#   2. the signature verifies with public-key.pem: manifest.json is what the agency signed;
#   3. with --key: public-key.pem is the key you trust (get it from the agency itself, e.g.
#      its web site's /api/v1/audit/public-key), and the signature verifies with it.
#      Without --key anyone could have made the package with a key of their own: compare
#      the key fingerprint printed with the one the agency publishes;
#   4. every listed file is present with the listed size and SHA-256;
#   5. no file is in the folder that the manifest does not list.
# -------------------------------------------------------------------------------------------

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the reader's machine
    sys.stderr.write("This verifier needs the 'cryptography' package: pip install cryptography\n")
    sys.exit(2)

RELEASE_FORMAT = "bodycam-release/1"
BUNDLE_FORMAT = "bodycam-discovery-bundle/1"
CONTEXTS = {
    RELEASE_FORMAT: b"bodycam release manifest\n",
    BUNDLE_FORMAT: b"bodycam discovery bundle manifest\n",
}
MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "public-key.pem"
FIXED = (MANIFEST, SIGNATURE, PUBLIC_KEY)
_READ = 1 << 20


@dataclass
class Report:
    """What a check found: problems (each a sentence), notes, and what was checked."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    fingerprint: str = ""
    """SHA-256 (hex) of the raw 32-byte public key in public-key.pem."""
    files: int = 0
    bytes: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of a public key's raw 32 bytes: compare it with the agency's."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_key(data: bytes, what: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes; ValueError with a sentence otherwise."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ValueError(f"{what} is not a PEM public key.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{what} is not an Ed25519 public key.")
    return key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("an object has a duplicate key")
    return dict(pairs)


def _reject(text: str) -> Any:
    raise ValueError(f"number {text} is not allowed")


def _safe_name(name: Any) -> PurePosixPath | None:
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        return None
    return path


def _span(index: int, chunk: int, size: int) -> str:
    start = index * chunk
    end = min(start + chunk, size) - 1
    return f"{start}-{end}"


def _check_file(folder: Path, entry: Any, report: Report) -> str | None:
    """Check one listed file; return its relative name (or None when the entry is bad)."""
    if not isinstance(entry, dict):
        report.problems.append("manifest.json lists a file entry that is not an object.")
        return None
    name = entry.get("name")
    rel = _safe_name(name)
    size, sha = entry.get("size"), entry.get("sha256")
    if rel is None:
        report.problems.append(f"manifest.json lists an unsafe or malformed file name {name!r}.")
        return None
    if isinstance(size, bool) or not isinstance(size, int) or not isinstance(sha, str):
        report.problems.append(f"manifest.json: the entry of {name} lacks its size or sha256.")
        return str(rel)
    path = folder.joinpath(*rel.parts)
    if not path.is_file() or path.is_symlink():
        report.problems.append(f"{name}: missing from the package (the manifest lists it).")
        return str(rel)
    chunk = entry.get("chunk_size")
    chunks = entry.get("chunks")
    use_chunks = (
        isinstance(chunk, int)
        and not isinstance(chunk, bool)
        and chunk > 0
        and isinstance(chunks, list)
    )
    whole = hashlib.sha256()
    changed: list[int] = []
    seen = 0
    index = 0
    with path.open("rb") as handle:
        while True:
            if use_chunks:
                assert isinstance(chunk, int)
                part = hashlib.sha256()
                got = 0
                while got < chunk:
                    data = handle.read(min(_READ, chunk - got))
                    if not data:
                        break
                    got += len(data)
                    part.update(data)
                    whole.update(data)
                if not got:
                    break
                assert isinstance(chunks, list)
                if index >= len(chunks) or chunks[index] != part.hexdigest():
                    changed.append(index)
                seen += got
                index += 1
            else:
                data = handle.read(_READ)
                if not data:
                    break
                whole.update(data)
                seen += len(data)
    report.files += 1
    report.bytes += seen
    if seen != size:
        report.problems.append(
            f"{name}: {seen} bytes, the manifest says {size} (bytes were added or cut)."
        )
    if whole.hexdigest() != sha:
        where = ""
        if use_chunks and changed and seen == size:
            assert isinstance(chunk, int)
            spans = ", ".join(_span(i, chunk, size) for i in changed[:5])
            more = f" and {len(changed) - 5} more ranges" if len(changed) > 5 else ""
            where = f"; changed bytes lie in {spans}{more}"
        report.problems.append(
            f"{name}: its SHA-256 is {whole.hexdigest()}, the manifest says {sha} "
            f"(the file was changed{where})."
        )
    return str(rel)


def _listed_everything(folder: Path, listed: set[str], report: Report) -> None:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            rel = Path(root, name).relative_to(folder).as_posix()
            if Path(root).name == "__pycache__" and name.endswith(".pyc"):
                continue  # Python's own cache of the verifier scripts, not content
            if rel not in listed and rel not in FIXED:
                report.problems.append(
                    f"{rel}: not part of the signed package (the manifest does not list it)."
                )


def check_package(
    folder: Path | str,
    *,
    expect_format: str = RELEASE_FORMAT,
    trusted_key: Ed25519PublicKey | None = None,
) -> Report:
    """Check a package folder; the report lists every problem (empty when it verifies)."""
    folder = Path(folder)
    report = Report()
    if not folder.is_dir():
        report.problems.append(f"{folder} is not a folder.")
        return report
    texts: dict[str, bytes] = {}
    for name in FIXED:
        try:
            texts[name] = (folder / name).read_bytes()
        except OSError:
            report.problems.append(f"{name} is missing: the package cannot be checked without it.")
    if report.problems:
        return report
    try:
        included = load_key(texts[PUBLIC_KEY], PUBLIC_KEY)
    except ValueError as exc:
        report.problems.append(str(exc))
        return report
    report.fingerprint = fingerprint(included)
    try:
        signature = base64.b64decode(texts[SIGNATURE].strip(), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    signed = CONTEXTS[expect_format] + texts[MANIFEST]
    keys = [("public-key.pem", included)]
    if trusted_key is not None:
        if fingerprint(trusted_key) != report.fingerprint:
            report.problems.append(
                f"public-key.pem is not the key you trust: its fingerprint is "
                f"{report.fingerprint}, yours is {fingerprint(trusted_key)}."
            )
        keys.append(("the key you trust", trusted_key))
    for what, key in keys:
        try:
            key.verify(signature, signed)
        except InvalidSignature:
            report.problems.append(
                f"manifest.sig does not verify with {what}: manifest.json or manifest.sig was "
                "changed after signing, or another key signed them."
            )
    try:
        manifest = json.loads(
            texts[MANIFEST].decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"manifest.json is not valid JSON: {exc}.")
        return report
    if not isinstance(manifest, dict) or manifest.get("format") != expect_format:
        report.problems.append(f"manifest.json is not a {expect_format} manifest.")
        return report
    report.manifest = manifest
    entries = manifest.get("files")
    if not isinstance(entries, list):
        report.problems.append("manifest.json has no list of files.")
        return report
    listed: set[str] = set()
    for entry in entries:
        checked = _check_file(folder, entry, report)
        if checked is not None:
            if checked in listed:
                report.problems.append(f"manifest.json lists {checked} twice.")
            listed.add(checked)
    _listed_everything(folder, listed, report)
    if trusted_key is None:
        report.notes.append(
            "the signature was checked with the key inside the package; compare its "
            f"fingerprint {report.fingerprint} with the agency's published key, or pass --key."
        )
    return report


def summary(report: Report) -> str:
    """The one-line verdict of a release check."""
    m = report.manifest or {}
    if not report.ok:
        return f"FAILED: {len(report.problems)} problem(s) found."
    return (
        f"OK: release of request {m.get('request')} by {m.get('agency')} on "
        f"{m.get('release_date')}: {report.files} files ({report.bytes} bytes) match the "
        f"manifest signed by key {report.fingerprint}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("package", help="the release package folder")
    parser.add_argument("--key", help="the agency's Ed25519 public key (PEM) that you trust")
    args = parser.parse_args(argv)
    trusted = None
    if args.key:
        try:
            trusted = load_key(Path(args.key).read_bytes(), args.key)
        except (OSError, ValueError) as exc:
            print(f"FAILED: cannot use the key {args.key}: {exc}", file=sys.stderr)
            return 1
    report = check_package(args.package, trusted_key=trusted)
    for line in report.problems:
        print(f"PROBLEM: {line}", file=sys.stderr)
    for line in report.notes:
        print(f"note: {line}", file=sys.stderr)
    print(summary(report), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

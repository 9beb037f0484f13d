#!/usr/bin/env python3
"""Check, without trusting the agency's server, a bodycam court discovery bundle.

Usage:
    python verify_bundle.py BUNDLE_FOLDER [--key TRUSTED_KEY.pem]

Needs only Python 3.11+ and the ``cryptography`` package, and the two scripts shipped
beside this one in the bundle: verify_release.py (hashes and the manifest signature) and
verify_proof.py (audit-log inclusion proofs). Exits 0 and prints a line starting with "OK:"
when every check passes; exits 1 and names every problem found.
"""

# -------------------------------------------------------------------------------------------
# What this script checks, and how.
#
# The bundle folder holds manifest.json (format "bodycam-discovery-bundle/1"), manifest.sig
# (Ed25519 over b"bodycam discovery bundle manifest\n" + the bytes of manifest.json) and
# public-key.pem; the recordings (recordings/), each one's full audit trail (trails/*.csv
# and trails/*.pdf), one inclusion proof per trail record (proofs/<recording>/<record>.json)
# and checkpoint.txt, the signed checkpoint of the agency's audit log every proof leads to.
#
#   1. everything verify_release.py checks: the manifest signature (with --key: by the key
#      you trust), every listed file's size and SHA-256, no unlisted file;
#   2. checkpoint.txt is signed by the same key and is the checkpoint the manifest names;
#   3. every proof is checked by verify_proof.py against that key, and leads to that very
#      checkpoint: the record is entry N of the agency's append-only audit log;
#   4. every line of each trail CSV has a proof of the same record with the same leaf hash
#      (records written after the checkpoint are listed in the manifest as unproven).
# -------------------------------------------------------------------------------------------

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # leave the bundle folder exactly as it came


def _sibling(name: str) -> ModuleType:
    """Load verify_release.py or verify_proof.py from this script's folder (never sys.path)."""
    loaded = sys.modules.get(f"_bodycam_{name}")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(f"_bodycam_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"{name}.py must lie beside verify_bundle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


release = _sibling("verify_release")
proofs = _sibling("verify_proof")
BUNDLE_FORMAT = release.BUNDLE_FORMAT


def _proof(path: Path, key_file: Path, checkpoint: str, name: str, report: Any) -> Any:
    """Check one proof file; return its document when it holds."""
    try:
        ok = proofs.verify(
            argparse.Namespace(
                proof=str(path), public_key=str(key_file), key_name=None, previous_checkpoint=None
            )
        )
    except proofs.Failure as failure:
        report.problems.append(f"{name}: {failure}")
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("checkpoint") != checkpoint:
        report.problems.append(f"{name}: leads to another checkpoint than checkpoint.txt.")
        return None
    return doc if ok.startswith("OK") else None


def _trail_lines(
    folder: Path, name: str, proven: dict[str, str], unproven: set[str], report: Any
) -> None:
    try:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        report.problems.append(f"{name}: cannot be read as CSV ({exc}).")
        return
    for line, row in enumerate(rows, 2):
        rid = row.get("record_id", "")
        if rid in unproven:
            continue
        if rid not in proven:
            report.problems.append(f"{name} line {line}: record {rid!r} has no valid proof.")
        elif row.get("leaf_hash") != proven[rid]:
            report.problems.append(
                f"{name} line {line}: record {rid} differs from the record its proof holds."
            )


def check_bundle(
    folder: Path | str, *, trusted_key: Any = None, key_file: Path | None = None
) -> Any:
    """Check a bundle folder; the report lists every problem (empty when it verifies)."""
    folder = Path(folder)
    report = release.check_package(folder, expect_format=BUNDLE_FORMAT, trusted_key=trusted_key)
    manifest = report.manifest
    if manifest is None:
        return report
    key_path = key_file or folder / release.PUBLIC_KEY
    cp_info = manifest.get("checkpoint") or {}
    try:
        checkpoint = (folder / str(cp_info.get("file", "checkpoint.txt"))).read_text("utf-8")
        key = release.load_key(key_path.read_bytes(), str(key_path))
        fields = proofs.verify_checkpoint(checkpoint, key, None)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        report.problems.append(f"checkpoint.txt cannot be checked: {exc}")
        return report
    except proofs.Failure as failure:
        report.problems.append(f"checkpoint.txt: {failure}")
        return report
    if fields["tree_size"] != cp_info.get("tree_size") or fields["root"].hex() != cp_info.get(
        "root_hash"
    ):
        report.problems.append("checkpoint.txt is not the checkpoint the manifest names.")
    count = 0
    for rec in manifest.get("recordings", []):
        proven: dict[str, str] = {}
        for name in rec.get("proofs", []):
            path = folder.joinpath(*str(name).split("/"))
            if not path.is_file():
                continue  # already reported as missing
            doc = _proof(path, key_path, checkpoint, name, report)
            if doc is not None:
                proven[str(doc["record"].get("id"))] = doc["leaf_hash"]
                count += 1
        unproven = set(rec.get("unproven", []))
        if (folder / str(rec.get("trail_csv", ""))).is_file():
            _trail_lines(folder, str(rec["trail_csv"]), proven, unproven, report)
    report.notes.append(
        f"{count} audit records proven to be in the log signed at {fields['time']} "
        f"({fields['tree_size']} entries)."
    )
    return report


def summary(report: Any) -> str:
    """The one-line verdict of a bundle check."""
    m = report.manifest or {}
    if not report.ok:
        return f"FAILED: {len(report.problems)} problem(s) found."
    return (
        f"OK: discovery bundle for case {m.get('case')} by {m.get('agency')}: "
        f"{len(m.get('recordings', []))} recordings, {report.files} files "
        f"({report.bytes} bytes) match the manifest signed by key {report.fingerprint}; "
        "every audit record is proven."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bundle", help="the bundle folder")
    parser.add_argument("--key", help="the agency's Ed25519 public key (PEM) that you trust")
    args = parser.parse_args(argv)
    trusted = key_file = None
    if args.key:
        key_file = Path(args.key)
        try:
            trusted = release.load_key(key_file.read_bytes(), args.key)
        except (OSError, ValueError) as exc:
            print(f"FAILED: cannot use the key {args.key}: {exc}", file=sys.stderr)
            return 1
    report = check_bundle(args.bundle, trusted_key=trusted, key_file=key_file)
    for line in report.problems:
        print(f"PROBLEM: {line}", file=sys.stderr)
    for line in report.notes:
        print(f"note: {line}", file=sys.stderr)
    print(summary(report), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Court discovery bundles: a case's real recordings (originals and an approved redacted
copy), their audit trails as CSV and PDF, inclusion proofs to a signed checkpoint, signed,
verified offline, tampered with, refused. Both engines."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.audit.signing import public_key_pem
from bodycam.auth.actor import PermissionDenied
from bodycam.disclosure import discovery, verify_bundle
from bodycam.disclosure.errors import DisclosureError
from bodycam.evidence import service as ev
from tests.disclosure.test_releases import (
    _only_cryptography,
    approved_copy,
    face_file,  # noqa: F401 - the session fixture, shared
    run_standalone,
)

CASE = "26-40001"
TOOLS = Path(__file__).resolve().parents[2] / "tools" / "verify_proof.py"


@pytest.fixture
def case(vault, dept, clips):
    """Two recordings of the case, viewed once (so their trails have several records)."""
    clerk = dept.actor("clerk")
    ids = [
        ev.ingest_file(vault, clerk, clips(n), officer_badge="1001", cases=[CASE]).id
        for n in (41, 42)
    ]
    ev.view(vault, dept.actor("auditor"), ids[0])
    ev.ingest_file(vault, clerk, clips(43), officer_badge="1002", cases=["26-99999"])
    return ids


def _check(folder: Path, key=None, key_file=None):
    return verify_bundle.check_bundle(folder, trusted_key=key, key_file=key_file)


def test_bundle_holds_originals_trails_and_proofs_that_verify(ctx, dept, case, tmp_path):
    auditor = dept.actor("auditor")
    bundle = discovery.build_bundle(ctx, auditor, CASE, tmp_path / "bundle")
    folder = bundle.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "bodycam-discovery-bundle/1" and manifest["case"] == CASE
    assert [r["recording_id"] for r in manifest["recordings"]] == case
    with ctx.sessions() as s:
        for entry in manifest["recordings"]:
            rec = s.get(ev.Recording, entry["recording_id"])
            assert entry["kind"] == "original" and entry["sha256"] == rec.sha256
            assert (folder / entry["file"]).read_bytes() == b"".join(
                ctx.store.iter_bytes(rec.sha256)
            )
            rows = list(csv.DictReader(io.StringIO((folder / entry["trail_csv"]).read_text())))
            actions = [r["action"] for r in rows]
            # The full trail, ending with this bundle's own making.
            assert actions[0] == "evidence:recording:ingest"
            assert actions[-1] == "disclosure:discovery:build"
            assert len(entry["proofs"]) == len(rows) == entry["records"]
            assert entry["unproven"] == []
            assert (folder / entry["trail_pdf"]).read_bytes()[:5] == b"%PDF-"
    assert "evidence:recording:view" in (folder / f"trails/{case[0]}.csv").read_text()
    assert bundle.proofs == sum(len(r["proofs"]) for r in manifest["recordings"])
    report = _check(folder, ctx.signer.public_key)
    assert report.ok, report.problems
    assert verify_bundle.summary(report).startswith(f"OK: discovery bundle for case {CASE}")
    # The proofs are the standard ones: the shipped verify_proof.py is tools/verify_proof.py.
    assert (folder / "verify_proof.py").read_bytes() == TOOLS.read_bytes()
    with ctx.sessions() as s:
        built = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:discovery:build")
        ).all()
    assert {r.object_id for r in built} == set(case)
    assert {r.details["bundle"] for r in built} == {bundle.bundle_id}


def test_derivatives_and_chosen_recordings(ctx, vault, dept, face_file, tmp_path):  # noqa: F811
    rec, copy = approved_copy(vault, dept, face_file)
    ev.edit(vault, dept.actor("clerk"), rec, {"cases": [CASE]})
    bundle = discovery.build_bundle(
        ctx, dept.actor("clerk"), CASE, tmp_path / "b", recording_ids=[rec], derivatives=True
    )
    manifest = json.loads((bundle.folder / "manifest.json").read_text())
    (entry,) = manifest["recordings"]
    assert entry["kind"] == "redacted" and entry["redacted_copy_id"] == copy
    assert entry["sha256"] != entry["original_sha256"]
    trail = (bundle.folder / entry["trail_csv"]).read_text()
    assert "redaction:copy:approve" in trail
    assert _check(bundle.folder, ctx.signer.public_key).ok


def test_tampering_fails_naming_what_changed(ctx, dept, case, tmp_path):
    built = discovery.build_bundle(ctx, dept.actor("clerk"), CASE, tmp_path / "orig").folder
    manifest = json.loads((built / "manifest.json").read_text())
    entry = manifest["recordings"][0]
    key = ctx.signer.public_key

    def fresh(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(built, folder)
        return folder

    # A changed video byte.
    folder = fresh("video")
    video = folder / entry["file"]
    data = bytearray(video.read_bytes())
    data[len(data) // 3] ^= 0x40
    video.write_bytes(bytes(data))
    problems = "\n".join(_check(folder, key).problems)
    assert f"{entry['file']}: its SHA-256 is" in problems
    # An edited CSV line (the actor of the first record).
    folder = fresh("csv")
    path = folder / entry["trail_csv"]
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace(",clerk,", ",someone.else,", 1)
    assert lines[1] != path.read_text().splitlines(keepends=True)[1]
    path.write_text("".join(lines))
    problems = "\n".join(_check(folder, key).problems)
    assert f"{entry['trail_csv']}: its SHA-256 is" in problems
    # An altered proof: the record inside it says someone else did it.
    folder = fresh("proof")
    name = entry["proofs"][0]
    doc = json.loads((folder / name).read_text())
    doc["record"]["actor"] = "someone.else"
    (folder / name).write_text(json.dumps(doc))
    problems = "\n".join(_check(folder, key).problems)
    assert f"{name}: The record body does not hash to the leaf hash" in problems
    assert f"{name}: its SHA-256 is" in problems
    # A proof removed with its manifest line edited out: the signature fails.
    folder = fresh("manifest")
    edited = json.loads((folder / "manifest.json").read_text())
    edited["recordings"][0]["proofs"] = edited["recordings"][0]["proofs"][1:]
    (folder / "manifest.json").write_text(json.dumps(edited))
    problems = "\n".join(_check(folder, key).problems)
    assert "manifest.sig does not verify" in problems
    # Against a key the verifier does not trust.
    folder = fresh("key")
    other = tmp_path / "other.pem"
    other_key = Ed25519PrivateKey.generate()
    other.write_text(public_key_pem(other_key))
    report = _check(folder, other_key.public_key(), other)
    assert any("not the key you trust" in p for p in report.problems)
    assert any("checkpoint.txt" in p for p in report.problems)


def test_standalone_bundle_verifier(ctx, dept, case, tmp_path):
    folder = discovery.build_bundle(ctx, dept.actor("auditor"), CASE, tmp_path / "b").folder
    key = tmp_path / "agency.pem"
    key.write_text(public_key_pem(ctx.signer.private_key))
    site = _only_cryptography(tmp_path)
    ok = run_standalone(folder / "verify_bundle.py", folder, site, "--key", str(key))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"OK: discovery bundle for case {CASE}")
    csv_path = next((folder / "trails").glob("*.csv"))
    csv_path.write_text(csv_path.read_text().replace("evidence:recording:ingest", "edited", 1))
    bad = run_standalone(folder / "verify_bundle.py", folder, site, "--key", str(key))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f"trails/{csv_path.name}: its SHA-256 is" in bad.stderr


def test_refusals(ctx, vault, dept, case, clips, tmp_path):
    for who in ("o1", "sgt_a", "admin", "external", "analyst"):
        with pytest.raises(PermissionDenied, match="disclosure:discovery:build"):
            discovery.build_bundle(ctx, dept.actor(who), CASE, tmp_path / who)
        assert not (tmp_path / who).exists()
    clerk = dept.actor("clerk")
    with pytest.raises(DisclosureError, match="No recording is tagged with case 26-0"):
        discovery.build_bundle(ctx, clerk, "26-0", tmp_path / "none")
    with pytest.raises(DisclosureError, match="is not in case"):
        discovery.build_bundle(ctx, clerk, CASE, tmp_path / "x", recording_ids=["NOPE"])
    with pytest.raises(DisclosureError, match="has no approved redacted copy"):
        discovery.build_bundle(ctx, clerk, CASE, tmp_path / "y", derivatives=True)
    # A confidential recording of the case: the clerk may not see it, so no incomplete bundle.
    ev.ingest_file(
        vault, clerk, clips(44), officer_badge="1001", category="Sexual Assault", cases=[CASE]
    )
    with pytest.raises(DisclosureError, match="1 recording\\(s\\) you may not see"):
        discovery.build_bundle(ctx, clerk, CASE, tmp_path / "z")
    assert discovery.build_bundle(ctx, dept.actor("auditor"), CASE, tmp_path / "ok").recordings == 3
    (tmp_path / "exists").mkdir()
    with pytest.raises(DisclosureError, match="already exists"):
        discovery.build_bundle(ctx, clerk, CASE, tmp_path / "exists")


def test_discovery_from_the_command_line(home, clips, tmp_path):
    for n in (45, 46):
        home("ingest", str(clips(n)), "--officer", "501", "--case", CASE, user="ofc")
    out = tmp_path / "bundle"
    made = json.loads(
        home("discovery", "bundle", "--case", CASE, "--out", str(out), "--json", user="aud").stdout
    )
    assert made["recordings"] == 2 and made["proofs"] == made["records"]
    key = tmp_path / "agency.pem"
    key.write_text(home("audit", "public-key").stdout)
    ok = home("discovery", "verify", str(out), "--key", str(key))
    assert ok.stdout.startswith(f"OK: discovery bundle for case {CASE}")
    proof = next((out / "proofs").rglob("*.json"))
    proof.write_text(proof.read_text().replace('"leaf_index": ', '"leaf_index": 1', 1))
    bad = home("discovery", "verify", str(out), check=1)
    assert proof.name in bad.stderr and "Traceback" not in bad.stderr
    refused = home(
        "discovery", "bundle", "--case", CASE, "--out", str(tmp_path / "n"), user="ofc", check=3
    )
    assert "disclosure:discovery:build" in refused.stderr


def test_standalone_runs_from_a_copied_folder(ctx, dept, case, tmp_path):
    """The scripts find their siblings by their own location, not the working folder."""
    folder = discovery.build_bundle(ctx, dept.actor("auditor"), CASE, tmp_path / "b").folder
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(folder, moved)
    p = subprocess.run(
        [sys.executable, "-I", str(moved / "verify_bundle.py"), str(moved)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "compare its fingerprint" in p.stderr

"""The command-line contract scripts depend on: exit codes, --json lines, sentences on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bodycam.synth.video import corrupt_variants
from tests.conftest import BODYCAM

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.both_engines  # the command line on PostgreSQL too, once
def test_init_and_users(home):
    p = home("init", "--admin", "boss")
    assert "bodycam ready" in p.stdout
    home("init", "--admin", "boss")  # idempotent
    home(
        "users", "add", "newbie", "--role", "officer", "--badge", "777", "--squad", "B", user="boss"
    )
    p = home("users", "add", "newbie", "--role", "officer", user="boss", check=1)
    assert "already exists" in p.stderr
    p = home("users", "add", "x1", "--role", "sheriff", user="boss", check=1)
    assert "Unknown role 'sheriff'" in p.stderr
    rows = [json.loads(x) for x in home("users", "list", "--json", user="boss").stdout.splitlines()]
    assert {
        "username": "newbie",
        "role": "officer",
        "badge": "777",
        "squad": "B",
        "active": True,
    } in rows


def test_ingest_json_lines_duplicates_and_errors(home, clips, tmp_path):
    good = clips(51)
    p = home(
        "ingest", str(good), "--officer", "501", "--json", "--category", "Uncategorized", user="ofc"
    )
    first = json.loads(p.stdout)
    assert set(first) >= {"id", "sha256", "duplicate"} and first["duplicate"] is False
    again = json.loads(home("ingest", str(good), "--officer", "501", "--json", user="ofc").stdout)
    assert again["duplicate"] is True and again["id"] == first["id"]
    bad = corrupt_variants(good, tmp_path / "bad")
    p = home(
        "ingest",
        str(bad["zero_bytes"]),
        str(bad["not_video"]),
        str(clips(52)),
        "--officer",
        "501",
        "--json",
        user="ofc",
        check=1,
    )
    assert len(p.stdout.strip().splitlines()) == 1  # the good one still went in
    errors = p.stderr.strip().splitlines()
    assert len(errors) == 2 and "Traceback" not in p.stderr
    assert any("is empty" in e for e in errors) and any("not a video" in e for e in errors)


def test_denied_commands_exit_3_with_a_sentence(home, clips):
    p = home("ingest", str(clips(53)), "--officer", "999", user="ofc", check=1)
    assert "No officer has badge 999." in p.stderr
    p = home("users", "add", "x", "--role", "officer", user="clerk", check=3)
    assert "may not create users" in p.stderr and "Traceback" not in p.stderr
    p = home("verify", user="ofc", check=3)
    p = home("recordings", "list", check=3)
    assert "--as NAME or BODYCAM_USER" in p.stderr
    p = home("--as", "nobody", "recordings", "list", check=3)


@pytest.mark.both_engines  # the command line on PostgreSQL too, once
def test_list_show_edit_download_verify_proof_export(home, clips, tmp_path):
    rid = json.loads(
        home("ingest", str(clips(54)), "--officer", "501", "--json", user="clerk").stdout
    )["id"]
    rows = [
        json.loads(x)
        for x in home("recordings", "list", "--json", user="clerk").stdout.splitlines()
    ]
    assert [r["id"] for r in rows] == [rid]
    home("recordings", "edit", rid, "--title", "Stop", "--tag", "dui", user="clerk")
    shown = json.loads(home("recordings", "show", rid, user="clerk").stdout)
    assert shown["title"] == "Stop" and shown["history"][0]["field"] == "title"
    out = tmp_path / "copy.mp4"
    home("recordings", "download", rid, str(out), user="clerk")
    assert out.read_bytes() == clips(54).read_bytes()
    home("recordings", "download", rid, str(tmp_path / "no.mp4"), user="ofc", check=3)
    ok = home("verify", user="aud")
    assert ok.stdout.startswith("OK:")
    trail = [json.loads(x) for x in home("audit", "trail", rid, user="aud").stdout.splitlines()]
    actions = [t["action"] for t in trail]
    assert (
        actions[:3]
        == ["evidence:recording:ingest", "evidence:recording:search", "evidence:recording:edit"]
        or "evidence:recording:ingest" in actions
    )
    home("audit", "proof", trail[0]["id"], "--out", str(tmp_path / "p.json"), user="aud")
    key = tmp_path / "k.pem"
    key.write_text(home("audit", "public-key").stdout)
    v = subprocess.run(
        [
            sys.executable,
            "-I",
            str(ROOT / "tools" / "verify_proof.py"),
            str(tmp_path / "p.json"),
            "--public-key",
            str(key),
        ],
        capture_output=True,
        text=True,
    )
    assert v.returncode == 0, v.stderr
    home("audit", "export", rid, "--format", "pdf", "--out", str(tmp_path / "t.pdf"), user="aud")
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")
    home("audit", "export", rid, "--format", "csv", "--out", str(tmp_path / "t.csv"), user="aud")
    assert "evidence:recording:download" in (tmp_path / "t.csv").read_text()
    home(
        "audit",
        "export",
        rid,
        "--format",
        "csv",
        "--out",
        str(tmp_path / "t2.csv"),
        user="clerk",
        check=3,
    )


def test_verify_names_a_changed_blob(home, clips, settings):
    sha = json.loads(
        home("ingest", str(clips(55)), "--officer", "501", "--json", user="ofc").stdout
    )["sha256"]
    blob = settings.resolved_home / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    p = home("verify", user="aud", check=1)
    assert "its blob has changed" in p.stderr and sha in p.stderr


def test_invalid_settings_are_one_sentence(home, tmp_path):
    import subprocess as sp

    env = os.environ | {"BODYCAM_HOME": str(tmp_path), "BODYCAM_ENV": "production"}
    p = sp.run([*BODYCAM, "init"], capture_output=True, text=True, env=env)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "BODYCAM_SECRET_KEY" in p.stderr


def test_verify_repair_leaves_young_temp_files_alone(home, settings):
    stray = settings.resolved_home / "blobs" / "tmp" / "put-crashed.part"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"half a video")
    p = home("verify", user="aud")
    assert "may belong to writes in progress" in p.stderr
    home("verify", "--repair", user="aud")
    assert stray.exists()  # an upload in progress is never removed
    p = home("verify", "--repair", "--repair-min-age", "0", user="aud")
    assert "Removed 1 temporary file" in p.stderr and not stray.exists()

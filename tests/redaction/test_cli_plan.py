"""`bodycam redact analyse | render | qc | bulk` as a person runs them: subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from .plans import pair_file


def bodycam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bodycam.cli", "redact", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_analyse_review_render_and_check(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = pair_file(tmp_path_factory)
    tracks, plan, thumbs = tmp_path / "tracks.json", tmp_path / "plan.json", tmp_path / "thumbs"
    done = bodycam(
        "analyse",
        str(source),
        "--out",
        str(tracks),
        "--plan",
        str(plan),
        "--thumbnails",
        str(thumbs),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Analysed pair.mp4: 30 frames, 2 tracks (60.0 per minute)")
    analysis = json.loads(tracks.read_text())
    assert [t["thumbnail"] for t in analysis["tracks"]] == ["track-1.jpg", "track-2.jpg"]
    assert (thumbs / "track-1.jpg").read_bytes()[:2] == b"\xff\xd8"

    # The reviewer keeps track 2 (the officer) visible.
    data = json.loads(plan.read_text())
    data["tracks"][1].update(include=False, reason="officer", note="Officer 4105")
    plan.write_text(json.dumps(data))

    out = tmp_path / "public.mp4"
    done = bodycam("render-file", str(source), str(out), "--plan", str(plan))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out}: 30 frames, 30 with redactions, audio copied")
    assert "plan sha256 " in done.stdout and "output sha256 " in done.stdout
    with av.open(str(out)) as check:
        assert check.streams.audio and "creation_time" not in check.metadata

    done = bodycam("qc", str(out), "--json")
    assert done.returncode == 1, done.stderr
    (finding,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert (finding["start_frame"], finding["end_frame"]) == (0, 29)
    first = data["tracks"][1]["boxes"][0]
    assert abs(finding["box"][0] - first[1]) < 30  # on the officer's face


def test_render_refuses_a_bad_plan_with_the_field_named(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        '{"format": "bodycam-redaction-plan", "version": 1, '
        '"audio": [{"start_ms": 1.5, "end_ms": 3, "mode": "mute", "reason": "other"}]}'
    )
    out = tmp_path / "out.mp4"
    done = bodycam("render-file", str(pair_file(tmp_path_factory)), str(out), "--plan", str(plan))
    assert done.returncode == 1
    assert done.stderr.strip() == "plan.json: audio[0].start_ms: must be an integer, not 1.5."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]
    done = bodycam("render-file", "in.mp4", str(out), "--plan", str(tmp_path / "none.json"))
    assert (done.returncode, done.stderr.strip()) == (1, "none.json does not exist.")


def test_bulk_then_qc_is_clean(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = tmp_path / "bulk.mp4"
    done = bodycam("bulk-file", str(pair_file(tmp_path_factory)), str(out), "--audio", "mute")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out}: 30 frames redacted whole, audio muted")
    done = bodycam("qc", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bulk.mp4: no face visible (threshold 0.1)."
    done = bodycam("bulk-file", "a.mp4", "b.mp4", "--audio", "keep")
    assert done.returncode == 2 and "keep" in done.stderr

"""`bodycam redact transcribe` and `bodycam redact suggest-audio` as a person runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bodycam.redaction.speech import WHISPER_TINY_EN_SHA256
from bodycam.redaction.transcript import Transcript
from tests.redaction.speech import SpokenClip, word_error_rate


def bodycam(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bodycam.cli", *args], capture_output=True, text=True, check=False
    )


def test_transcribe_prints_timestamps_and_writes_json(
    talk_clip: SpokenClip, talk_transcript: Transcript, tmp_path: Path
) -> None:
    saved = tmp_path / "talk.json"
    done = bodycam("redact", "transcribe", str(talk_clip.path), "--json", str(saved), "--words")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[00:0") and "] The " in lines[0]
    assert any(line.startswith("    00:") and "(p " in line for line in lines[1:])
    assert "x real time" in done.stderr and "whisper-tiny.en" in done.stderr
    again = Transcript.from_json(saved.read_text())
    assert again.model_sha256 == WHISPER_TINY_EN_SHA256
    assert word_error_rate(talk_transcript.text, again.text) <= 0.1  # same model, same audio
    # The saved transcript feeds suggest-audio without transcribing again.
    done = bodycam("redact", "suggest-audio", str(saved))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 suggestions; accepted, they bleep 0 ranges (0.0 s)."
    assert done.stderr == ""


def test_suggest_audio_prints_ranges_as_json(personal_clip: SpokenClip) -> None:
    done = bodycam("redact", "suggest-audio", str(personal_clip.path), "--json", "--mode", "mute")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    kinds = {s["entity"] for s in document["suggestions"]}
    assert {"PERSON", "PHONE_NUMBER", "DATE_OF_BIRTH", "STREET_ADDRESS"} <= kinds
    assert document["transcript"]["model_sha256"] == WHISPER_TINY_EN_SHA256
    assert len(document["ranges"]) == len(document["suggestions"])
    for r in document["ranges"]:
        assert r["mode"] == "mute" and r["reason"] == "personal_data"
        assert 0 <= r["start_ms"] < r["end_ms"] <= round(personal_clip.duration * 1000) + 1


def test_bad_input_and_options_are_one_sentence(tmp_path: Path) -> None:
    done = bodycam("redact", "transcribe", str(tmp_path / "none.mp4"))
    assert (done.returncode, done.stderr.strip()) == (1, "none.mp4 does not exist.")
    done = bodycam("redact", "transcribe", str(tmp_path / "none.mp4"), "--model", str(tmp_path))
    assert done.returncode == 1
    assert "is not a complete CTranslate2 Whisper model folder" in done.stderr
    bad = tmp_path / "notes.json"
    bad.write_text('{"format": "other"}')
    done = bodycam("redact", "suggest-audio", str(bad))
    assert done.returncode == 1 and "notes.json is not a transcript" in done.stderr
    done = bodycam("redact", "suggest-audio", str(bad), "--min-score", "2")
    assert done.returncode == 1 and "--min-score must be between 0 and 1" in done.stderr

"""Transcripts with word timestamps: data, JSON, phrase search and audio redaction ranges.

A `Transcript` is what `bodycam.redaction.speech.transcribe` returns: segments of words,
each word with its start and end in seconds (file time) and the model's probability,
plus the language and the model that wrote it (name and SHA-256 of its weights), so a
redaction plan can say exactly which transcript it was built from.

`search` finds phrases (case-insensitive, over consecutive words, ignoring punctuation;
a token ending in ``*`` matches any word starting with it). `word_ranges`,
`phrase_ranges` and `time_ranges` turn words, phrases or explicit times into
`AudioRedaction` values (start, end, mode ``mute`` or ``bleep``, reason code), padded a
little because word timestamps are approximate, clamped to the audio and merged. The
renderer applies them; nothing here touches audio samples.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal

__all__ = [
    "AUDIO_MODES",
    "DEFAULT_PADDING_S",
    "TRANSCRIPT_FORMAT",
    "AudioMode",
    "AudioRedaction",
    "Match",
    "Segment",
    "Transcript",
    "TranscriptFormatError",
    "Word",
    "merge_ranges",
    "phrase_ranges",
    "search",
    "time_ranges",
    "tokens",
    "word_ranges",
]

TRANSCRIPT_FORMAT: Final = "bodycam.transcript/1"
"""The `format` value of a transcript's JSON."""

DEFAULT_PADDING_S: Final = 0.15
"""Seconds added before and after a word's range: Whisper's word edges are approximate."""

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_QUERY_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*\*?|\*")


class TranscriptFormatError(ValueError):
    """A transcript JSON document is not one this version reads."""


@dataclass(frozen=True, slots=True)
class Word:
    """One word: its text as the model wrote it (leading space kept), times in seconds."""

    text: str
    start: float
    end: float
    probability: float

    def to_dict(self) -> dict[str, Any]:
        """The word as a JSON-ready dict."""
        return {"text": self.text, "start": self.start, "end": self.end, "p": self.probability}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        """A word from `to_dict`'s output."""
        return cls(str(data["text"]), float(data["start"]), float(data["end"]), float(data["p"]))


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech the model decoded at once: its times, text and words."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]

    def to_dict(self) -> dict[str, Any]:
        """The segment as a JSON-ready dict."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """A segment from `to_dict`'s output."""
        words = tuple(Word.from_dict(w) for w in data["words"])
        return cls(float(data["start"]), float(data["end"]), str(data["text"]), words)


@dataclass(frozen=True)
class Transcript:
    """The words spoken in one file, with the model that heard them."""

    segments: tuple[Segment, ...]
    language: str
    duration: float
    """Seconds of audio transcribed (the file's audio timeline, from 0)."""
    model: str
    """The model's name, e.g. ``whisper-tiny.en``, or its folder's name when configured."""
    model_sha256: str
    """SHA-256 of the model's weights (``model.bin``)."""
    engine: str = ""
    """The transcription software and settings, e.g. ``faster-whisper 1.2.1 int8``."""
    warnings: tuple[str, ...] = ()
    """Stretches of audio that could not be decoded (transcribed as silence)."""

    @cached_property
    def words(self) -> tuple[Word, ...]:
        """Every word in order; a word's index here is its index everywhere in this API."""
        return tuple(w for s in self.segments for w in s.words)

    @property
    def text(self) -> str:
        """The whole transcript as one string."""
        return "".join(w.text for w in self.words).strip()

    def to_dict(self) -> dict[str, Any]:
        """The transcript as a JSON-ready dict (`format` names this layout)."""
        return {
            "format": TRANSCRIPT_FORMAT,
            "language": self.language,
            "duration": self.duration,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "engine": self.engine,
            "warnings": list(self.warnings),
            "segments": [s.to_dict() for s in self.segments],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The transcript as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        """A transcript from `to_dict`'s output; refuses other layouts."""
        if not isinstance(data, dict) or data.get("format") != TRANSCRIPT_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise TranscriptFormatError(f"Not a {TRANSCRIPT_FORMAT} document (format {found!r}).")
        try:
            return cls(
                segments=tuple(Segment.from_dict(s) for s in data["segments"]),
                language=str(data["language"]),
                duration=float(data["duration"]),
                model=str(data["model"]),
                model_sha256=str(data["model_sha256"]),
                engine=str(data.get("engine", "")),
                warnings=tuple(str(w) for w in data.get("warnings", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TranscriptFormatError(
                f"A {TRANSCRIPT_FORMAT} document is damaged: {exc}."
            ) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Transcript:
        """A transcript from `to_json`'s output; refuses other layouts."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TranscriptFormatError(f"Not JSON: {exc}.") from None
        return cls.from_dict(data)


def tokens(text: str) -> list[str]:
    """The lower-case search tokens of a text (letters, digits, inner apostrophes)."""
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


@dataclass(frozen=True, slots=True)
class Match:
    """Where a phrase was found: words `first` to `last` (inclusive) and their times."""

    phrase: str
    first: int
    last: int
    start: float
    end: float
    text: str

    @property
    def word_indices(self) -> range:
        """The indices of the matched words."""
        return range(self.first, self.last + 1)


def _flat_tokens(words: Sequence[Word]) -> tuple[list[str], list[int]]:
    """Every word's tokens in order, and for each token the index of its word."""
    flat: list[str] = []
    owner: list[int] = []
    for i, word in enumerate(words):
        for token in tokens(word.text):
            flat.append(token)
            owner.append(i)
    return flat, owner


def _same(query: str, token: str) -> bool:
    if query == "*":
        return True
    if query.endswith("*"):
        return token.startswith(query[:-1])
    return token == query


def search(transcript: Transcript, phrase: str) -> list[Match]:
    """Every place `phrase` is spoken, in time order (case and punctuation ignored)."""
    query = _QUERY_TOKEN.findall(phrase.lower().replace("\u2019", "'"))
    if not query:
        return []
    words = transcript.words
    flat, owner = _flat_tokens(words)
    found: list[Match] = []
    n = len(query)
    i = 0
    while i + n <= len(flat):
        if all(_same(q, flat[i + k]) for k, q in enumerate(query)):
            first, last = owner[i], owner[i + n - 1]
            text = "".join(w.text for w in words[first : last + 1]).strip()
            said = words[first : last + 1]
            start, end = min(w.start for w in said), max(w.end for w in said)
            found.append(Match(phrase, first, last, start, end, text))
            i += n
        else:
            i += 1
    return found


AudioMode = Literal["mute", "bleep"]
"""How a range of audio is redacted: ``mute`` (silence) or ``bleep`` (a tone)."""

AUDIO_MODES: Final = ("mute", "bleep")


@dataclass(frozen=True, slots=True)
class AudioRedaction:
    """A stretch of audio to redact: seconds from the start of the file, mode, reason, note.

    The values are those of a redaction plan's audio range (`bodycam.redaction.plan`):
    `start_ms` / `end_ms` give whole milliseconds, widened outwards; `reason` is a plan
    reason code such as ``personal_data``; `note` says what was heard.
    """

    start: float
    end: float
    mode: AudioMode
    reason: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.mode not in AUDIO_MODES:
            raise ValueError(f"An audio range's mode is mute or bleep, not {self.mode!r}.")
        if not self.reason.strip():
            raise ValueError("An audio range needs a reason code.")
        if not 0.0 <= self.start < self.end:
            raise ValueError(
                f"An audio range needs 0 <= start < end, not {self.start}..{self.end}."
            )

    @property
    def seconds(self) -> float:
        """Length of the range in seconds."""
        return self.end - self.start

    @property
    def start_ms(self) -> int:
        """The start in whole milliseconds (rounded down)."""
        return math.floor(round(self.start * 1000, 6))

    @property
    def end_ms(self) -> int:
        """The end in whole milliseconds (rounded up)."""
        return math.ceil(round(self.end * 1000, 6))

    def to_dict(self) -> dict[str, Any]:
        """The range as a redaction plan's audio entry (integer milliseconds)."""
        return {
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "mode": self.mode,
            "reason": self.reason,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioRedaction:
        """A range from `to_dict`'s output (a plan's audio entry)."""
        mode = str(data["mode"])
        if mode not in AUDIO_MODES:
            raise ValueError(f"An audio range's mode is mute or bleep, not {mode!r}.")
        return cls(
            int(data["start_ms"]) / 1000,
            int(data["end_ms"]) / 1000,
            "mute" if mode == "mute" else "bleep",
            str(data["reason"]),
            str(data.get("note", "")),
        )


def _join_notes(a: str, b: str) -> str:
    notes = [n for n in (*a.split("; "), *b.split("; ")) if n]
    return "; ".join(dict.fromkeys(notes))


def merge_ranges(ranges: Iterable[AudioRedaction]) -> list[AudioRedaction]:
    """The ranges in time order, overlapping or touching ones of one mode and reason joined."""
    merged: list[AudioRedaction] = []
    for r in sorted(ranges, key=lambda r: (r.mode, r.reason, r.start, r.end)):
        last = merged[-1] if merged else None
        if last and (last.mode, last.reason) == (r.mode, r.reason) and r.start <= last.end:
            merged[-1] = AudioRedaction(
                last.start, max(last.end, r.end), r.mode, r.reason, _join_notes(last.note, r.note)
            )
        else:
            merged.append(r)
    return sorted(merged, key=lambda r: (r.start, r.end, r.mode, r.reason))


def _range(
    start: float,
    end: float,
    duration: float,
    *,
    mode: AudioMode,
    reason: str,
    note: str,
    padding: float,
) -> AudioRedaction | None:
    if padding < 0:
        raise ValueError(f"padding must not be negative, not {padding}.")
    lo = max(0.0, start - padding)
    hi = end + padding
    if duration > 0:
        hi = min(duration, hi)
    lo, hi = round(lo, 3), round(hi, 3)
    return AudioRedaction(lo, hi, mode, reason, note) if hi > lo else None


def word_ranges(
    transcript: Transcript,
    indices: Iterable[int],
    *,
    reason: str,
    mode: AudioMode = "bleep",
    note: str = "",
    padding: float = DEFAULT_PADDING_S,
) -> list[AudioRedaction]:
    """Ranges covering the words at `indices` (runs of adjacent words become one range)."""
    words = transcript.words
    picked = sorted(set(indices))
    for i in picked:
        if not 0 <= i < len(words):
            raise IndexError(f"There is no word {i} (the transcript has {len(words)}).")
    out: list[AudioRedaction] = []
    run: list[int] = []
    for i in [*picked, -2]:
        if run and i != run[-1] + 1:
            said = words[run[0] : run[-1] + 1]
            r = _range(
                min(w.start for w in said),
                max(w.end for w in said),
                transcript.duration,
                mode=mode,
                reason=reason,
                note=note,
                padding=padding,
            )
            if r is not None:
                out.append(r)
            run = []
        run.append(i)
    return merge_ranges(out)


def phrase_ranges(
    transcript: Transcript,
    phrases: Iterable[str],
    *,
    reason: str,
    mode: AudioMode = "bleep",
    padding: float = DEFAULT_PADDING_S,
) -> list[AudioRedaction]:
    """Ranges covering every occurrence of every phrase (the note quotes the phrase)."""
    out: list[AudioRedaction] = []
    for phrase in phrases:
        for m in search(transcript, phrase):
            out += word_ranges(
                transcript,
                m.word_indices,
                reason=reason,
                mode=mode,
                note=f'"{phrase}"',
                padding=padding,
            )
    return merge_ranges(out)


def time_ranges(
    spans: Iterable[tuple[float, float]],
    *,
    reason: str,
    duration: float = 0.0,
    mode: AudioMode = "mute",
    note: str = "",
    padding: float = 0.0,
) -> list[AudioRedaction]:
    """Ranges from explicit (start, end) seconds, clamped to `duration` when it is known."""
    out: list[AudioRedaction] = []
    for start, end in spans:
        if end <= start or start < 0:
            raise ValueError(f"A time range needs 0 <= start < end, not {start}..{end}.")
        r = _range(start, end, duration, mode=mode, reason=reason, note=note, padding=padding)
        if r is not None:
            out.append(r)
    return merge_ranges(out)

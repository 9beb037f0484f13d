"""Spoken personal data: suggestions on real speech, and the speech-aware finders on text."""

from __future__ import annotations

import pytest

from bodycam.redaction.pii import PII_REASON, PiiModelError, analyzer, suggest, suggestion_ranges
from bodycam.redaction.spoken import (
    dates_of_birth,
    digit_strings,
    spoken_digits,
    street_addresses,
)
from bodycam.redaction.transcript import Segment, Transcript, Word
from tests.redaction.speech import SpokenClip

SLACK_S = 0.3


def test_suggestions_on_speech_find_each_kind_where_it_was_said(
    personal_clip: SpokenClip, personal_transcript: Transcript
) -> None:
    found = suggest(personal_transcript)
    kinds = {s.entity: s for s in found}
    assert set(kinds) == {"PERSON", "PHONE_NUMBER", "DATE_OF_BIRTH", "STREET_ADDRESS"}, found
    assert kinds["PERSON"].text == "John Smith"
    where = {
        "PERSON": "my name is",
        "PHONE_NUMBER": "my phone number",
        "DATE_OF_BIRTH": "I was born",
        "STREET_ADDRESS": "I live at",
    }
    for kind, phrase in where.items():
        s = kinds[kind]
        start, end = personal_clip.part_of(phrase)
        assert start - SLACK_S <= s.start < s.end <= end + SLACK_S, (s, start, end)
        words = personal_transcript.words
        assert (s.start, s.end) == (words[s.first].start, words[s.last].end)
        assert s.score >= 0.5
    ranges = suggestion_ranges(personal_transcript, found, mode="mute")
    assert len(ranges) == 4
    assert {r.reason for r in ranges} == {PII_REASON}
    assert {r.note for r in ranges} == {k.lower() for k in kinds}
    for r in ranges:
        s = kinds[r.note.upper()]
        assert r.mode == "mute" and r.start < s.start and r.end > s.end


def test_no_suggestion_in_speech_without_personal_data(talk_transcript: Transcript) -> None:
    assert suggest(talk_transcript) == []


def test_the_analyzer_is_built_once() -> None:
    assert analyzer() is analyzer()


def spoken(text: str) -> Transcript:
    """A transcript of `text`, each word a third of a second (written, not heard)."""
    words = tuple(Word(f" {t}", i / 3, (i + 1) / 3, 0.9) for i, t in enumerate(text.split()))
    return Transcript((Segment(0.0, words[-1].end, text, words),), "en", words[-1].end, "t", "")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("my number is five five five one two one two", "five five five one two one two"),
        (
            "call oh two oh seven nine four six one two three",
            "oh two oh seven nine four six one two three",
        ),
        ("it is double five five, twelve twelve okay", "double five five, twelve twelve"),
        ("reach me at 555-867-5309 tonight", "555-867-5309"),
        ("the number is 5, 5, 5, 1, 2, 1, 2. Thanks", "5, 5, 5, 1, 2, 1, 2"),
    ],
)
def test_phone_numbers_said_digit_by_digit(text: str, number: str) -> None:
    (found,) = suggest(spoken(text))
    assert (found.entity, found.text) == ("PHONE_NUMBER", number)
    assert found.score >= 0.7
    words = text.split()
    first = words.index(number.split()[0])
    assert (found.first, found.last) == (first, first + len(number.split()) - 1)
    assert found.start == pytest.approx(first / 3)


@pytest.mark.parametrize(
    "text",
    [
        "The officer asked the driver to step out of the car.",
        "Oh, five people were there and three cars, two trucks.",
        "It was 1985 and we had 2 dogs.",
        "I have 1,234,567 reasons.",
        "We left on March 3 and came back on the 9th.",
    ],
)
def test_no_phone_number_where_none_was_said(text: str) -> None:
    assert digit_strings(text) == [] and spoken_digits(text) == []
    assert [s for s in suggest(spoken(text)) if s.entity == "PHONE_NUMBER"] == []


def test_other_digit_strings() -> None:
    (ssn,) = spoken_digits("social security number one two three four five six seven eight nine")
    assert ssn.entity == "US_SSN"
    (count,) = spoken_digits("we counted one two three four five")
    assert count.entity == "NUMBER_SEQUENCE" and count.score < 0.7


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("I was born on March third, nineteen eighty five.", "March third, nineteen eighty five"),
        ("I was born on March 3, 1985, in Ohio", "March 3, 1985"),
        (
            "date of birth the fourth of July two thousand and three",
            "the fourth of July two thousand and three",
        ),
        ("DOB 04/07/1999 okay", "04/07/1999"),
        ("March 3, 1985 is my birthday", "March 3, 1985"),
        ("she was born in twenty oh four", "born in twenty oh four"),
    ],
)
def test_dates_of_birth(text: str, date: str) -> None:
    (found,) = dates_of_birth(text)
    assert text[found.start : found.end] == date and found.score >= 0.85


def test_a_date_without_birth_nearby_scores_low() -> None:
    (found,) = dates_of_birth("The report was filed on March 3, 1985 downtown.")
    assert found.score < 0.5
    assert dates_of_birth("We met on March 3 downtown.") == []
    assert [s.entity for s in suggest(spoken("filed on March 3, 1985 downtown"))] == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I live at 1428 Elm Street.", "1428 Elm Street"),
        ("I live at 1,428 Elm Street.", "1,428 Elm Street"),
        ("she lives at twelve Oak Lane, apartment 4B, with", "twelve Oak Lane, apartment 4B"),
        ("units to 300 North Main St.", "300 North Main St"),
        ("He lives on Maple Avenue.", "Maple Avenue"),
    ],
)
def test_street_addresses(text: str, address: str) -> None:
    (found,) = street_addresses(text)
    assert text[found.start : found.end] == address and found.score >= 0.6


def test_not_an_address() -> None:
    assert [f.score for f in street_addresses("I walked down one long street.")] == [0.45]
    assert street_addresses("He crossed the street at 5 on the dot.") == []


def test_a_missing_language_model_is_refused_not_downloaded() -> None:
    with pytest.raises(PiiModelError, match="not installed"):
        suggest(spoken("my name is John Smith"), spacy_model="en_core_web_absent")

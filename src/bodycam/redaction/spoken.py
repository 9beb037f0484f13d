"""Spoken personal data in transcript text: digit strings, dates of birth, street addresses.

Speech is written down unlike typed text: a phone number is "five five five one two one
two", "oh" is a zero, "double five" is two fives, and Whisper may instead write "5-5-1-2"
or "555-1212". A date of birth is "March third, nineteen eighty five" or "March 3, 1985"
after "born" or "date of birth". These finders work on the plain text (character spans),
so they plug into presidio as recognizers (`bodycam.redaction.pii_recognizers`) and can be
tested alone. Scores follow presidio's scale (0 to 1); context words raise them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Found", "dates_of_birth", "digit_strings", "spoken_digits", "street_addresses"]

_UNITS: Final = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS: Final = (
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)  # fmt: skip
_TENS: Final = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINALS: Final = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth",
)  # fmt: skip
_MONTHS: Final = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sept", "sep", "oct", "nov", "dec",
)  # fmt: skip
_SUFFIXES: Final = (
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive",
    "dr", "court", "ct", "place", "pl", "way", "terrace", "parkway", "pkwy", "circle", "cir",
    "highway", "hwy", "alley", "square", "sq", "trail", "crescent", "plaza", "pike", "row",
)  # fmt: skip
_NOT_A_NAME: Final = (
    "the", "a", "an", "on", "in", "at", "of", "to", "and", "or", "my", "his", "her", "their",
    "our", "your", "is", "was", "down", "up", "this", "that", "for", "from", "with", "by",
    "near", "off", "into", "across", "along", "same", "other", "next", "one",
)  # fmt: skip

_DIGIT_WORDS: Final = {"zero": "0", "oh": "0", "o": "0", "niner": "9"} | {
    w: str(i) for i, w in enumerate(_UNITS, start=1)
}
_PAIR_WORDS: Final = {w: str(i) for i, w in enumerate(_TEENS, start=10)}
_TENS_WORDS: Final = {w: str(i) for i, w in zip(range(20, 100, 10), _TENS, strict=True)}
_REPEAT: Final = {"double": 2, "triple": 3}
_FILLERS: Final = frozenset({"dash", "hyphen"})
_NUMERAL = re.compile(r"\(?\d+\)?(?:[-.]\(?\d+\)?)*")
_CLOSING_QUOTES = "\"')\u201d\u2019"
_STRIP = ".,;:!?\"'()[]\u201c\u201d\u2018\u2019"
_PHONE_CONTEXT: Final = frozenset(
    {"phone", "number", "call", "cell", "cellphone", "telephone", "mobile", "reach", "text"}
    | {"contact", "dial", "digits"}
)
_SSN_CONTEXT: Final = frozenset({"social", "security", "ssn"})


@dataclass(frozen=True, slots=True)
class Found:
    """A span of text [start, end) that looks like personal data of kind `entity`."""

    start: int
    end: int
    entity: str
    score: float
    why: str


def _alt(words: tuple[str, ...] | list[str]) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


# -- digit strings -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    raw: str
    kind: str  # digit, oh, pair, tens, num, repeat, filler
    digits: str
    groups: int
    closes: bool  # ends a sentence


def _classify(start: int, raw: str) -> _Token | None:
    word = raw.strip(_STRIP).lower()
    closes = raw.rstrip(_CLOSING_QUOTES).endswith((".", "?", "!", ";"))
    lead = len(raw) - len(raw.lstrip(_STRIP + "-"))
    body_start, body_end = start + lead, start + lead + len(raw.strip(_STRIP + "-"))

    def token(kind: str, digits: str = "", groups: int = 1) -> _Token:
        return _Token(body_start, body_end, raw, kind, digits, groups, closes)

    if word.startswith("-") and word[1:].isdigit():
        word = word[1:]  # Whisper writes "5-5-1" as "5", "-5", "-1"
    if word in ("oh", "o"):
        return token("oh", "0")
    if word in _DIGIT_WORDS:
        return token("digit", _DIGIT_WORDS[word])
    if word in _PAIR_WORDS:
        return token("pair", _PAIR_WORDS[word])
    if word in _TENS_WORDS:
        return token("tens", _TENS_WORDS[word])
    head, _, tail = word.partition("-")
    if head in _TENS_WORDS and tail in _DIGIT_WORDS and tail not in ("oh", "o", "zero"):
        return token("pair", _TENS_WORDS[head][0] + _DIGIT_WORDS[tail])
    if word in _REPEAT:
        return token("repeat", str(_REPEAT[word]))
    if word in _FILLERS:
        return token("filler")
    if _NUMERAL.fullmatch(word):
        parts = [p for p in re.split(r"[^\d]+", word) if p]
        return token("num", "".join(parts), len(parts))
    return None


def _expand(run: list[_Token]) -> tuple[str, int, list[_Token]]:
    """The digits a run says, its number of spoken groups and the tokens that said them."""
    digits, groups, used = "", 0, []
    i = 0
    while i < len(run):
        tok = run[i]
        nxt = run[i + 1] if i + 1 < len(run) else None
        if tok.kind == "repeat":
            if nxt is not None and (
                nxt.kind in ("digit", "oh") or (nxt.kind == "num" and len(nxt.digits) == 1)
            ):
                digits += nxt.digits * int(tok.digits)
                groups += 1
                used += [tok, nxt]
                i += 2
                continue
        elif tok.kind == "tens" and nxt is not None and nxt.kind == "digit":
            digits += tok.digits[0] + nxt.digits
            groups += 1
            used += [tok, nxt]
            i += 2
            continue
        elif tok.kind != "filler":
            digits += tok.digits
            groups += tok.groups
            used.append(tok)
        i += 1
    return digits, groups, used


def _runs(text: str) -> list[list[_Token]]:
    runs: list[list[_Token]] = []
    current: list[_Token] = []
    for m in re.finditer(r"\S+", text):
        tok = _classify(m.start(), m.group())
        if tok is None:
            if current:
                runs.append(current)
            current = []
            continue
        if tok.kind == "oh" and not current and m.group()[-1] in ",!":
            continue  # "Oh," is an interjection, not a zero
        current.append(tok)
        if tok.closes:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _context(text: str, start: int, words: frozenset[str], reach: int = 6) -> bool:
    before = re.findall(r"[a-z]+", text[:start].lower())[-reach:]
    return any(w in words for w in before)


def digit_strings(text: str) -> list[tuple[int, int, str]]:
    """Spans of digits said one by one (or written in groups): (start, end, digits)."""
    found = []
    for run in _runs(text):
        while run and run[-1].kind in ("filler", "repeat"):
            run = run[:-1]
        digits, groups, used = _expand(run)
        # Said one by one (3+ groups), or written as a phone-length number without the
        # thousands commas Whisper puts in quantities ("5551212", "555-1212").
        grouped = groups >= 3 or (len(digits) >= 7 and all("," not in t.raw[:-1] for t in used))
        if len(digits) >= 5 and grouped:
            found.append((used[0].start, used[-1].end, digits))
    return found


def spoken_digits(text: str) -> list[Found]:
    """Phone numbers, social security numbers and other digit strings said digit by digit."""
    out = []
    for start, end, digits in digit_strings(text):
        n = len(digits)
        phone = _context(text, start, _PHONE_CONTEXT)
        if n == 9 and _context(text, start, _SSN_CONTEXT):
            out.append(Found(start, end, "US_SSN", 0.85, f"{n} digits after 'social'"))
        elif 7 <= n <= 11:
            score = 0.85 if phone else 0.7
            out.append(Found(start, end, "PHONE_NUMBER", score, f"{n} digits"))
        elif phone and n < 7:
            out.append(Found(start, end, "PHONE_NUMBER", 0.6, f"{n} digits after 'phone'"))
        else:
            out.append(Found(start, end, "NUMBER_SEQUENCE", 0.5, f"{n} digits"))
    return out


# -- dates of birth ----------------------------------------------------------------------

_U = _alt(list(_UNITS))
_TEEN = _alt(list(_TEENS))
_TEN = _alt(list(_TENS))
_ORD = rf"(?:(?:twenty|thirty)[\s-]+{_alt(list(_ORDINALS[:9]))}|{_alt(list(_ORDINALS))})"
_CARD_DAY = rf"(?:twenty(?:[\s-]+{_U})?|thirty(?:[\s-]+one)?|{_TEEN}|{_U})"
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORD}|{_CARD_DAY})"
_YEAR_WORDS = (
    rf"(?:(?:nineteen|twenty)[\s-]+(?:(?:oh|o)[\s-]+{_U}|{_TEN}(?:[\s-]+{_U})?|{_TEEN})"
    rf"|two[\s-]+thousand(?:[\s-]+and)?(?:[\s-]+(?:twenty(?:[\s-]+{_U})?|{_TEEN}|{_U}))?)"
)
_YEAR = rf"(?:(?:19|20)\d\d|'\d\d|{_YEAR_WORDS})"
_MONTH = _alt(list(_MONTHS)) + r"\.?"
_SEP = r"[\s,]+"
_DATE_FORMS = [
    re.compile(
        rf"\b{_MONTH}(?:{_SEP}the)?{_SEP}(?P<day>{_DAY})\b(?:(?:{_SEP}of)?{_SEP}(?P<year>{_YEAR})\b)?",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:the{_SEP})?(?P<day>{_DAY}){_SEP}of{_SEP}{_MONTH}(?:{_SEP}(?P<year>{_YEAR})\b)?",
        re.IGNORECASE,
    ),
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?P<year>\d{4}|\d{2})\b"),
    re.compile(rf"\b(?:born|birth)\s+in\s+(?P<year>{_YEAR})\b", re.IGNORECASE),
]
_DOB_BEFORE = re.compile(
    r"\b(?:born|birth|birthday|dob|d\.\s?o\.\s?b)\b|date\s+of\s+birth", re.IGNORECASE
)
_DOB_AFTER = re.compile(r"^[\s,]*(?:is\s+)?(?:my|his|her|their)?\s*birthday", re.IGNORECASE)


def dates_of_birth(text: str) -> list[Found]:
    """Dates said near "born", "birthday", "date of birth" or "DOB" (others score low)."""
    candidates = [m for form in _DATE_FORMS for m in form.finditer(text)]
    candidates.sort(key=lambda m: (m.start() - m.end(), m.start()))  # longest first
    out: list[Found] = []
    for m in candidates:
        start, end = m.span()
        if any(f.start < end and start < f.end for f in out):
            continue
        has_year = bool(m.groupdict().get("year"))
        near = bool(_DOB_BEFORE.search(text[max(0, start - 60) : start]))
        near = near or bool(_DOB_AFTER.match(text[end : end + 40]))
        near = near or bool(_DOB_BEFORE.match(m.group()))
        if near:
            score = 0.85 if has_year else 0.7
        elif has_year:
            score = 0.4
        else:
            continue
        why = "date after 'born' or 'birth'" if near else "a full date"
        out.append(Found(start, end, "DATE_OF_BIRTH", score, why))
    return sorted(out, key=lambda f: f.start)


# -- street addresses --------------------------------------------------------------------

_NUMBER_WORD = _alt([*_UNITS, *_TEENS, *_TENS, "zero", "oh", "hundred"])
_HOUSE = (
    rf"(?:\d{{1,3}},\d{{3}}|\d{{1,6}}[a-z]?(?:-\d{{1,4}})?"
    rf"|{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD}){{0,5}})"
)
_DIRECTION = r"(?:north|south|east|west|northeast|northwest|southeast|southwest|[nsew])\.?"
_NAME_WORD = rf"(?!{_alt(list(_NOT_A_NAME))}\b)(?:\d{{1,3}}(?:st|nd|rd|th)|[a-z][a-z'\u2019.-]*)"
_STREET = rf"(?:{_DIRECTION}\s+)?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}\s+{_alt(list(_SUFFIXES))}\b"
_UNIT = r"(?:,?\s+(?:apartment|apt|unit|suite|ste|number|no|\#)\.?\s*[a-z0-9-]{1,6}\b)?"
_ADDRESS = re.compile(rf"\b(?P<house>{_HOUSE})\s+{_STREET}{_UNIT}", re.IGNORECASE)
_LIVES_ON = re.compile(
    rf"\b(?:live|lives|living|lived|reside|resides|staying|stay)\s+(?:on|at|in)\s+"
    rf"(?P<street>{_STREET})",
    re.IGNORECASE,
)
_HOME_CONTEXT = re.compile(
    r"\b(?:live|lives|living|lived|address|reside|resides|residence|home|house|stay|staying)\b",
    re.IGNORECASE,
)


def street_addresses(text: str) -> list[Found]:
    """Street addresses ("1428 Elm Street", "twelve Oak Lane, apartment 4"), street names
    after "lives on" too."""
    out: list[Found] = []
    for m in _ADDRESS.finditer(text):
        start, end = m.span()
        numeric = m.group("house")[0].isdigit()
        home = bool(_HOME_CONTEXT.search(text[max(0, start - 40) : start]))
        score = (0.85 if home else 0.7) if numeric else (0.7 if home else 0.45)
        out.append(Found(start, end, "STREET_ADDRESS", score, "house number and street"))
    for m in _LIVES_ON.finditer(text):
        start, end = m.span("street")
        if not any(f.start <= start < f.end for f in out):
            out.append(Found(start, end, "STREET_ADDRESS", 0.6, "street after 'lives on'"))
    return sorted(out, key=lambda f: f.start)

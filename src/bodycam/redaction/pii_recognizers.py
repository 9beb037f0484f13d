"""presidio recognizers for spoken personal data, and the analyzer that runs them offline.

Imported only when suggestions are first asked for (`bodycam.redaction.pii.analyzer`):
presidio and spaCy take about a second to import and load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import spacy
import tldextract
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

from bodycam.redaction.spoken import Found, dates_of_birth, spoken_digits, street_addresses

__all__ = ["OfflineEmailRecognizer", "SpokenRecognizer", "build_analyzer"]

Finder = Callable[[str], list[Found]]

# The bundled Public Suffix List snapshot, never fetched: presidio's own email check calls
# tldextract's default extractor, which downloads the list on first use.
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's email recognizer, checking domains against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        """Whether the address ends in a known public suffix."""
        return bool(_SUFFIXES(pattern_text).fqdn)


class SpokenRecognizer(EntityRecognizer):
    """A presidio recognizer over one of the finders of `bodycam.redaction.spoken`."""

    def __init__(self, name: str, entities: list[str], finder: Finder) -> None:
        self.finder = finder
        self.label = name
        super().__init__(supported_entities=entities, name=name, supported_language="en")

    def load(self) -> None:
        """Nothing to load: the finders are regular expressions and word lists."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None
    ) -> list[RecognizerResult]:
        """The spans the finder reports for the requested entities."""
        return [
            RecognizerResult(
                f.entity,
                f.start,
                f.end,
                f.score,
                AnalysisExplanation(
                    recognizer=self.label, original_score=f.score, textual_explanation=f.why
                ),
                {
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for f in self.finder(text)
            if f.entity in entities
        ]


def build_analyzer(spacy_model: str) -> AnalyzerEngine:
    """An AnalyzerEngine on the installed spaCy model `spacy_model` (never downloaded)."""
    # spacy.load imports an installed package (or reads a folder); unlike presidio's own
    # loader it never falls back to downloading a model.
    nlp = spacy.load(spacy_model)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": spacy_model}])
    engine.nlp = {"en": nlp}  # type: ignore[assignment]  # presidio annotates it None
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_nlp_recognizer(nlp_engine=engine)
    for recognizer in (
        PhoneRecognizer(),
        UsSsnRecognizer(),
        CreditCardRecognizer(),
        OfflineEmailRecognizer(),
        SpokenRecognizer(
            "SpokenDigitsRecognizer",
            ["PHONE_NUMBER", "US_SSN", "NUMBER_SEQUENCE"],
            spoken_digits,
        ),
        SpokenRecognizer("DateOfBirthRecognizer", ["DATE_OF_BIRTH"], dates_of_birth),
        SpokenRecognizer("StreetAddressRecognizer", ["STREET_ADDRESS"], street_addresses),
    ):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

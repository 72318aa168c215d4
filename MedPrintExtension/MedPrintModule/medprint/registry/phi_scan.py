"""Scan free text for protected health information (HIPAA Safe Harbor identifiers).

Looks for names (honorifics, DICOM ``LAST^FIRST`` names, "patient X"), record numbers and other
IDs, dates (any element but a lone year), ages over 89, phone numbers, e-mail and web addresses,
IP addresses, social security numbers and DICOM UIDs, plus any identifier the caller knows
(e.g. the local patient's name parts). Each hit is a :class:`PhiSpan` with character offsets, so a
form can show the offending text. Heuristic by nature: it errs towards rejecting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from ..errors import InputError

_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?" \
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_PATTERNS: list[tuple[str, re.Pattern]] = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in [
    ("email address", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("web address", r"\b(?:https?://|www\.)\S+"),
    ("IP address", r"\b\d{1,3}(?:\.\d{1,3}){3}\b"),
    ("DICOM UID", r"\b\d+(?:\.\d+){3,}\b"),
    ("social security number", r"\b\d{3}-\d{2}-\d{4}\b"),
    ("phone number", r"(?<![\w-])(?:\+?\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b"),
    ("date", r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"),
    ("date", r"\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b"),
    ("date", rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"),
    ("date", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b\.?(?:,?\s+\d{{4}})?"),
    ("age over 89", r"\b(?:9\d|1[0-4]\d)[\s-]*(?:years?|yrs?|y/?o)\b(?:[\s-]*old)?"),
    ("age over 89", r"\baged?\s+(?:9\d|1[0-4]\d)\b"),
    ("identifier", r"\b(?:MRN|MR#|ID|acc(?:ession)?|DOB|SSN|account|acct)\b\s*(?:no\.?|number|#)?\s*[:#]?\s*"
                   r"[A-Za-z]*\d[\w-]*"),
    ("identifier", r"\b[A-Za-z]*[-#]?\d{5,}\w*\b"),
    ("identifier", r"\b[A-Za-z]{2,}[-_#]\d{3,}\b"),
]] + [(kind, re.compile(pattern)) for kind, pattern in [
    ("name", r"\b[A-Za-z][A-Za-z'-]*\^[A-Za-z'^-]*"),
    ("name", r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+[A-Z][A-Za-z'-]+"),
    ("name", r"\b(?:[Pp]atient|[Pp]t|[Nn]ame)\s*(?::|is|named|called)\s*[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?"),
]]

#: All patterns in two alternations (by case sensitivity): a quick test before the detailed scan.
_ANY = [re.compile("|".join(f"(?:{p.pattern})" for _, p in _PATTERNS if bool(p.flags & re.I) == ignore_case),
                   re.I if ignore_case else 0) for ignore_case in (True, False)]


@dataclass(frozen=True)
class PhiSpan:
    """A suspected identifier: ``text[start:end]`` looks like a ``kind``."""

    kind: str
    start: int
    end: int
    text: str

    def describe(self, field: str = "text") -> str:
        return f"{field}: characters {self.start}–{self.end} ('{self.text}') look like a {self.kind}"


class PhiError(InputError):
    """Free text or a payload holds what looks like protected health information."""

    def __init__(self, spans: list[tuple[str, PhiSpan]]):
        self.spans = spans
        super().__init__("The record holds what looks like patient-identifying information: "
                         + "; ".join(span.describe(field) for field, span in spans[:5]) + ".",
                         hint="remove names, IDs, dates (a year is fine), ages over 89, phone numbers and "
                              "addresses from the text")


def scan_text(text: str, known: Iterable[str] = ()) -> list[PhiSpan]:
    """All suspected identifiers in ``text``, by start offset; ``known`` adds exact strings to look for
    (case-insensitive; for DICOM names each ``^``-separated component of 3+ characters)."""
    spans = {}
    terms = _known_terms(known)
    if not terms and not any(p.search(text) for p in _ANY):
        return []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            spans.setdefault((m.start(), m.end()), PhiSpan(kind, m.start(), m.end(), m.group()))
    lowered = text.lower()
    for item in terms:
        for m in re.finditer(re.escape(item.lower()), lowered):
            spans.setdefault((m.start(), m.end()), PhiSpan("known identifier", m.start(), m.end(),
                                                           text[m.start():m.end()]))
    return sorted(spans.values(), key=lambda s: (s.start, -s.end))


def _known_terms(known: Iterable[str]) -> set[str]:
    terms = set()
    for item in known:
        item = (item or "").strip()
        if len(item) >= 3:
            terms.add(item)
        terms.update(part.strip() for part in re.split(r"[\^,\s]+", item) if len(part.strip()) >= 3)
    return terms


def iter_strings(data, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like structure, with its dotted path."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from iter_strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            yield from iter_strings(value, f"{path}[{i}]")


#: Fields whose values are fixed vocabulary or generated IDs, not free text.
_STRUCTURED = re.compile(r"^(schema_version|site|case_id|cpt\[\d+\]\.code|digital_model\.software)$")


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset:
    """Every fixed value of the record schema (enumerations such as "anatomic_model" or "60-69")."""
    from .schema import json_schema
    values = set()

    def walk(node):
        if isinstance(node, dict):
            values.update(v for v in node.get("enum", []) if isinstance(v, str))
            if isinstance(node.get("const"), str):
                values.add(node["const"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
    walk(json_schema())
    return frozenset(values)


def scan_payload(data: dict, known: Iterable[str] = ()) -> list[tuple[str, PhiSpan]]:
    """Suspected identifiers in every free-text string of a record's JSON (field path, span);
    generated IDs and the schema's fixed vocabulary are not free text."""
    known, vocabulary = list(known), _vocabulary()
    return [(path, span) for path, text in iter_strings(data)
            if not _STRUCTURED.match(path) and (known or text not in vocabulary)
            for span in scan_text(text, known)]


def require_clean(data: dict, known: Iterable[str] = ()) -> None:
    """Raise :class:`PhiError` naming every suspected identifier in ``data``."""
    hits = scan_payload(data, known)
    if hits:
        raise PhiError(hits)

"""PHI scan of free text: each identifier kind is found with its exact span; clinical text passes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medprint.registry.phi_scan import PhiError, require_clean, scan_payload, scan_text


@pytest.mark.parametrize("snippet, kind", [
    ("Dr. Okafor", "name"), ("Mrs Lindqvist", "name"), ("DOE^JANE", "name"), ("patient: Maria", "name"),
    ("MRN 4471982", "identifier"), ("ACC-20931", "identifier"), ("PHANTOM-0001", "identifier"),
    ("12/03/2024", "date"), ("2024-03-12", "date"), ("March 12, 2024", "date"), ("12th of March", "date"),
    ("20240312", "date"), ("93-year-old", "age over 89"), ("aged 97", "age over 89"),
    ("(617) 555-0143", "phone number"), ("+1 617 555 0143", "phone number"), ("jane.doe@example.org", "email address"),
    ("https://pacs.example.org/study/77", "web address"), ("10.20.30.40", "IP address"),
    ("123-45-6789", "social security number"), ("1.2.840.113619.2.55.3", "DICOM UID"),
])
def test_each_identifier_kind_is_found_with_its_span(snippet, kind):
    text = f"Planning model for resection, {snippet}, left side."
    spans = scan_text(text)
    start = text.index(snippet)
    assert any(s.kind == kind and s.start <= start and s.end >= start + len(snippet) - 1 for s in spans), spans
    covering = [s for s in spans if s.start <= start < s.end]
    assert covering and all(text[s.start:s.end] == s.text for s in covering)


@pytest.mark.parametrize("text", [
    "Left acetabular dysplasia; periacetabular osteotomy planned. Model of pelvis and femur.",
    "Tetralogy of Fallot, VSD and overriding aorta, 2025 follow-up; 3 parts at 1:1 scale.",
    "L4-L5 spondylolisthesis, pedicle screw trajectory guide, C1-C2 not involved, 82 years old.",
    "Renal mass 4.2 cm, partial nephrectomy; kidney, tumour, artery, vein and collecting system.",
])
def test_clinical_text_passes(text):
    assert scan_text(text) == []


def test_known_identifiers_are_found_case_insensitively():
    spans = scan_text("model requested for phantom medprint", known=["PHANTOM^MEDPRINT"])
    assert [s.text for s in spans] == ["phantom", "medprint"]


def test_payload_scan_names_the_field_and_skips_generated_ids():
    payload = {"case_id": "c-0123456789abcdef01234567", "site": "site-a",
               "imaging": {"indication_text": "seen 03/04/2025"}, "physical_models": [{"material": "Mr Smith"}]}
    hits = scan_payload(payload)
    assert [(path, s.text) for path, s in hits] == [("imaging.indication_text", "03/04/2025"),
                                                    ("physical_models[0].material", "Mr Smith")]
    with pytest.raises(PhiError, match=r"imaging.indication_text: characters 5–15 \('03/04/2025'\) look like a date"):
        require_clean(payload)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=__import__("datetime").date(1900, 1, 1)),
       style=st.sampled_from(["%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y%m%d", "%B %d, %Y", "%d %b %Y"]),
       words=st.lists(st.sampled_from(["femur", "model", "left", "guide", "scan", "planned"]), max_size=4))
def test_any_written_date_is_found(day, style, words):
    written = day.strftime(style)
    text = " ".join(words + [written] + words)
    start = text.index(written)
    assert any(s.start <= start and s.end >= start + len(written) - 5 for s in scan_text(text)), written

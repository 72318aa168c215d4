"""FHIR R4 export of a case record: CPT-coded procedures with units, devices, times, assessment."""

from __future__ import annotations

import json

from registry_records import make_record

from medprint.registry.fhir import CPT_SYSTEM, to_bundle


def test_bundle_holds_coded_procedures_devices_times_and_assessment():
    record = make_record("site-a", parts=5)
    bundle = to_bundle(record)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    resources = [e["resource"] for e in bundle["entry"]]
    kinds = [r["resourceType"] for r in resources]
    assert kinds.count("Patient") == 1 and kinds.count("Procedure") == 2 and kinds.count("ChargeItem") == 2
    assert kinds.count("Device") == 1 and kinds.count("QuestionnaireResponse") == 1
    charges = {r["code"]["coding"][0]["code"]: r["quantity"]["value"] for r in resources if r["resourceType"] == "ChargeItem"}
    assert charges == {"0559T": 1, "0560T": 4}
    assert all(r["code"]["coding"][0]["system"] == CPT_SYSTEM for r in resources if r["resourceType"] == "Procedure")
    minutes = sorted(r["valueQuantity"]["value"] for r in resources if r["resourceType"] == "Observation")
    assert minutes == [20, 90, 420]  # segmentation (clinician, non-clinician) and the print
    assert all(r["valueQuantity"]["code"] == "min" for r in resources if r["resourceType"] == "Observation")
    device = next(r for r in resources if r["resourceType"] == "Device")
    assert device["manufacturer"] == "Formlabs" and device["modelNumber"] == "Form 3B"
    answers = {i["linkId"]: i["answer"][0] for i in next(r for r in resources
                                                          if r["resourceType"] == "QuestionnaireResponse")["item"]}
    assert answers["usefulness"] == {"valueInteger": 5} and answers["plan_changed"] == {"valueString": "yes"}
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert len(urls) == len(bundle["entry"]) and all(u.startswith("urn:uuid:") for u in urls)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert set(patient) == {"resourceType", "gender", "extension"}
    assert to_bundle(record) == bundle  # stable identifiers
    dates = [r.get("performedDateTime") or r.get("effectiveDateTime") for r in resources
             if r["resourceType"] in ("Procedure", "Observation")]
    assert dates == ["2025"] * 5  # the year only
    assert "birthDate" not in json.dumps(bundle) and "identifier" not in json.dumps(bundle)

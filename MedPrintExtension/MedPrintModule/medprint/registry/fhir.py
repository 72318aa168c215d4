"""A case record as a FHIR R4 ``Bundle`` (type ``collection``), as de-identified as the record.

Patient: gender only (age band as an extension, no name, identifier or birth date). One
``Procedure`` per CPT code (system ``http://www.ama-assn.org/go/cpt``) and a ``ChargeItem`` carrying
its units; one ``Device`` per printed model (technology, material, scale, printer); an
``Observation`` per reported effort time (UCUM ``min``); the clinician's assessment as a
``QuestionnaireResponse``. Dates are the year only (FHIR allows "2025" as a dateTime). Resources
link by ``urn:uuid`` full URLs derived from the case ID.
"""

from __future__ import annotations

import uuid

from .schema import UNKNOWN, CaseRecord

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
EXT_AGE_BAND = "https://medprint.invalid/fhir/StructureDefinition/age-band"
QUESTIONNAIRE = "https://medprint.invalid/fhir/Questionnaire/3dp-user-assessment|1"
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def to_bundle(record: CaseRecord) -> dict:
    """The FHIR R4 collection Bundle of ``record``."""
    base = uuid.uuid5(uuid.NAMESPACE_URL, f"medprint-registry:{record.case_id}")

    def ref(name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(base, name)}"

    entries = []

    def add(name: str, resource: dict) -> str:
        url = ref(name)
        entries.append({"fullUrl": url, "resource": resource})
        return url

    patient = add("patient", {"resourceType": "Patient", "gender": _GENDER[record.patient.sex],
                              "extension": [{"url": EXT_AGE_BAND, "valueString": record.patient.age_band}]})
    subject = {"reference": patient}
    year = str(record.procedure_year)
    for line in record.cpt:
        coding = {"system": CPT_SYSTEM, "code": line.code}
        procedure = add(f"procedure-{line.code}", {
            "resourceType": "Procedure", "status": "completed", "subject": subject, "performedDateTime": year,
            "code": {"coding": [coding]}, "category": {"text": record.digital_model.object_type.replace("_", " ")}})
        add(f"charge-{line.code}", {"resourceType": "ChargeItem", "status": "billable", "subject": subject,
                                    "code": {"coding": [coding]}, "quantity": {"value": line.units},
                                    "service": [{"reference": procedure}]})
    for i, model in enumerate(record.physical_models):
        properties = [{"type": {"text": "technology"}, "valueCode": [{"text": model.technology}]},
                      {"type": {"text": "material"}, "valueCode": [{"text": model.material}]},
                      {"type": {"text": "scale"}, "valueQuantity": [{"value": model.scale, "unit": "1"}]},
                      {"type": {"text": "parts"}, "valueQuantity": [{"value": len(model.parts)}]}]
        device = {"resourceType": "Device", "status": "active", "patient": subject,
                  "type": {"text": f"3D-printed {record.digital_model.object_type.replace('_', ' ')}"},
                  "manufacturer": model.printer_make, "modelNumber": model.printer_model,
                  "deviceName": [{"name": f"printed model {i + 1}", "type": "user-friendly-name"}],
                  "property": properties}
        add(f"device-{i}", device)
        if model.print_minutes != UNKNOWN:
            add(f"print-time-{i}", _minutes("printer run time", model.print_minutes, subject, year))
    for bucket in ("consultation", "segmentation", "cad", "post_processing"):
        for staff in ("clinician", "non_clinician"):
            minutes = getattr(getattr(record.effort, bucket), staff)
            if minutes != UNKNOWN:
                add(f"effort-{bucket}-{staff}",
                    _minutes(f"{bucket.replace('_', '-')} time, {staff.replace('_', '-')} staff", minutes, subject, year))
    a = record.assessment
    items = [(name, getattr(a, name)) for name in ("usefulness", "confidence_before", "confidence_after",
                                                   "plan_changed", "minutes_saved_estimate")]
    add("assessment", {"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": QUESTIONNAIRE,
                       "subject": subject, "item": [_answer(name, value) for name, value in items if value != UNKNOWN]})
    return {"resourceType": "Bundle", "type": "collection", "id": record.case_id, "entry": entries}


def _minutes(text: str, minutes: int, subject: dict, year: str) -> dict:
    return {"resourceType": "Observation", "status": "final", "subject": subject, "effectiveDateTime": year,
            "code": {"text": text},
            "valueQuantity": {"value": minutes, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min"}}


def _answer(link_id: str, value) -> dict:
    answer = {"valueString": value} if isinstance(value, str) else {"valueInteger": value}
    return {"linkId": link_id, "answer": [answer]}

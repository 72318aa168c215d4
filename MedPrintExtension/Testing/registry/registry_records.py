"""Valid case records for the registry tests and benchmark."""

from __future__ import annotations

from medprint.registry.cpt import suggest_codes
from medprint.registry.deid import new_case_id
from medprint.registry.schema import (AnatomicPart, Assessment, CaseRecord, DigitalModel, Effort, Imaging, Patient,
                                      PhysicalModel, SourceImaging, StaffMinutes)


def make_record(site: str, parts: int = 2, object_type: str = "anatomic_model", **changes) -> CaseRecord:
    """A complete, valid record: ``parts`` components, one print, times and an assessment."""
    anatomy = [AnatomicPart(region="Abdomen", structure=s, laterality="left") for s in
               ("Kidney", "Tumor", "Renal artery", "Renal vein", "Collecting system", "Ureter")[:parts]]
    model = DigitalModel(object_type=object_type, purpose="surgical_planning", parts=anatomy,
                         **({"guide_type": "cutting", "guide_count": 1} if object_type == "anatomic_guide" else {}))
    record = CaseRecord(
        site=site, case_id=new_case_id(), procedure_year=2025,
        patient=Patient(age_band="60-69", sex="female"),
        imaging=Imaging(indication_category="genitourinary", indication_text="renal mass, partial nephrectomy planned",
                        source_imaging=[SourceImaging(modality="CT", slice_thickness_mm=0.625)]),
        digital_model=model,
        physical_models=[PhysicalModel(printer_make="Formlabs", printer_model="Form 3B",
                                       technology="vat_photopolymerisation", material="Clear resin",
                                       parts=list(range(parts)), print_minutes=420)],
        effort=Effort(segmentation=StaffMinutes(clinician=20, non_clinician=90), printer_run_minutes=420),
        assessment=Assessment(usefulness=5, confidence_before=3, confidence_after=5, plan_changed="yes",
                              minutes_saved_estimate=30))
    data = record.model_dump()
    data["cpt"] = [c.model_dump() for c in suggest_codes(record)]
    for key, value in changes.items():
        data[key] = value
    return CaseRecord.model_validate(data)

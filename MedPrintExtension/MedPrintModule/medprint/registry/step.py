"""The workflow's "register" step: build the case's de-identified records (one per kind of printed
object: anatomic model, and anatomic guide when the guide step is done), suggest CPT codes,
PHI-check them, store them in the local outbox and send them only if a registry is configured.

The clinician's answers (patient band, indication, anatomy, printing, effort, assessment, codes) come
from ``<case>/registry/answers.json`` (:mod:`.answers`, the Slicer module's Register form); each
record is also written to ``<case>/registry/<object type>.json``.
Without a configured registry nothing touches the network; with one, one bounded attempt per
record is made (3 s to connect, 5 s to answer) and a failure leaves it queued for ``flush``.
Records of the built-in demo CT are not patient cases: they go to an outbox in the case folder
(``registry/demo-outbox.sqlite3``) and are never sent, so a demo never reaches a real registry.
"""

from __future__ import annotations

import json
from datetime import date

from .. import __version__
from ..progress import Progress
from ..workflow import Case, is_demo_case, save_case
from .answers import Answers, load_answers
from .client import RegistryClient
from .config import UNASSIGNED_SITE, load_config, outbox_path
from .cpt import check_codes, suggest_codes
from .deid import records_from_case
from .outbox import Outbox
from .phi_scan import scan_payload
from .schema import CaseRecord
from .submit import PAYER, check_record, submit_record

RECORD_FOLDER = "registry"
DEMO_OUTBOX = "demo-outbox.sqlite3"
DEMO_STATUS = "demo data: kept in the case folder, never sent"


def case_records(case, answers: Answers, site: str = UNASSIGNED_SITE) -> list[CaseRecord]:
    """The case's records with the clinician's ``answers`` and CPT codes (the answers' codes for an
    object type, else the suggested ones); the registry case IDs of an earlier run are kept."""
    earlier = case.results.get("register", {}).get("records", [])
    case_ids = {r["object_type"]: r["case_id"] for r in earlier}
    drafts = records_from_case(case, site=site, case_ids=case_ids, year=date.today().year,
                               software=f"MedPrint {__version__}", answers=answers)
    records = []
    for draft in drafts:
        kind = draft.digital_model.object_type
        lines = answers.cpt[kind] if kind in answers.cpt else suggest_codes(draft)
        records.append(CaseRecord.model_validate({**draft.model_dump(), "cpt": [c.model_dump() for c in lines]}))
    return records


def review_case(case, answers: Answers, payer: str = PAYER) -> list[tuple[str, str]]:
    """What submitting the case with ``answers`` would meet, without storing anything: per record the
    codes claimed and suggested ("info"), the CPT rules' findings ("error" refuses, "warning" shows)
    and every suspected identifier in its text ("error", field and characters named)."""
    notes = []
    for record in case_records(case, answers):
        kind = record.digital_model.object_type.replace("_", " ")
        suggested = _codes([c.model_dump() for c in suggest_codes(record)])
        notes.append(("info", f"{kind}: {_codes([c.model_dump() for c in record.cpt])} claimed "
                              f"(the case supports {suggested})"))
        notes += [(f.level, f"{kind}: {f.message}") for f in check_codes(record, payer=payer)]
        notes += [("error", f"{kind}: {span.describe(field)}")
                  for field, span in scan_payload(record.model_dump(mode="json"))]
    return notes


def run_register(case: Case, progress: Progress) -> str:
    """Runner of the "register" step (see :data:`medprint.workflow.STEP_RUNNERS`): the records from the
    case and the answers saved in it (:func:`.answers.load_answers`), every one checked (codes, PHI)
    before any is stored."""
    progress(0.0, "building the case records")
    demo = is_demo_case(case)
    config = None if demo else load_config()
    records = case_records(case, load_answers(case), config.site if config else UNASSIGNED_SITE)
    for record in records:  # refuse the whole case before anything is queued
        check_record(record)
    outbox = Outbox(case.path(RECORD_FOLDER, DEMO_OUTBOX) if demo else outbox_path())
    client = RegistryClient(config, timeout=(3.0, 5.0)) if config else None
    study_ref = f"{case.source.get('study_instance_uid', '')} {case.folder.resolve()}"
    results = []
    for i, record in enumerate(records):
        kind = record.digital_model.object_type
        progress((i + 0.3) / len(records), f"storing and sending the {kind} record")
        submitted = submit_record(record, outbox, client, study_ref)
        path = case.path(RECORD_FOLDER, f"{kind}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record.model_dump(mode="json"), indent=2) + "\n")
        status = DEMO_STATUS if demo and submitted.outcome == "queued" else submitted.status
        results.append({"object_type": kind, "case_id": record.case_id, "record": f"{RECORD_FOLDER}/{path.name}",
                        "cpt": [{"code": c.code, "units": c.units} for c in record.cpt],
                        "warnings": submitted.warnings, "status": status})
    case.results["register"] = {"schema_version": CaseRecord.model_fields["schema_version"].default,
                                "records": results}
    case.steps["register"] = "done"
    save_case(case)
    summary = "; ".join(f"{_codes(r['cpt'])} {r['status']}" for r in results)
    progress(1.0, summary)
    return summary


def _codes(lines: list[dict]) -> str:
    return " + ".join(f"{c['code']} x{c['units']}" for c in lines) or "no codes"

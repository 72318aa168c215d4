"""The workflow's "register" step: build the case's de-identified records (one per kind of printed
object: anatomic model, and anatomic guide when the guide step is done), suggest CPT codes,
PHI-check them, store them in the local outbox and send them only if a registry is configured.

Each record is also written to ``<case>/registry/<object type>.json`` for the clinician to complete
(patient band, indication, effort, assessment) and submit with ``medprint registry submit``.
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
from .client import RegistryClient, send_entry
from .config import UNASSIGNED_SITE, load_config, outbox_path
from .cpt import check_codes, suggest_codes
from .deid import records_from_case
from .outbox import Outbox
from .phi_scan import require_clean
from .schema import CaseRecord

RECORD_FOLDER = "registry"
DEMO_OUTBOX = "demo-outbox.sqlite3"
_STATUS = {"sent": "sent", "retry": "queued (registry unreachable; `medprint registry flush` retries)",
           "rejected": "rejected by the registry (see `medprint registry status`)"}


def run_register(case: Case, progress: Progress) -> str:
    """Runner of the "register" step (see :data:`medprint.workflow.STEP_RUNNERS`)."""
    progress(0.0, "building the case records")
    demo = is_demo_case(case)
    config = None if demo else load_config()
    earlier = case.results.get("register", {}).get("records", [])
    case_ids = {r["object_type"]: r["case_id"] for r in earlier}
    drafts = records_from_case(case, site=config.site if config else UNASSIGNED_SITE, case_ids=case_ids,
                               year=date.today().year, software=f"MedPrint {__version__}")
    outbox = Outbox(case.path(RECORD_FOLDER, DEMO_OUTBOX) if demo else outbox_path())
    client = RegistryClient(config, timeout=(3.0, 5.0)) if config else None
    study_ref = f"{case.source.get('study_instance_uid', '')} {case.folder.resolve()}"
    results = []
    for i, draft in enumerate(drafts):
        record = CaseRecord.model_validate({**draft.model_dump(),
                                            "cpt": [c.model_dump() for c in suggest_codes(draft)]})
        require_clean(record.model_dump(mode="json"))
        progress((i + 0.3) / len(drafts), f"storing the {record.digital_model.object_type} record")
        entry = outbox.put(record, study_ref=study_ref)
        if entry.status == "sent":
            status = "sent earlier"
        elif demo:
            status = "demo data: kept in the case folder, never sent"
        elif client is None:
            status = "queued (no registry configured)"
        else:
            progress((i + 0.6) / len(drafts), "sending to the registry")
            status = _STATUS[send_entry(outbox, client, entry)]
        path = case.path(RECORD_FOLDER, f"{record.digital_model.object_type}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record.model_dump(mode="json"), indent=2) + "\n")
        results.append({"object_type": record.digital_model.object_type, "case_id": record.case_id,
                        "record": f"{RECORD_FOLDER}/{path.name}",
                        "cpt": [{"code": c.code, "units": c.units} for c in record.cpt],
                        "warnings": [f.message for f in check_codes(record, payer="medicare")], "status": status})
    case.results["register"] = {"schema_version": CaseRecord.model_fields["schema_version"].default,
                                "records": results}
    case.steps["register"] = "done"
    save_case(case)
    summary = "; ".join(f"{_codes(r['cpt'])} {r['status']}" for r in results)
    progress(1.0, summary)
    return summary


def _codes(lines: list[dict]) -> str:
    return " + ".join(f"{c['code']} x{c['units']}" for c in lines) or "no codes"

"""The workflow's "register" step: build the case's de-identified record, suggest CPT codes,
PHI-check it, store it in the local outbox and send it only if a registry is configured.

The record is also written to ``<case>/registry/case-record.json`` for the clinician to complete
(patient band, indication, effort, assessment) and submit with ``medprint registry submit``.
Without a configured registry nothing touches the network; with one, a single bounded attempt is
made (3 s to connect, 5 s to answer) and a failure leaves the record queued for ``flush``.
"""

from __future__ import annotations

import json
from datetime import date

from .. import __version__
from ..progress import Progress
from ..workflow import Case, save_case
from .client import RegistryClient, send_entry
from .config import UNASSIGNED_SITE, load_config, outbox_path
from .cpt import check_codes, suggest_codes
from .deid import new_case_id, record_from_case
from .outbox import Outbox
from .phi_scan import require_clean
from .schema import CaseRecord

RECORD_FILE = ("registry", "case-record.json")


def run_register(case: Case, progress: Progress) -> str:
    """Runner of the "register" step (see :data:`medprint.workflow.STEP_RUNNERS`)."""
    progress(0.0, "building the case record")
    config = load_config()
    case_id = case.results.get("register", {}).get("case_id") or new_case_id()
    draft = record_from_case(case, site=config.site if config else UNASSIGNED_SITE, case_id=case_id,
                             year=date.today().year, software=f"MedPrint {__version__}")
    record = CaseRecord.model_validate({**draft.model_dump(), "cpt": [c.model_dump() for c in suggest_codes(draft)]})
    warnings = [f.message for f in check_codes(record, payer="medicare")]
    require_clean(record.model_dump(mode="json"))
    progress(0.4, "storing the record in the outbox")
    outbox = Outbox(outbox_path())
    entry = outbox.put(record, study_ref=f"{case.source.get('study_instance_uid', '')} {case.folder.resolve()}")
    if entry.status == "sent":
        status = "sent earlier"
    elif config is None:
        status = "queued (no registry configured)"
    else:
        progress(0.6, "sending to the registry")
        outcome = send_entry(outbox, RegistryClient(config, timeout=(3.0, 5.0)), entry)
        status = {"sent": "sent", "retry": "queued (registry unreachable; `medprint registry flush` retries)",
                  "rejected": "rejected by the registry (see `medprint registry status`)"}[outcome]
    path = case.path(*RECORD_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record.model_dump(mode="json"), indent=2) + "\n")
    case.results["register"] = {"case_id": case_id, "schema_version": record.schema_version,
                                "record": "/".join(RECORD_FILE),
                                "cpt": [{"code": c.code, "units": c.units} for c in record.cpt],
                                "warnings": warnings, "status": status}
    case.steps["register"] = "done"
    save_case(case)
    progress(1.0, status)
    codes = ", ".join(f"{c.code} x{c.units}" for c in record.cpt) or "no codes"
    return f"{codes}; {status}"

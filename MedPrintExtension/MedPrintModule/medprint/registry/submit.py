"""Submit one case record: check it, keep it in the outbox, send it when a registry is configured.

Used by the register step, ``medprint registry submit`` and the Slicer module alike. A record is
refused (``InputError``) when its CPT codes break the rules (each error named) or its text looks like
patient-identifying information (each field and span named); rule warnings (units, payer caps) are
returned with the outcome. The outbox keeps the record before any network call (:mod:`.outbox`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..errors import InputError
from .cpt import check_codes
from .phi_scan import require_clean

#: outcome -> what the user is told
OUTCOMES = {
    "sent": "sent",
    "sent earlier": "sent earlier",
    "changed after sending": "sent earlier; this version was not sent (the registry keeps a case's first record)",
    "queued": "queued (no registry configured)",
    "retry": "queued (registry unreachable; `medprint registry flush` retries)",
    "rejected": "rejected by the registry (see `medprint registry status`)",
}
#: the payer whose unit caps the warnings use
PAYER = "medicare"


@dataclass(frozen=True)
class Submission:
    """What became of a record: ``outcome`` (a key of :data:`OUTCOMES`) and the rules' warnings."""

    case_id: str
    outcome: str
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return OUTCOMES[self.outcome]


def check_record(record, payer: str = PAYER, known: Iterable[str] = ()) -> list[str]:
    """Refuse a record whose codes break the CPT rules or whose text looks like PHI (``known``: extra
    identifiers to look for); return the rules' warnings."""
    findings = check_codes(record, payer=payer)
    refused = [f.message for f in findings if f.level == "error"]
    if refused:
        raise InputError("The CPT codes cannot be submitted: " + "; ".join(refused) + ".",
                         hint="choose the codes the rules allow (the suggested ones fit the case)")
    require_clean(record.model_dump(mode="json"), known)
    return [f.message for f in findings]


def submit_record(record, outbox, client=None, study_ref: str = "", payer: str = PAYER) -> Submission:
    """Check ``record`` (:func:`check_record`), store it in ``outbox`` (with the local ``study_ref``,
    never sent) and send it with ``client`` (:class:`.client.RegistryClient`, or None: queued only)."""
    from .client import send_entry

    warnings = check_record(record, payer)
    entry = outbox.put(record, study_ref=study_ref)
    if entry.status == "sent":
        outcome = "sent earlier" if entry.payload == record.payload() else "changed after sending"
    elif client is None:
        outcome = "queued"
    else:
        outcome = send_entry(outbox, client, entry)
    return Submission(record.case_id, outcome, warnings)


def outbox_summary(outbox, registry: Optional[str]) -> str:
    """One line on the outbox: records pending, sent and rejected, and where they go."""
    counts = outbox.counts()
    return (", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "sent", "rejected")) + "; registry: "
            + (registry or "none configured"))

"""CPT code suggestions and checks for a case, driven by the dated rule table ``cpt_rules.json``.

The unit of an anatomic-model code is the segmented anatomic component (a part of the digital
model), not the printed object; the unit of a guide code is the guide. A primary code is reported
once, its add-on once per further unit; an add-on is never reported alone. Payers' unit caps
(e.g. Medicare's medically-unlikely-edit limits) are data too. New codes go into the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:  # the rule table itself needs no pydantic (the Slicer module reads it at load time)
    from .schema import CaseRecord, CodeLine

RULES_FILE = Path(__file__).with_name("cpt_rules.json")


@dataclass(frozen=True)
class Finding:
    """A problem with a case's codes: ``level`` "error" (refused) or "warning" (shown)."""

    level: str
    message: str


@dataclass(frozen=True)
class Rules:
    version: str
    codes: dict  # code -> rule dict
    payers: dict  # payer -> list of dated cap tables

    def active(self, code: str, year: int) -> bool:
        rule = self.codes[code]
        start, end = rule["effective_from"], rule["effective_to"]
        return start <= f"{year}-12-31" and (end is None or end >= f"{year}-01-01")

    def caps(self, payer: str, on: date) -> dict:
        day = on.isoformat()
        for table in self.payers.get(payer, []):
            if table["effective_from"] <= day and (table["effective_to"] is None or day <= table["effective_to"]):
                return table["max_units"]
        return {}


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> Rules:
    data = json.loads(Path(path).read_text())
    return Rules(version=data["rules_version"], codes={c["code"]: c for c in data["codes"]},
                 payers=data.get("payers", {}))


def describe(code: str, rules: Optional[Rules] = None) -> str:
    """The code's meaning in MedPrint's own words."""
    rule = (rules or load_rules()).codes.get(code)
    return rule["description"] if rule else "not in MedPrint's code table"


def billable_units(record: CaseRecord) -> int:
    """Units the case content supports: segmented components (models) or guides (guides)."""
    dm = record.digital_model
    return len(dm.parts) if dm.object_type == "anatomic_model" else dm.guide_count


def suggest_codes(record: CaseRecord, rules: Optional[Rules] = None) -> list[CodeLine]:
    """The codes the case content supports: the primary code once, its add-on for each further unit."""
    return code_lines(record.digital_model.object_type, billable_units(record), record.procedure_year, rules)


def code_lines(object_type: str, units: int, year: int, rules: Optional[Rules] = None,
               primary: str = "") -> list[CodeLine]:
    """:func:`code_units` as the record's code lines."""
    from .schema import CodeLine

    return [CodeLine(code=code, units=n) for code, n in code_units(object_type, units, year, rules, primary)]


def code_units(object_type: str, units: int, year: int, rules: Optional[Rules] = None,
               primary: str = "") -> list[tuple[str, int]]:
    """(code, units) claiming ``units`` units of ``object_type`` ("anatomic_model" or "anatomic_guide")
    in ``year``: a primary code in effect once (``primary``, or each such code when ""), and its add-on
    for each further unit. No units, no lines."""
    rules = rules or load_rules()
    lines = []
    for code in primary_codes(object_type, year, rules):
        if units < 1 or primary not in ("", code):
            continue
        lines.append((code, 1))
        for addon, add_rule in rules.codes.items():
            if add_rule["addon_of"] == code and rules.active(addon, year) and units > 1:
                lines.append((addon, units - 1))
    return lines


def primary_codes(object_type: str, year: int, rules: Optional[Rules] = None) -> list[str]:
    """The primary codes for ``object_type`` in effect in ``year``, in the table's order."""
    rules = rules or load_rules()
    return [code for code, rule in rules.codes.items() if rule["role"] == "primary"
            and rule["object_type"] == object_type and rules.active(code, year)]


def check_codes(record: CaseRecord, lines: Optional[Iterable[CodeLine]] = None, payer: str = "",
                on: Optional[date] = None, rules: Optional[Rules] = None) -> list[Finding]:
    """Check the claimed ``lines`` (default: ``record.cpt``) against the rules and the case content.

    Errors: unknown or inactive code, code for the other object type, add-on without its primary,
    primary with more than one unit, repeated code. Warnings: units that differ from the case content,
    units above the ``payer``'s cap on date ``on``, codes without a printed model.
    """
    rules = rules or load_rules()
    lines = list(record.cpt if lines is None else lines)
    findings: list[Finding] = []
    claimed = {}
    for line in lines:
        if line.code in claimed:
            findings.append(Finding("error", f"{line.code} is listed twice; report it once with its units"))
        claimed[line.code] = line.units
    object_type = record.digital_model.object_type
    for code, units in claimed.items():
        rule = rules.codes.get(code)
        if rule is None:
            findings.append(Finding("error", f"{code} is not in the code table (rules {rules.version})"))
            continue
        if not rules.active(code, record.procedure_year):
            findings.append(Finding("error", f"{code} is not in effect in {record.procedure_year}"))
        if rule["object_type"] != object_type:
            findings.append(Finding("error", f"{code} is for {rule['object_type'].replace('_', ' ')}s; "
                                             f"this case is an {object_type.replace('_', ' ')}"))
        if rule["role"] == "addon" and rule["addon_of"] not in claimed:
            findings.append(Finding("error", f"{code} is an add-on code and needs {rule['addon_of']} "
                                             "on the same case"))
        if rule["role"] == "primary" and units != 1:
            findings.append(Finding("error", f"{code} is reported once per case (1 unit), not {units}"))
    if not any(f.level == "error" for f in findings):
        expected = {line.code: line.units for line in suggest_codes(record, rules)}
        if expected != claimed:
            findings.append(Finding("warning", "the codes differ from the case content: "
                                               f"{_fmt(claimed)} claimed, {_fmt(expected)} supported by "
                                               f"{billable_units(record)} unit(s)"))
    if payer:
        caps = rules.caps(payer, on or date.today())
        for code, units in claimed.items():
            if code in caps and units > caps[code]:
                findings.append(Finding("warning", f"{payer} accepts at most {caps[code]} unit(s) of {code}; "
                                                   f"{units} claimed (expect a denial and an appeal)"))
    if claimed and not record.physical_models:
        findings.append(Finding("warning", "no printed model is recorded; these codes cover printed objects"))
    return findings


def _fmt(codes: dict) -> str:
    return ", ".join(f"{c} x{u}" for c, u in codes.items()) or "no codes"

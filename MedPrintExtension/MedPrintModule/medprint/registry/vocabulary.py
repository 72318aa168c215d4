"""The case record's fixed answers (age bands, indications, technologies, ...), read from the published
JSON Schema (``case-record.schema.json``, generated from :mod:`.schema` and checked against it by the
tests) with the standard library only, so forms can list them without loading pydantic (the Slicer
module builds its parameter node from them when Slicer loads it)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("case-record.schema.json")


@lru_cache(maxsize=1)
def _definitions() -> dict:
    return json.loads(SCHEMA_FILE.read_text())["$defs"]


def choices(section: str, field: str) -> list[str]:
    """The allowed text values of ``section.field`` (a model of :mod:`.schema`, e.g. ("Patient",
    "age_band")), in the schema's order; a number-or-"unknown" field gives ["unknown"]."""
    try:
        spec = _definitions()[section]["properties"][field]
    except KeyError:
        raise KeyError(f"the case record has no field {section}.{field}") from None
    values = []
    for option in spec.get("anyOf", [spec]):
        values += [v for v in option.get("enum", []) if isinstance(v, str)]
        if isinstance(option.get("const"), str):
            values.append(option["const"])
    if not values:
        raise KeyError(f"{section}.{field} is not a choice field")
    return values

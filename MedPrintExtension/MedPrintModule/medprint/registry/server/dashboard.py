"""Dashboard figures from the aggregates, and the server-rendered page (HTML + inline SVG charts).

Estimated savings are computed, not copied: operating-room minutes saved = models x the site's
minutes per model + guides x minutes per guide (defaults 62 and 23 min, Ballard et al., Acad Radiol
2020), dollars = minutes x the site's cost per OR minute (default $62). They are shown beside the
clinicians' own estimates of minutes saved, priced the same way.
"""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("templates") / "dashboard.html"
LOGIN_TEMPLATE = Path(__file__).with_name("templates") / "login.html"
DEFAULT_SETTINGS = {"cost_per_or_minute": 62.0, "minutes_per_model": 62.0, "minutes_per_guide": 23.0}
_EFFORT_LABELS = {"consultation": "Consultation", "segmentation": "Segmentation", "cad": "CAD",
                  "post_processing": "Post-processing", "printer_run": "Printer run time"}


def figures(month_rows: list, site_rows: list, settings: dict) -> dict:
    """Dashboard figures from :func:`.store.aggregates`: ``(month, dim, key, n, total)`` rows,
    ``(site, dim, key, n, total)`` rows of the per-site priced dimensions, and site settings."""
    by = defaultdict(lambda: defaultdict(int))
    units = defaultdict(float)
    sums = defaultdict(lambda: [0, 0.0])
    for month, dim, key, n, total in month_rows:
        n, total = int(n), float(total)
        if dim == "cases":
            by["month"][month] += n
        elif dim in ("object_type", "indication", "technology", "plan_changed", "cpt"):
            by[dim][key] += n
            if dim == "cpt":
                units[key] += total
        else:
            cell = sums[f"{dim}.{key}"]
            cell[0] += n
            cell[1] += total
    or_minutes = dollars = clinician_dollars = 0.0
    for site, dim, key, n, total in site_rows:
        s = settings.get(site, DEFAULT_SETTINGS)
        if dim == "object_type":
            minutes = float(n) * (s["minutes_per_model"] if key == "anatomic_model" else s["minutes_per_guide"])
            or_minutes += minutes
            dollars += minutes * s["cost_per_or_minute"]
        elif dim == "estimate":
            clinician_dollars += float(total) * s["cost_per_or_minute"]
    estimate = sums.get("estimate.minutes_saved", [0, 0.0])
    return {
        "cases": sum(by["month"].values()),
        "anatomic_models": by["object_type"].get("anatomic_model", 0),
        "anatomic_guides": by["object_type"].get("anatomic_guide", 0),
        "by_cpt": {code: {"cases": by["cpt"][code], "units": int(units[code])} for code in sorted(by["cpt"])},
        "by_indication": dict(sorted(by["indication"].items())),
        "by_technology": dict(sorted(by["technology"].items())),
        "by_month": dict(sorted(by["month"].items())),
        "plan_changed": dict(sorted(by["plan_changed"].items())),
        "mean_minutes": {key.split(".", 1)[1]: {"n": n, "mean": round(total / n, 1)}
                         for key, (n, total) in sorted(sums.items()) if key.startswith("effort.") and n},
        "estimated_or_minutes_saved": round(or_minutes, 1),
        "estimated_dollars_saved": round(dollars, 2),
        "clinician_minutes_saved": {"n": estimate[0], "total": round(estimate[1], 1)},
        "clinician_dollars_saved": round(clinician_dollars, 2),
        "settings": settings,
    }


def _bars(data: dict, chart_id: str, unit: str = "cases") -> str:
    """A horizontal SVG bar chart of ``{label: value}``; each bar carries its value as data."""
    if not data:
        return '<p class="empty">no cases yet</p>'
    top = max(data.values()) or 1
    height = 24 * len(data) + 4
    parts = [f'<svg id="{chart_id}" class="chart" viewBox="0 0 620 {height}" width="620" height="{height}" '
             f'role="img" aria-label="{html.escape(chart_id)}">']
    for i, (label, value) in enumerate(data.items()):
        width = 360 * value / top
        y = 4 + 24 * i
        parts.append(f'<text x="0" y="{y + 15}">{html.escape(str(label))}</text>'
                     f'<rect data-label="{html.escape(str(label))}" data-value="{value}" x="200" y="{y}" '
                     f'width="{width:.1f}" height="18"></rect>'
                     f'<text x="{205 + width:.1f}" y="{y + 15}">{value:,} {unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(fig: dict, who: str) -> str:
    """The dashboard page for ``who`` (a site ID, or "all sites")."""
    effort_rows = "".join(
        f'<tr><td>{html.escape(_EFFORT_LABELS.get(k.split(".")[0], k))}</td>'
        f'<td>{html.escape(k.split(".")[1].replace("_", "-") if "." in k else "")}</td>'
        f'<td class="num">{v["mean"]:,.1f}</td><td class="num">{v["n"]:,}</td></tr>'
        for k, v in fig["mean_minutes"].items()) or '<tr><td colspan="4">no times reported</td></tr>'
    cpt_units = {code: v["units"] for code, v in fig["by_cpt"].items()}
    clin = fig["clinician_minutes_saved"]
    values = {
        "who": html.escape(who), "cases": f"{fig['cases']:,}", "models": f"{fig['anatomic_models']:,}",
        "guides": f"{fig['anatomic_guides']:,}",
        "or_minutes": f"{fig['estimated_or_minutes_saved']:,.0f}",
        "or_dollars": f"{fig['estimated_dollars_saved']:,.0f}",
        "clin_minutes": f"{clin['total']:,.0f}", "clin_n": f"{clin['n']:,}",
        "clin_dollars": f"{fig['clinician_dollars_saved']:,.0f}",
        "chart_cpt": _bars(cpt_units, "chart-cpt", "units"),
        "chart_indication": _bars(fig["by_indication"], "chart-indication"),
        "chart_technology": _bars(fig["by_technology"], "chart-technology", "prints"),
        "chart_month": _bars(fig["by_month"], "chart-month"),
        "effort_rows": effort_rows,
    }
    return Template(TEMPLATE.read_text()).substitute(values)


def login_page(message: str = "") -> str:
    return Template(LOGIN_TEMPLATE.read_text()).substitute(message=html.escape(message))


CASE_COLUMNS = ["case_id", "month_received", "procedure_year", "object_type", "indication", "age_band", "sex",
                "parts", "physical_models", "technologies", "cpt", "printer_run_minutes", "minutes_saved_estimate",
                "usefulness", "plan_changed"]


def cases_csv(rows) -> str:
    """A site's cases, one row each (``rows`` from :func:`.store.site_cases`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CASE_COLUMNS)
    for case_id, month, p in rows:
        writer.writerow([case_id, month, p["procedure_year"], p["digital_model"]["object_type"],
                         p["imaging"]["indication_category"], p["patient"]["age_band"], p["patient"]["sex"],
                         len(p["digital_model"]["parts"]), len(p["physical_models"]),
                         " ".join(m["technology"] for m in p["physical_models"]),
                         " ".join(f"{c['code']}x{c['units']}" for c in p["cpt"]),
                         p["effort"]["printer_run_minutes"], p["assessment"]["minutes_saved_estimate"],
                         p["assessment"]["usefulness"], p["assessment"]["plan_changed"]])
    return out.getvalue()


def aggregates_csv(rows) -> str:
    """Summed facts per site, month, dimension and key (what the admin may see), from
    :func:`.store.aggregate_rows`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["site", "month", "dimension", "key", "cases", "total"])
    for site, month, dim, key, n, total in rows:
        writer.writerow([site, month, dim, key, int(n), round(float(total), 3)])
    return out.getvalue()

"""Render the README's pictures from what MedPrint's own tools make of the built-in demo CT.

Runs the guided workflow (``medprint.workflow``: model, then every registered later step) on the
demo CT into a case folder, then renders each step's STL files with VTK, off screen (EGL or OSMesa,
no display needed), seen from the front (anterior) in LPS millimetres. Writes ``<out>/<name>.png``.

    python MedPrintExtension/Resources/Screenshots/render_pictures.py [--out FOLDER] [--case FOLDER]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "MedPrintModule"))

from MedPrintLib.case_node import step_models  # noqa: E402
from medprint import workflow  # noqa: E402
from medprint.mesh import Mesh, read_stl  # noqa: E402

DEMO_CT = HERE.parents[1] / "MedPrintModule" / "medprint" / "data" / "demo_ct"
BONE = (0.89, 0.85, 0.79)
PART_COLORS = [(0.20, 0.55, 0.85), (0.90, 0.45, 0.15), (0.35, 0.70, 0.35), (0.75, 0.30, 0.60)]


def render(parts: list, path: Path, size=(900, 700), azimuth: float = 0.0, elevation: float = 10.0,
           focus=None, margin_mm: float = 25.0) -> Path:
    """Render ``(Mesh, rgb, opacity)`` parts (LPS mm) to a PNG, camera in front of the patient, turned by
    ``azimuth`` degrees about the vertical (180: from behind); framing every part, or ``focus`` (a
    Mesh) with ``margin_mm`` around it."""
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL back end)
    from vtkmodules.vtkFiltersCore import vtkPolyDataNormals
    from vtkmodules.vtkIOImage import vtkPNGWriter
    from vtkmodules.vtkRenderingCore import (vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow,
                                             vtkWindowToImageFilter)

    renderer = vtkRenderer()
    renderer.SetBackground(1.0, 1.0, 1.0)
    for mesh, color, opacity in parts:
        normals = vtkPolyDataNormals()
        normals.SetInputData(mesh.in_space("LPS").to_polydata())
        normals.SetFeatureAngle(60.0)
        mapper = vtkPolyDataMapper()
        mapper.SetInputConnection(normals.GetOutputPort())
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(*color)
        actor.GetProperty().SetOpacity(opacity)
        actor.GetProperty().SetSpecular(0.2)
        renderer.AddActor(actor)
    points = focus.in_space("LPS").vertices if focus is not None else \
        np.vstack([mesh.in_space("LPS").vertices for mesh, _, _ in parts])
    low, high = points.min(axis=0), points.max(axis=0)
    center = (low + high) / 2
    camera = renderer.GetActiveCamera()
    camera.SetFocalPoint(*center)
    camera.SetPosition(*(center + [0.0, -1000.0, 0.0]))  # anterior is -y in LPS
    camera.SetViewUp(0.0, 0.0, 1.0)
    camera.Azimuth(azimuth)
    camera.Elevation(elevation)
    if focus is None:
        renderer.ResetCamera()
        camera.Zoom(1.4)
    else:
        renderer.ResetCamera(*np.ravel(np.column_stack([low - margin_mm, high + margin_mm])))
        renderer.ResetCameraClippingRange()

    window = vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetMultiSamples(8)
    window.SetSize(*size)
    window.AddRenderer(renderer)
    window.Render()
    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.Update()
    writer = vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputConnection(grab.GetOutputPort())
    writer.Write()
    return path


def screenshot(page: Path, path: Path, size=(1100, 1000)) -> Path:
    """A PNG of a local HTML page by headless Chromium (a file: URL; nothing goes on the network)."""
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={size[0]},{size[1]}", f"--screenshot={path}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    return path


def render_dashboard(case: workflow.Case, scratch: Path, path: Path, months: int = 6) -> Path:
    """The registry dashboard (``medprint.registry.server.dashboard``) over a scratch SQLite registry
    holding the demo's de-identified case records, submitted once a month for ``months`` months,
    photographed by headless Chromium."""
    import json
    from datetime import datetime, timezone

    from medprint.registry.deid import new_case_id
    from medprint.registry.schema import CaseRecord
    from medprint.registry.server import dashboard, store
    from medprint.registry.server.auth import add_site
    from medprint.registry.server.db import make_engine
    from medprint.registry.server.migrate import upgrade

    url = f"sqlite:///{scratch / 'registry.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    add_site(engine, "demo-site", "Demo site")
    records = [CaseRecord.model_validate(json.loads(case.path(r["record"]).read_text()))
               for r in case.results["register"]["records"]]
    for month in range(1, months + 1):
        for n, record in enumerate(records):
            one = record.model_copy(update={"case_id": new_case_id(), "site": "demo-site"})
            received = datetime(2026, month, 15, tzinfo=timezone.utc)
            store.insert_case(engine, "demo-site", f"demo-{month:02d}-{n:02d}", one, now=received)
    page = scratch / "dashboard.html"
    page.write_text(dashboard.render(dashboard.figures(*store.aggregates(engine, None)), "all sites"))
    return screenshot(page, path)


def build_case(folder: Path) -> workflow.Case:
    """The demo: bone model of the demo CT, then every later step that has a runner."""
    case = workflow.create_case(folder, "demo")
    workflow.run_case(case, DEMO_CT)
    for step in workflow.STEP_RUNNERS:
        print(f"{step}: {workflow.run_later_step(case, step)}")
    return workflow.open_case(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNG files")
    parser.add_argument("--case", type=Path, help="an existing case folder (default: run the demo anew)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("MEDPRINT_DATA_DIR", str(Path(scratch) / "data"))  # keep the user's outbox clean
        case = workflow.open_case(args.case) if args.case else build_case(Path(scratch) / "case")
        bone: Mesh = read_stl(case.path(case.results["model"]["file"]))
        written = [render([(bone, BONE, 1.0)], args.out / "1.png")]
        for step in workflow.STEPS[2:]:
            parts = step_models(case, step)
            if step == "guide" and parts:  # seen from behind and above, framed on the guide
                guide = parts[0][1]
                written.append(render([(bone, BONE, 1.0), (guide, PART_COLORS[0], 1.0)], args.out / "guide.png",
                                      azimuth=200.0, elevation=35.0, focus=guide))
        reports = [f for f in case.results.get("export", {}).get("files", []) if f.endswith("-qa.html")]
        if reports:
            written.append(screenshot(case.path(reports[0]), args.out / "qa.png", size=(1100, 1300)))
        if case.results.get("register", {}).get("records"):
            written.append(render_dashboard(case, Path(scratch), args.out / "dashboard.png"))
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

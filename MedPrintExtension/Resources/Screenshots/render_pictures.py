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
           scalars=None, caption: str = "") -> Path:
    """Render ``(Mesh, rgb, opacity)`` parts (LPS mm) to a PNG, camera in front of the patient.

    ``scalars`` = (per-vertex values of the first part, limit, title) colours the values below the
    limit red (0) to yellow (limit) and the rest bone, with a colour bar; ``caption`` is written in
    the top-left corner."""
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL back end)
    from vtkmodules.vtkFiltersCore import vtkPolyDataNormals
    from vtkmodules.vtkIOImage import vtkPNGWriter
    from vtkmodules.vtkRenderingCore import (vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow,
                                             vtkWindowToImageFilter)

    renderer = vtkRenderer()
    renderer.SetBackground(1.0, 1.0, 1.0)
    for index, (mesh, color, opacity) in enumerate(parts):
        polydata = mesh.in_space("LPS").to_polydata()
        normals = vtkPolyDataNormals()
        normals.SetInputData(polydata)
        normals.SetFeatureAngle(60.0)
        normals.SplittingOff()  # keep one value per vertex for the scalars
        mapper = vtkPolyDataMapper()
        mapper.SetInputConnection(normals.GetOutputPort())
        if scalars is not None and index == 0:
            values, limit, title = scalars
            _color_by(polydata, mapper, np.asarray(values, dtype=float), limit, title, renderer)
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(*color)
        actor.GetProperty().SetOpacity(opacity)
        actor.GetProperty().SetSpecular(0.2)
        renderer.AddActor(actor)
    points = np.vstack([mesh.in_space("LPS").vertices for mesh, _, _ in parts])
    center = (points.min(axis=0) + points.max(axis=0)) / 2
    camera = renderer.GetActiveCamera()
    camera.SetFocalPoint(*center)
    camera.SetPosition(*(center + [0.0, -1000.0, 0.0]))  # anterior is -y in LPS
    camera.SetViewUp(0.0, 0.0, 1.0)
    camera.Azimuth(azimuth)
    camera.Elevation(elevation)
    renderer.ResetCamera()
    camera.Zoom(1.4)

    if caption:
        from vtkmodules.vtkRenderingCore import vtkTextActor

        text = vtkTextActor()
        text.SetInput(caption)
        text.GetTextProperty().SetFontSize(22)
        text.GetTextProperty().SetColor(0.1, 0.1, 0.1)
        text.SetDisplayPosition(20, size[1] - 40)
        renderer.AddViewProp(text)
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


def _color_by(polydata, mapper, values, limit, title, renderer) -> None:
    """Colour ``polydata`` by per-point ``values`` on 0..2 x ``limit``: red (0) to yellow (``limit``),
    bone colour above, with a colour bar."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonCore import vtkLookupTable
    from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

    array = numpy_to_vtk(values, deep=True)
    array.SetName(title)
    polydata.GetPointData().SetScalars(array)
    table = vtkLookupTable()
    table.SetNumberOfTableValues(256)
    table.SetTableRange(0.0, 2.0 * limit)
    for i in range(256):
        t = i / 255 * 2.0  # value / limit
        table.SetTableValue(i, *((1.0, 0.9 * t, 0.0) if t < 1.0 else BONE), 1.0)
    table.Build()
    mapper.SetLookupTable(table)
    mapper.SetScalarRange(0.0, 2.0 * limit)
    mapper.SetColorModeToMapScalars()
    mapper.ScalarVisibilityOn()
    bar = vtkScalarBarActor()
    bar.SetLookupTable(table)
    bar.SetTitle(title)
    bar.SetNumberOfLabels(5)
    bar.SetWidth(0.09)
    bar.SetHeight(0.5)
    bar.SetPosition(0.88, 0.25)
    for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
        prop.SetColor(0.1, 0.1, 0.1)
        prop.ShadowOff()
        prop.ItalicOff()
    renderer.AddViewProp(bar)


def render_qa(bone: Mesh, path: Path) -> Path:
    """The model's print QA (``medprint.qa.check_mesh``): wall thickness per vertex, and the verdict."""
    from medprint.qa import check_mesh

    report = check_mesh(bone)
    caption = (f"QA: {report.verdict}; thinnest wall {report.min_wall_mm:.1f} mm; "
               f"{'watertight' if report.watertight else 'NOT watertight'}, {report.shells} shell(s)")
    return render([(report.mesh, BONE, 1.0)], path, azimuth=-25.0, caption=caption,
                  scalars=(report.thickness_mm, report.wall_limit_mm, "wall mm"))


def render_dashboard(case: workflow.Case, scratch: Path, path: Path, months: int = 6) -> Path:
    """The registry dashboard (``medprint.registry.server.dashboard``) over a scratch SQLite registry
    holding the demo's de-identified case record, submitted once a month for ``months`` months,
    photographed by headless Chromium (a local file: no network)."""
    import json
    import shutil
    import subprocess
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
    record = CaseRecord.model_validate(json.loads(case.path("registry", "case-record.json").read_text()))
    for month in range(1, months + 1):
        one = record.model_copy(update={"case_id": new_case_id(), "site": "demo-site"})
        received = datetime(2026, month, 15, tzinfo=timezone.utc)
        store.insert_case(engine, "demo-site", f"demo-{month:04d}", one, now=received)
    page = scratch / "dashboard.html"
    page.write_text(dashboard.render(dashboard.figures(*store.aggregates(engine, None)), "all sites"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,1000", f"--screenshot={path}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return path


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
        written = [render([(bone, BONE, 1.0)], args.out / "1.png"), render_qa(bone, args.out / "qa.png")]
        for step in workflow.STEPS[2:]:
            parts = step_models(case, step)
            if parts:
                colored = [(mesh, PART_COLORS[i % len(PART_COLORS)], 1.0) for i, (_, mesh) in enumerate(parts)]
                written.append(render([(bone, BONE, 0.55), *colored], args.out / f"{step}.png", azimuth=-25.0))
        if case.path("registry", "case-record.json").is_file():
            written.append(render_dashboard(case, Path(scratch), args.out / "dashboard.png"))
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

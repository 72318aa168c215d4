"""The QA report a lab reads before printing: an HTML page with a table of figures per part and, for
each part, a PNG of two views (anterior, left; LPS) coloured by wall thickness, thin walls in red.

Rendering is offscreen VTK (EGL where available, no display needed).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Optional

import numpy as np

from . import __version__
from .qa import QAReport
from .progress import Progress, no_progress

VIEW_PIXELS = (480, 480)
#: camera directions (from the part's centre towards the camera) and view-up, LPS
VIEWS = {"anterior": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)), "left": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0))}


def thickness_colors(thickness_mm: np.ndarray, limit_mm: float) -> np.ndarray:
    """sRGB (n, 3) uint8 per vertex: red below ``limit_mm``, then orange -> yellow -> green at 3x the
    limit and beyond."""
    t = np.clip((np.asarray(thickness_mm) - limit_mm) / (2.0 * limit_mm), 0.0, 1.0)
    colors = np.empty((len(t), 3), dtype=np.uint8)
    colors[:, 0] = np.where(t < 0.5, 255, np.round(255 * (1 - t) * 2)).astype(np.uint8)
    colors[:, 1] = np.round(120 + 90 * t).astype(np.uint8)
    colors[:, 2] = 60
    colors[np.asarray(thickness_mm) < limit_mm] = (220, 30, 30)
    return colors


def render_part(report: QAReport, path: str | Path) -> Path:
    """A PNG of the checked mesh from :data:`VIEWS`, side by side, coloured by wall thickness."""
    window = _window()  # first: loading the OpenGL module makes mappers and renderers concrete
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkIOImage import vtkPNGWriter
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkWindowToImageFilter

    polydata = report.mesh.to_polydata()
    colors = numpy_to_vtk(thickness_colors(report.thickness_mm, report.wall_limit_mm), deep=True)
    colors.SetName("wall thickness colour")
    polydata.GetPointData().SetScalars(colors)
    mapper = vtkPolyDataMapper()  # no normals given: facets are shaded flat, fine at this density
    mapper.SetInputData(polydata)
    mapper.SetColorModeToDirectScalars()
    window.SetSize(VIEW_PIXELS[0] * len(VIEWS), VIEW_PIXELS[1])
    center = report.mesh.vertices.mean(axis=0)
    for n, (direction, up) in enumerate(VIEWS.values()):
        actor = vtkActor()
        actor.SetMapper(mapper)
        renderer = vtkRenderer()
        renderer.SetViewport(n / len(VIEWS), 0.0, (n + 1) / len(VIEWS), 1.0)
        renderer.SetBackground(1.0, 1.0, 1.0)
        renderer.AddActor(actor)
        camera = renderer.GetActiveCamera()
        camera.SetFocalPoint(*center)
        camera.SetPosition(*(center + np.asarray(direction) * 1000.0))
        camera.SetViewUp(*up)
        renderer.ResetCamera()
        window.AddRenderer(renderer)
    window.Render()
    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ShouldRerenderOff()  # the frame just rendered (software rendering: a second pass costs seconds)
    grab.ReadFrontBufferOff()
    grab.Update()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputConnection(grab.GetOutputPort())
    writer.Write()
    window.Finalize()
    return path


def _window():
    """An offscreen render window: EGL (no display) where VTK has it, else the default one."""
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL implementations)

    try:
        from vtkmodules.vtkRenderingOpenGL2 import vtkEGLRenderWindow as Window
    except ImportError:  # e.g. inside Slicer, whose VTK renders on its own display
        from vtkmodules.vtkRenderingCore import vtkRenderWindow as Window
    window = Window()
    window.SetOffScreenRendering(1)
    return window


def write_report(parts: list[tuple[str, QAReport, Optional[dict]]], folder: str | Path, title: str,
                 progress: Optional[Progress] = None) -> Path:
    """``<folder>/<title>-qa.html`` and one ``<folder>/<part>-qa.png`` per part; ``parts`` holds
    (name, QA report of the mesh to print, repair summary or None). Returns the HTML path."""
    progress = progress or no_progress
    folder = Path(folder)
    sections = []
    for n, (name, report, repaired) in enumerate(parts):
        progress(n / len(parts), f"rendering {name}")
        png = render_part(report, folder / f"{name}-qa.png")
        sections.append(_section(name, report, repaired, png.name))
    page = _PAGE.format(title=html.escape(title), version=__version__, sections="\n".join(sections))
    path = folder / f"{title}-qa.html"
    path.write_text(page, encoding="utf-8")
    progress(1.0, path.name)
    return path


def _section(name: str, r: QAReport, repaired: Optional[dict], png: str) -> str:
    rows = [
        ("verdict", f"<b class='{r.verdict.replace(' ', '-')}'>{html.escape(r.verdict)}</b>"),
        ("reasons", "<br>".join(html.escape(x) for x in r.reasons) or "none"),
        ("triangles / vertices", f"{r.triangles:,} / {r.vertices:,}"),
        ("watertight", "yes" if r.watertight else "no"),
        ("shells", str(r.shells)),
        ("volume", f"{r.volume_mm3 / 1000:.2f} cm³"),
        ("surface area", f"{r.area_mm2 / 100:.1f} cm²"),
        ("size (x × y × z)", " × ".join(f"{s:.1f}" for s in r.size_mm) + f" mm ({r.space})"),
        ("build volume", f"{html.escape(r.printer['name'])} "
                         f"{' × '.join(f'{s:.0f}' for s in r.printer['size_mm'])} mm: "
                         + ("fits" if r.fits_build_volume else "<b>does not fit</b>")),
        ("thinnest wall", f"{r.min_wall_mm:.2f} mm (limit {r.wall_limit_mm} mm, "
                          f"{len(r.thin_regions)} thin region(s))"),
        ("holes / non-manifold / misoriented edges",
         f"{len(r.holes)} / {r.non_manifold_edges} / {r.misoriented_edges}"),
        ("self-intersecting faces", str(r.self_intersecting_faces)),
        ("degenerate / duplicate faces", f"{r.degenerate_faces} / {r.duplicate_faces}"),
    ]
    if repaired is not None:
        done = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in repaired["actions"].items() if v) or "nothing"
        rows.append(("repair", f"{html.escape(done)}; surface moved ≤ {repaired['hausdorff_mm']:.4f} mm"))
    thin = "".join(f"<tr><td>{t['value']:.2f} mm</td><td>{t['area_mm2']:.1f} mm²</td>"
                   f"<td>({', '.join(f'{c:.1f}' for c in t['center_mm'])})</td></tr>"
                   for t in sorted(r.thin_regions, key=lambda t: -t["area_mm2"])[:10])
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return (f"<section><h2>{html.escape(name)}</h2><table>{table}</table>"
            f"<p><img src='{html.escape(png)}' alt='{html.escape(name)}: anterior and left views, "
            f"coloured by wall thickness'></p>"
            + (f"<h3>Largest thin regions</h3><table><tr><th>thinnest</th><th>area</th>"
               f"<th>centre ({r.space}, mm)</th></tr>{thin}</table>" if thin else "")
            + "</section>")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – MedPrint QA</title>
<style>body{{font-family:sans-serif;margin:2em}} th{{text-align:left;padding-right:1em}}
td,th{{border-bottom:1px solid #ddd;padding:2px 6px}} .printable{{color:#2a7}}
.printable-after-repair{{color:#c80}} .not-printable{{color:#c22}} img{{max-width:100%}}</style></head>
<body><h1>{title}: print QA</h1>
<p>MedPrint {version}. Views: anterior (left) and from the patient's left (right). Colour = local wall
thickness: <span style="color:#dc1e1e">red below the printer's minimum wall</span>, orange to green up to
three times that; coordinates LPS, millimetres.</p>
{sections}
</body></html>
"""

"""The bone under a guide, cut out for a fit test: what the demo prints instead of a whole bone.

A lab checks a surgical guide by printing it with the piece of bone it sits on and trying the fit;
slicing a whole lumbar slab instead takes most of a minute. The piece is the bone model (closed,
LPS mm) intersected with the guide's bounding box grown by a margin on every side.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MedPrintError
from ..mesh import Mesh, read_stl, write_stl

#: Bone kept beyond the guide's bounding box on every side (mm).
MARGIN_MM = 10.0


def cut_fit_piece(bone_stl: Path, guide_stl: Path, out: Path, margin_mm: float = MARGIN_MM) -> Path:
    """Write to ``out`` (STL, LPS mm) the part of the closed bone inside the guide's bounding box
    grown by ``margin_mm``; raises :class:`MedPrintError` when the bone is not closed or the box
    holds none of it."""
    import manifold3d

    from ..guide.solids import to_arrays, to_manifold

    bone, guide = read_stl(bone_stl), read_stl(guide_stl)
    lo = guide.vertices.min(axis=0) - margin_mm
    hi = guide.vertices.max(axis=0) + margin_mm
    box = manifold3d.Manifold.cube(tuple(float(v) for v in hi - lo)).translate(tuple(float(v) for v in lo))
    piece = to_manifold(bone.vertices, bone.faces, "bone model") ^ box
    vertices, faces = to_arrays(piece)
    if not len(faces):
        raise MedPrintError("The guide does not sit on the bone model.", hint="check the guide plan")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return write_stl(Mesh(vertices, faces, bone.space), out, space=bone.space)


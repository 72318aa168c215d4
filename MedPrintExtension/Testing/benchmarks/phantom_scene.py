"""The benchmark's large procedural CT: 512 x 512 x 400 voxels, written once into a cache folder.

A bone-like scene: the demo phantom (``medprint.phantom.demo_scene``) scaled by 1.5 (a skull-like
ellipsoid shell with a foramen, a limb with a closed cortical tube and marrow) plus a column of five
vertebra-like bodies (2 mm cortical shell around 150 HU cancellous bone, which is below the bone
threshold, so each body has an inner surface too). Voxels 0.5 x 0.5 mm in-plane, 0.6 mm slices,
plain axial, 10 HU Gaussian noise.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from medprint.phantom import BONE_HU, SOFT_TISSUE_HU, Cylinder, Ellipsoid, Shell, axial_geometry, write_series

NAME = "phantom-512x512x400"
VERSION = 1  # bump when the scene or the geometry changes, so cached copies are rewritten
SHAPE_KJI = (400, 512, 512)
SPACING_KJI = (0.6, 0.5, 0.5)
NOISE_HU = 10.0
SCALE = 1.5


def scene():
    geometry = axial_geometry(SHAPE_KJI, SPACING_KJI, center_lps=(0.0, 0.0, 0.0))
    s = SCALE
    head_c, head_r = (0.0, 0.0, 30.0 * s), tuple(r * s for r in (56.0, 66.0, 42.0))
    limb_z = -50.0 * s
    shapes = [
        # demo_scene(), every length times SCALE
        Ellipsoid(head_c, tuple(r + 4.0 * s for r in head_r), SOFT_TISSUE_HU),
        Shell(head_c, head_r, 5.0 * s, BONE_HU),
        Cylinder((0.0, 10.0 * s, -20.0 * s), (0.0, 10.0 * s, 2.0 * s), 12.0 * s, SOFT_TISSUE_HU),
        Cylinder((-70.0 * s, 0.0, limb_z), (70.0 * s, 0.0, limb_z), 22.0 * s, 50.0),
        Cylinder((-60.0 * s, 0.0, limb_z), (60.0 * s, 0.0, limb_z), 10.0 * s, BONE_HU),
        Cylinder((-56.0 * s, 0.0, limb_z), (56.0 * s, 0.0, limb_z), 6.0 * s, 20.0),
        # a vertebral column behind the limb: soft tissue, then cancellous cores, then cortical shells
        Cylinder((0.0, 60.0, -116.0), (0.0, 60.0, -22.0), 30.0, SOFT_TISSUE_HU),
    ]
    centres = [(0.0, 60.0, z) for z in (-105.0, -87.0, -69.0, -51.0, -33.0)]
    radii = (20.0, 15.0, 8.0)
    shapes += [Ellipsoid(c, radii, 150.0) for c in centres]
    shapes += [Shell(c, radii, 2.0, BONE_HU) for c in centres]
    return geometry, shapes


def ensure_phantom(cache_dir: Path, log=print) -> Path:
    """The phantom's DICOM folder in ``cache_dir``, written first if missing or out of date."""
    folder = Path(cache_dir) / NAME
    stamp = Path(cache_dir) / f"{NAME}.json"  # beside the series, so the folder holds only DICOM files
    info = {"name": NAME, "version": VERSION, "shape_kji": SHAPE_KJI, "spacing_kji": SPACING_KJI,
            "noise_hu": NOISE_HU, "scale": SCALE}
    if stamp.is_file():
        try:
            if json.loads(stamp.read_text()) == json.loads(json.dumps(info)):
                return folder
        except ValueError:
            pass
    if folder.exists():
        shutil.rmtree(folder)
    stamp.unlink(missing_ok=True)
    geometry, shapes = scene()
    last = [-1]

    def progress(fraction, message):
        pct = int(fraction * 10)
        if pct != last[0]:
            last[0] = pct
            log(f"  {message}")

    log(f"writing the {NAME} phantom into {folder} (once; cached afterwards) ...")
    write_series(folder, geometry, shapes, noise_hu=NOISE_HU, seed=0, progress=progress)
    stamp.write_text(json.dumps(info))
    return folder


if __name__ == "__main__":
    import sys

    # progress goes to stderr; the last stdout line is JSON for run.py
    path = ensure_phantom(Path(sys.argv[1]), log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps({"folder": str(path)}))

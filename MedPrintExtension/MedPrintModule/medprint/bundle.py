"""The case bundle: one zip with the meshes, the QA report, a manifest and a checksum per file.

The manifest records the software version, the settings, the parts and the source series' UIDs; it
holds no patient data (the case folder holds none). Entry names are relative to the case folder.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from . import __version__

MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(case_folder: Path, files: list[Path], path: Path, manifest: dict) -> Path:
    """Zip ``files`` (inside ``case_folder``) into ``path`` with ``manifest.json`` (``manifest`` plus
    the software and each file's size and SHA-256) and a ``SHA256SUMS`` list (``sha256sum -c`` format)."""
    entries = []
    for file in files:
        name = file.relative_to(case_folder).as_posix()
        entries.append({"file": name, "bytes": file.stat().st_size, "sha256": sha256(file)})
    full = {"software": f"MedPrint {__version__}", **manifest, "files": entries}
    sums = "".join(f"{e['sha256']}  {e['file']}\n" for e in entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for file, entry in zip(files, entries):
            z.write(file, entry["file"])
        z.writestr(MANIFEST, json.dumps(full, indent=2))
        z.writestr(CHECKSUMS, sums)
    tmp.replace(path)
    return path

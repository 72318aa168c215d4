"""Where a Slicer volume node came from: the non-identifying facts of its DICOM series.

Slicer's DICOM module loads a series into a scalar volume node and keeps the slices' SOP Instance
UIDs in its ``DICOM.instanceUIDs`` attribute (space-separated); the DICOM database finds each
slice's file. The core reads those files' headers (``medprint.dicom.read_source_info``), so a case
made in Slicer records its modality, slice thickness and UIDs (no names, IDs or dates) as one made
on the command line does, and the registry and the DICOM export can cite the source series.
"""

from medprint.dicom import read_source_info
from medprint.volume import SourceInfo

#: The volume node attribute in which Slicer's DICOM scalar volume plugin lists the slices' UIDs.
INSTANCE_UIDS_ATTRIBUTE = "DICOM.instanceUIDs"


def source_of_node(node, database=None) -> tuple[SourceInfo, str]:
    """The ``SourceInfo`` of the series ``node`` was loaded from, and a note ("" when complete).

    ``database`` answers ``fileForInstance(uid)`` with a file path ("" when unknown), as
    ``slicer.dicomDatabase`` does (the default). A node not loaded from DICOM (NRRD, NIfTI, a
    result of another module) has an empty ``SourceInfo``, and the note says why.
    """
    uids = (node.GetAttribute(INSTANCE_UIDS_ATTRIBUTE) or "").split() if node is not None else []
    if not uids:
        return SourceInfo(), "the volume was not loaded from DICOM, so its source series is not recorded"
    if database is None:
        import slicer

        database = getattr(slicer, "dicomDatabase", None)
    if database is None:
        return SourceInfo(), "Slicer's DICOM database is not open, so the source series is not recorded"
    files = [f for f in (database.fileForInstance(uid) for uid in uids) if f]
    if not files:
        return SourceInfo(), "the volume's DICOM files are no longer in Slicer's DICOM database"
    source = read_source_info(files)
    missing = len(uids) - len(files)
    return source, (f"{missing} of the volume's {len(uids)} DICOM files are no longer in Slicer's DICOM "
                    "database; the source cites the others" if missing else "")

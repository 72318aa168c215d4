"""Make MedPrint's built-in demo CT: a de-identified crop of a public CT series (CC BY 4.0).

Source: TCIA Pancreatic-CT-CBCT-SEG, subject Pancreas-CT-CB_001 (Hong J. et al. 2021,
doi:10.7937/TCIA.ESHQ-4D90), the 44-slice slab in ../shared/data/ct/abdomen-pancreas-ctcb001.
Each slice is cropped to rows 200-371 and columns 128-399 (the lumbar spine, lower ribs and iliac
wings) and written as a new CT series with new UIDs, no patient name, no dates and no device or
institution data; ImagePositionPatient is moved to the crop's first pixel. Deflated transfer syntax
keeps it near 2 MB.

    python derive_demo_ct.py <source-folder> <output-folder>
"""

import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid

ROWS = slice(200, 372)
COLUMNS = slice(128, 400)
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
COPIED = ("ImageOrientationPatient", "PixelSpacing", "SliceThickness", "RescaleIntercept", "RescaleSlope",
          "RescaleType", "KVP", "ConvolutionKernel", "BitsAllocated", "BitsStored", "HighBit",
          "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation", "WindowCenter", "WindowWidth")


def derive(source: Path, output: Path) -> None:
    files = sorted(p for p in source.glob("*.dcm"))
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    output.mkdir(parents=True, exist_ok=True)
    for n, path in enumerate(files, start=1):
        src = pydicom.dcmread(path)
        pixels = src.pixel_array[ROWS, COLUMNS]
        row_dir = np.array(src.ImageOrientationPatient[:3], float)
        col_dir = np.array(src.ImageOrientationPatient[3:], float)
        d_row, d_col = (float(v) for v in src.PixelSpacing)
        origin = np.array(src.ImagePositionPatient, float) + COLUMNS.start * d_col * row_dir \
            + ROWS.start * d_row * col_dir

        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality = "CT"
        ds.PatientName = ""
        ds.PatientID = "MEDPRINT-DEMO-CT"
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "crop of TCIA Pancreatic-CT-CBCT-SEG, new UIDs, no dates"
        ds.SeriesDescription = "MedPrint demo CT (lumbar spine, cropped)"
        ds.BodyPartExamined = "ABDOMEN"
        ds.InstanceNumber = n
        ds.ImagePositionPatient = [f"{v:.4f}" for v in origin]
        for keyword in COPIED:
            if keyword in src:
                setattr(ds, keyword, src[keyword].value)
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelData = np.ascontiguousarray(pixels).tobytes()
        ds.save_as(output / f"slice_{n:03d}.dcm", enforce_file_format=True)


if __name__ == "__main__":
    derive(Path(sys.argv[1]), Path(sys.argv[2]))

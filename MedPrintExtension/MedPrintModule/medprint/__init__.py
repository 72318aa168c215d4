"""MedPrint core: CT/MR volume -> segmentation -> print-ready surface, with no Slicer imports.

Coordinates: points in files and core types are LPS millimetres unless a name says otherwise
(``*_ras``). Arrays of image data are indexed ``[k, j, i]`` (slice, row, column), as in Slicer's
``arrayFromVolume``.
"""

__version__ = "0.1.0"

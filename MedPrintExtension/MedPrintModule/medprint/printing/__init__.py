"""Printing: slicing with the PrusaSlicer CLI or CuraEngine, G-code estimates, and printers behind one protocol
(OctoPrint, Moonraker, PrusaLink over HTTP; Marlin over USB serial). No Slicer imports."""

"""An OctoPrint slicer plugin for the tests (copied into the test OctoPrint's ``plugins`` folder).

It serves OctoPrint's slicing API (``POST /api/files/local/<model>`` with ``command: slice``) with
the PrusaSlicer CLI and takes STL and 3MF models, as slicer plugins such as OctoPrint-Slic3r do
for Slic3r/PrusaSlicer: OctoPrint then slices the uploaded model itself and prints the G-code.
"""

import json
import os
import shutil
import subprocess

import octoprint.plugin
from octoprint.filemanager import ContentTypeMapping
from octoprint.slicing import SlicingProfile

__plugin_name__ = "PrusaSlicer (MedPrint tests)"
__plugin_pythoncompat__ = ">=3.7,<4"

SLICER = "prusaslicer"
DEFAULT = {"layer_height": "0.3", "first_layer_height": "0.3", "fill_density": "10%", "perimeters": "2",
           "temperature": "210", "first_layer_temperature": "210", "bed_temperature": "60",
           "first_layer_bed_temperature": "60", "filament_diameter": "1.75", "skirts": "0"}


class PrusaSlicerPlugin(octoprint.plugin.SlicerPlugin):
    def is_slicer_configured(self):
        return shutil.which("prusa-slicer") is not None

    def get_slicer_properties(self):
        return {"type": SLICER, "name": "PrusaSlicer", "same_device": False, "progress_report": False,
                "source_file_types": ["model"], "destination_extensions": ["gcode"]}

    def get_slicer_extension_tree(self):
        return {"model": {"stl": ContentTypeMapping(["stl"], "application/sla"),
                          "3mf": ContentTypeMapping(["3mf"], "model/3mf")}}

    def get_slicer_default_profile(self):
        return SlicingProfile(SLICER, "default", dict(DEFAULT), display_name="Default")

    def get_slicer_profile(self, path):
        with open(path) as f:
            return SlicingProfile(SLICER, os.path.basename(path).rsplit(".", 1)[0], json.load(f))

    def save_slicer_profile(self, path, profile, allow_overwrite=True, overrides=None):
        if os.path.exists(path) and not allow_overwrite:
            raise IOError(f"{path} exists")
        with open(path, "w") as f:
            json.dump({**profile.data, **(overrides or {})}, f)

    def do_slice(self, model_path, printer_profile, machinecode_path=None, profile_path=None, position=None,
                 on_progress=None, on_progress_args=None, on_progress_kwargs=None):
        with open(profile_path) as f:
            config = json.load(f)
        volume = printer_profile["volume"]
        width, depth, height = volume["width"], volume["depth"], volume["height"]
        config.update(bed_shape=f"0x0,{width:g}x0,{width:g}x{depth:g},0x{depth:g}", max_print_height=f"{height:g}",
                      gcode_flavor="marlin2", start_gcode="G28\\nM190 S[first_layer_bed_temperature]\\n"
                      "M109 S[first_layer_temperature]\\nG92 E0", end_gcode="M104 S0\\nM140 S0\\nM84")
        machinecode_path = machinecode_path or os.path.splitext(model_path)[0] + ".gcode"
        ini = machinecode_path + ".ini"
        with open(ini, "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in config.items()))
        try:
            done = subprocess.run(["prusa-slicer", "--loglevel=1", "--load", ini, "--export-gcode", "--merge",
                                   "--center", f"{width / 2:g},{depth / 2:g}", "-o", machinecode_path, model_path],
                                  capture_output=True, text=True, timeout=600)
        finally:
            os.remove(ini)
        if done.returncode != 0:
            return False, f"PrusaSlicer failed ({done.returncode}): {(done.stdout + done.stderr)[-500:]}"
        return True, None

    def cancel_slicing(self, machinecode_path):
        pass


__plugin_implementation__ = PrusaSlicerPlugin()

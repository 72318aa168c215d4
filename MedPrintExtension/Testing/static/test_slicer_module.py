"""T2: static checks of the Slicer module, for what cannot run here (Slicer's Qt GUI).

The module folder must install completely (CMakeLists lists every .py and resource), the code must
only use widgets the .ui defines, the parameter node must bind to them, and the import rules hold:
MedPrint.py -> MedPrintLib -> medprint, nothing Slicer lacks imported at module level, and no
Slicer/Qt import anywhere in the core.
"""

import ast
import py_compile
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

MODULE_DIR = Path(__file__).resolve().parents[2] / "MedPrintModule"
MODULE_PY = MODULE_DIR / "MedPrint.py"
UI_FILE = MODULE_DIR / "Resources" / "UI" / "MedPrint.ui"
CORE_DIR = MODULE_DIR / "medprint"
LIB_DIR = MODULE_DIR / "MedPrintLib"
#: the module file and the MedPrintLib panels (the widget's section handlers reach widgets as self.ui.X)
GUI_FILES = [MODULE_PY, *sorted(LIB_DIR.glob("*_panel.py"))]

#: third-party modules a Slicer install ships (so they may be imported at module level)
SLICER_SHIPS = {"numpy", "scipy", "vtk", "vtkmodules", "pydicom", "SimpleITK", "PIL"}
#: Slicer's own Python modules (only inside Slicer)
SLICER_ONLY = {"slicer", "qt", "ctk", "MedPrintLib"}
#: installed on first use with consent, so never at module level on the Slicer side
FIRST_USE = {"trimesh", "manifold3d", "serial", "requests", "pymeshfix", "lib3mf", "typer", "rich", "embreex",
             "pydantic"}
WIDGET_PREFIXES = ("Q", "ctk", "qMRML", "qSlicer")
#: non-Qt widget classes that Slicer's designer plugins provide (CTK widgets, MRML widgets, Segmentations)
SLICER_WIDGETS = {
    "ctkCollapsibleButton", "ctkCollapsibleGroupBox", "ctkPathLineEdit", "ctkDirectoryButton", "ctkSliderWidget",
    "ctkRangeWidget", "ctkDoubleSpinBox", "ctkComboBox", "ctkCheckBox", "ctkMenuButton", "qMRMLWidget",
    "qMRMLNodeComboBox", "qMRMLCheckableNodeComboBox", "qMRMLSegmentEditorWidget", "qMRMLSegmentSelectorWidget",
    "qMRMLSubjectHierarchyTreeView", "qMRMLMarkupsPlaceWidget", "qSlicerWidget",
}
#: widget class -> annotation types parameterNodeWrapper's GUI connectors bind it to (Slicer's
#: guiConnectors.py matches the class exactly: a ctkDoubleSpinBox or ctkComboBox is NOT bound)
CONNECTORS = {
    "QCheckBox": {"bool"}, "QPushButton": {"bool"}, "QSpinBox": {"int"}, "QSlider": {"int"},
    "QDoubleSpinBox": {"float"}, "ctkSliderWidget": {"float"}, "QComboBox": {"str", "int", "float", "bool"},
    "QLineEdit": {"str"}, "QTextEdit": {"str"}, "ctkPathLineEdit": {"Path"}, "ctkDirectoryButton": {"Path"},
    "qMRMLNodeComboBox": {"node"},
}


# ---------------------------------------------------------------- helpers


def _cmake_list(name: str) -> list[str]:
    """The items of ``set(name ...)``, with ``${MODULE_NAME}`` and ``file(GLOB VAR RELATIVE dir pattern)``
    variables expanded as CMake would."""
    text = (MODULE_DIR / "CMakeLists.txt").read_text()
    text = re.sub(r"#.*", "", text)
    globs = {var: sorted(p.relative_to(MODULE_DIR).as_posix() for p in MODULE_DIR.glob(pattern))
             for var, pattern in re.findall(r"file\(\s*GLOB\s+(\w+)\s+RELATIVE\s+\S+\s+(\S+)\s*\)", text)}
    match = re.search(r"set\(\s*" + name + r"\s+(.*?)\)", text, re.S)
    assert match, f"{name} is not set in {MODULE_DIR / 'CMakeLists.txt'}"
    items = []
    for item in match.group(1).split():
        variable = re.fullmatch(r"\$\{(\w+)\}", item)
        items += globs[variable.group(1)] if variable and variable.group(1) in globs else \
            [item.replace("${MODULE_NAME}", "MedPrint")]
    return items


def _module_files(pattern: str) -> set[str]:
    return {p.relative_to(MODULE_DIR).as_posix() for p in MODULE_DIR.rglob(pattern)
            if "__pycache__" not in p.parts}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _imports(tree: ast.AST, top_level_only: bool):
    """(node, absolute module name or None, relative level) for each import in ``tree``.

    Top level means executed on import: module body, including inside if/try/with at module level,
    but not inside functions or classes' methods, nor under ``if TYPE_CHECKING:``."""
    if top_level_only:
        nodes, stack = [], list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                stack.extend(node.orelse)  # only for type checkers: never executed
                continue
            nodes.append(node)
            stack.extend(ast.iter_child_nodes(node))
    else:
        nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node, node.module, node.level
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            yield node, node.args[0].value, 0


def _top(name: str) -> str:
    return name.split(".")[0]


def _ui_widgets() -> dict[str, ET.Element]:
    root = ET.parse(UI_FILE).getroot()
    return {w.get("name"): w for w in root.iter("widget")}


def _parameter_fields() -> dict[str, ast.AST]:
    """Field name -> annotation of the @parameterNodeWrapper class in MedPrint.py."""
    for node in ast.walk(_tree(MODULE_PY)):
        if isinstance(node, ast.ClassDef) and any(
                (isinstance(d, ast.Name) and d.id == "parameterNodeWrapper")
                or (isinstance(d, ast.Attribute) and d.attr == "parameterNodeWrapper")
                for d in node.decorator_list):
            return {stmt.target.id: stmt.annotation for stmt in node.body
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)}
    raise AssertionError("MedPrint.py has no @parameterNodeWrapper class")


# ---------------------------------------------------------------- CMakeLists


def test_every_python_file_is_listed_in_cmakelists_and_every_listed_file_exists():
    listed = _cmake_list("MODULE_PYTHON_SCRIPTS")
    assert len(listed) == len(set(listed)), "MODULE_PYTHON_SCRIPTS lists a file twice"
    on_disk = _module_files("*.py")
    assert on_disk - set(listed) == set(), "not listed in MODULE_PYTHON_SCRIPTS (would not be installed)"
    assert set(listed) - on_disk == set(), "listed in MODULE_PYTHON_SCRIPTS but missing on disk"
    assert "MedPrint.py" in listed


def test_every_resource_exists_and_is_listed():
    listed = _cmake_list("MODULE_PYTHON_RESOURCES")
    # the module's resources and the core's data files (rules, schema, templates, demo CT and plan)
    on_disk = {p for p in _module_files("*") if (MODULE_DIR / p).is_file() and not p.endswith((".py", ".pyc"))
               and p != "CMakeLists.txt" and ".egg-info/" not in p}  # pip's build metadata is not ours
    assert len(listed) == len(set(listed)), "MODULE_PYTHON_RESOURCES lists a file twice"
    assert set(listed) - on_disk == set(), "listed in MODULE_PYTHON_RESOURCES but missing on disk"
    assert on_disk - set(listed) == set(), "resource files not listed in MODULE_PYTHON_RESOURCES"
    assert {"Resources/UI/MedPrint.ui", "Resources/Icons/MedPrint.png"} <= set(listed)


def test_icon_is_a_128px_png():
    data = (MODULE_DIR / "Resources" / "Icons" / "MedPrint.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert int.from_bytes(data[16:20], "big") == 128 and int.from_bytes(data[20:24], "big") == 128


def test_resource_paths_used_in_the_module_exist():
    paths = [node.args[0].value for node in ast.walk(_tree(MODULE_PY))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "resourcePath" and node.args and isinstance(node.args[0], ast.Constant)]
    assert "UI/MedPrint.ui" in paths
    for path in paths:
        assert (MODULE_DIR / "Resources" / path).is_file(), path


def test_root_cmakelists_declares_the_extension():
    text = (MODULE_DIR.parents[1] / "CMakeLists.txt").read_text()
    for variable in ("EXTENSION_HOMEPAGE", "EXTENSION_CATEGORY", "EXTENSION_CONTRIBUTORS",
                     "EXTENSION_DESCRIPTION", "EXTENSION_ICONURL", "EXTENSION_SCREENSHOTURLS",
                     "EXTENSION_DEPENDS"):
        assert re.search(r"set\(\s*" + variable + r"\s+\S", text), variable
    for line in ("find_package(Slicer REQUIRED)", "include(${Slicer_USE_FILE})",
                 "add_subdirectory(MedPrintExtension/MedPrintModule)",
                 "include(${Slicer_EXTENSION_GENERATE_CONFIG})", "include(${Slicer_EXTENSION_CPACK})"):
        assert line in text, line
    assert "slicerMacroBuildScriptedModule" in (MODULE_DIR / "CMakeLists.txt").read_text()
    screenshots = re.search(r'set\(EXTENSION_SCREENSHOTURLS\s+"([^"]+)"', text).group(1).split()
    icon = re.search(r'set\(EXTENSION_ICONURL\s+"([^"]+)"', text).group(1)
    assert screenshots, "the extension index shows these pictures"
    for url in [icon, *screenshots]:  # each URL names a file in this repository
        assert (MODULE_DIR.parents[1] / url.split("/main/", 1)[1]).is_file(), url


# ---------------------------------------------------------------- .ui and widget names


def test_ui_is_a_qmrml_widget_with_slicer_widget_classes():
    root = ET.parse(UI_FILE).getroot()
    top = root.find("widget")
    assert top.get("class") == "qMRMLWidget" and top.get("name") == "MedPrint"
    for name, widget in _ui_widgets().items():
        assert widget.get("class").startswith(WIDGET_PREFIXES), (name, widget.get("class"))
    custom = {c.findtext("class") for c in root.iter("customwidget")}
    used = {w.get("class") for w in _ui_widgets().values() if not w.get("class").startswith("Q")}
    assert used <= custom, f"custom widgets used but not declared: {used - custom}"
    assert used <= SLICER_WIDGETS, f"widget classes Slicer does not provide: {used - SLICER_WIDGETS}"
    for c in root.iter("customwidget"):
        assert c.findtext("header") == c.findtext("class") + ".h", c.findtext("class")
        assert c.findtext("extends") in ("QWidget", "qMRMLWidget", "qMRMLNodeComboBox"), c.findtext("class")


def _step_widgets_in_setup() -> dict[str, list[str]]:
    """The ``self._sections`` dict MedPrintWidget.setup builds: step -> the ui names it holds."""
    for node in ast.walk(_tree(MODULE_PY)):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute)
                and node.targets[0].attr == "_sections" and isinstance(node.value, ast.Dict)):
            return {ast.literal_eval(k): [e.attr for e in v.elts if isinstance(e, ast.Attribute)]
                    for k, v in zip(node.value.keys, node.value.values)}
    raise AssertionError("MedPrintWidget.setup builds no self._sections dict")


def test_one_section_per_workflow_step_with_a_status_line_and_next_button():
    from medprint.workflow import STEPS

    widgets = _ui_widgets()
    sections = _step_widgets_in_setup()
    assert list(sections) == list(STEPS), "one section per workflow step, in the workflow's order"
    for index, (step, names) in enumerate(sections.items()):
        expected = [f"{step}CollapsibleButton", f"{step}StatusLabel"]
        if index < len(STEPS) - 1:
            expected.append(f"{step}NextButton")
        assert names == expected, (step, names)
        assert widgets[expected[0]].get("class") == "ctkCollapsibleButton"
        assert widgets[expected[1]].get("class") == "QLabel"
        if len(expected) == 3:
            assert widgets[expected[2]].get("class") == "QPushButton"
    module = _tree(MODULE_PY)
    constants = {t.id: ast.literal_eval(n.value) for n in module.body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name) and t.id == "STEP_FEATURES"}
    later = list(STEPS[STEPS.index("model") + 1:])
    from MedPrintLib.step_status import LATER_STEPS

    assert list(LATER_STEPS) == later
    from MedPrintLib.dependencies import FEATURES

    assert set(constants["STEP_FEATURES"]) == set(later) and set(constants["STEP_FEATURES"].values()) <= set(FEATURES)
    for step in later:  # each later step runs its core's runner and shows the figures it recorded
        assert widgets[f"{step}RunButton"].get("class") == "QPushButton"
        assert widgets[f"{step}ResultsTable"].get("class") == "QTableWidget"


def test_segment_step_embeds_slicers_segment_editor():
    widgets = _ui_widgets()
    assert widgets["segmentEditorWidget"].get("class") == "qMRMLSegmentEditorWidget"
    section = next(w for w in ET.parse(UI_FILE).getroot().iter("widget") if w.get("name") == "segmentCollapsibleButton")
    inside = {w.get("name") for w in section.iter("widget")}
    assert {"segmentEditorWidget", "presetComboBox", "presetButton", "segmentationSelector",
            "inputVolumeSelector"} <= inside, "the presets are one click away, beside the Segment Editor"
    text = MODULE_PY.read_text()
    for call in ("setMRMLSegmentEditorNode(", "setSegmentationNode(", "setSourceVolumeNode(",
                 "setSegmentationNodeSelectorVisible(False)", "setSourceVolumeNodeSelectorVisible(False)",
                 "removeViewObservations()", "setActiveEffect(None)"):
        assert call in text, f"the Segment Editor embedding misses {call}"


def _ui_names_used(path: Path) -> set:
    return {node.attr for node in ast.walk(_tree(path))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "ui" and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "self"}


def test_every_ui_attribute_used_in_the_module_is_a_widget_in_the_ui():
    widgets = _ui_widgets()
    for path in GUI_FILES:
        missing = _ui_names_used(path) - set(widgets)
        assert not missing, f"self.ui.<name> used in {path.name} but not in the .ui: {missing}"
    used = set().union(*map(_ui_names_used, GUI_FILES))
    assert {"makeModelButton", "presetButton", "segmentEditorWidget", "caseStatusLabel", "printPrinterComboBox",
            "registerCheckButton", "registerCheckLabel", "registerOutboxLabel"} <= used


def test_mrml_selectors_get_the_scene_and_have_node_types():
    root = ET.parse(UI_FILE).getroot()
    connected = {c.findtext("receiver") for c in root.iter("connection")
                 if c.findtext("sender") == "MedPrint" and c.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"
                 and c.findtext("slot") == "setMRMLScene(vtkMRMLScene*)"}
    for name, widget in _ui_widgets().items():
        if widget.get("class").startswith(("qMRML", "qSlicer")) and name != "MedPrint":
            assert name in connected, f"{name} does not get the scene (setMRMLScene connection)"
        if widget.get("class") == "qMRMLNodeComboBox":
            types = [s.text for p in widget.findall("property") if p.get("name") == "nodeTypes"
                     for s in p.iter("string")]
            assert types, f"{name} has no nodeTypes"


def _aliases() -> dict:
    """Type aliases MedPrint.py defines at module level (``Minutes = Annotated[int, ...]``)."""
    return {t.id: n.value for n in _tree(MODULE_PY).body if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Subscript)
            and ast.unparse(n.value.value) == "Annotated"}


def _annotation_kind(annotation: ast.AST) -> str:
    """'bool'/'int'/'float'/'str'/'Path'/'node' for a field annotation (aliases and Annotated[...] unwrapped)."""
    annotation = _aliases().get(ast.unparse(annotation), annotation)
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Annotated":
        annotation = annotation.slice.elts[0]
    name = ast.unparse(annotation)
    return "node" if name.startswith("vtkMRML") else name.split(".")[-1]


def test_every_bound_widget_maps_to_a_parameter_node_field_of_a_matching_type():
    fields = _parameter_fields()
    assert {"caseFolder", "caseLabel", "inputVolume", "segmentation", "preset", "smoothing", "targetTriangles",
            "outputModel", "guideContactPoints", "guideTrajectories", "guideCutPlanes", "guideTechnology"} <= set(fields)
    bound = {}
    for name, widget in _ui_widgets().items():
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                assert prop.get("stdset") == "0", f"{name}: SlicerParameterName must be a dynamic property"
                bound[name] = (widget, prop.findtext("string"))
    assert bound, "no widget has a SlicerParameterName"
    assert len({p for _, p in bound.values()}) == len(bound), "two widgets bound to one parameter"
    for name, (widget, parameter) in bound.items():
        assert parameter in fields, f"{name} is bound to '{parameter}', which is not a parameter-node field"
        annotation, cls = fields[parameter], widget.get("class")
        kind = _annotation_kind(annotation)
        assert cls in CONNECTORS, f"{name}: parameterNodeWrapper cannot bind a {cls}"
        assert kind in CONNECTORS[cls], f"{name}: a {cls} cannot hold '{parameter}: {ast.unparse(annotation)}'"
        text = ast.unparse(_aliases().get(ast.unparse(annotation), annotation))
        if cls == "qMRMLNodeComboBox":
            types = [s.text for p in widget.findall("property") if p.get("name") == "nodeTypes"
                     for s in p.iter("string")]
            assert text in types, f"{name}: nodeTypes {types} do not include {text}"
        if cls == "QComboBox":
            assert "Choice(" in text, f"{name}: a combo box needs a Choice annotation, got {text}"
        if cls in ("ctkSliderWidget", "QSlider"):
            assert "Minimum(" in text and "Maximum(" in text, f"{name}: a slider needs a bounded field"


def test_checkable_selectors_sync_list_fields_of_their_node_type():
    """qMRMLCheckableNodeComboBox has no GUI connector: the guide panel maps each to a list field."""
    fields = _parameter_fields()
    synced = next(node.value for node in ast.walk(_tree(LIB_DIR / "guide_panel.py")) if isinstance(node, ast.Assign)
                  and isinstance(node.targets[0], ast.Attribute) and node.targets[0].attr == "selectors")
    mapping = {ast.literal_eval(k): v.attr for k, v in zip(synced.keys, synced.values)}
    widgets = _ui_widgets()
    checkable = {name for name, w in widgets.items() if w.get("class") == "qMRMLCheckableNodeComboBox"}
    assert set(mapping.values()) == checkable
    for field, name in mapping.items():
        types = [s.text for p in widgets[name].findall("property") if p.get("name") == "nodeTypes"
                 for s in p.iter("string")]
        assert ast.unparse(fields[field]) == f"list[{types[0]}]" and len(types) == 1, (field, name)


def test_adapters_read_the_parameter_node_under_its_field_names_and_types():
    """case_node reads the scripted-module node directly (as parameterNodeWrapper stores it)."""
    from MedPrintLib import case_node

    fields = {name: _annotation_kind(a) for name, a in _parameter_fields().items()}
    assert fields[case_node.CASE_FOLDER] == "Path" and fields[case_node.CASE_LABEL] == "str"
    for name, kind in case_node.MODEL_PARAMETERS.values():
        assert fields[name] == kind.__name__, name


def test_guide_technologies_are_the_cores():
    from medprint.guide.plan import TECHNOLOGIES

    value = next(n.value for n in _tree(MODULE_PY).body if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "GUIDE_TECHNOLOGIES" for t in n.targets))
    assert tuple(ast.literal_eval(value)) == tuple(TECHNOLOGIES)


# ---------------------------------------------------------------- Python: compile and imports


def test_module_compiles(tmp_path):
    for path in [MODULE_PY, *sorted(LIB_DIR.glob("*.py"))]:
        py_compile.compile(str(path), cfile=str(tmp_path / (path.name + "c")), doraise=True)


def test_module_has_the_four_classes_and_stays_thin():
    classes = {node.name: [ast.unparse(b) for b in node.bases]
               for node in _tree(MODULE_PY).body if isinstance(node, ast.ClassDef)}
    assert "ScriptedLoadableModule" in classes["MedPrint"]
    assert "ScriptedLoadableModuleWidget" in classes["MedPrintWidget"]
    assert "ScriptedLoadableModuleLogic" in classes["MedPrintLogic"]
    assert "ScriptedLoadableModuleTest" in classes["MedPrintTest"]
    assert "MedPrintParameterNode" in classes
    # the four classes and the parameter node; the sections' handlers and actions are MedPrintLib panels
    assert len(MODULE_PY.read_text().splitlines()) <= 440, "MedPrint.py should stay thin; move work to the core"


def test_translation_function_is_never_shadowed():
    """``_`` is slicer.i18n.tr in MedPrint.py: a loop or unpacking that assigns ``_`` in a function
    makes every ``_("...")`` there fail (UnboundLocalError) at run time, which only Slicer would show."""
    stores = [node.lineno for node in ast.walk(_tree(MODULE_PY))
              if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)]
    assert stores == [], f"MedPrint.py assigns '_' on line(s) {stores}"


def test_module_imports_at_top_level_only_what_slicer_has():
    allowed = set(sys.stdlib_module_names) | {"slicer", "qt", "ctk", "vtk", "MedPrintLib", "medprint"}
    for node, name, level in _imports(_tree(MODULE_PY), top_level_only=True):
        assert level == 0 and name and _top(name) in allowed, (
            f"MedPrint.py line {node.lineno}: top-level import of '{name}' (not shipped with Slicer)")


def test_adapters_import_at_top_level_only_what_slicer_has():
    allowed = set(sys.stdlib_module_names) | SLICER_SHIPS | SLICER_ONLY | {"medprint"}
    for path in sorted(LIB_DIR.glob("*.py")):
        for node, name, level in _imports(_tree(path), top_level_only=True):
            if level:  # relative: within MedPrintLib
                continue
            assert _top(name) not in FIRST_USE and _top(name) in allowed, (
                f"{path.name} line {node.lineno}: top-level import of '{name}'; import it inside the "
                "function that needs it, after MedPrintLib.dependencies.ensure_packages")


def _core_module_path(name: str) -> Path:
    parts = name.split(".")[1:]
    base = CORE_DIR.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_core_modules_loaded_when_slicer_imports_the_module_need_only_what_slicer_ships():
    """MedPrint.py and MedPrintLib import some core modules at load time; follow those imports
    (transitively) and check that each one needs only the standard library and what Slicer ships."""
    allowed = set(sys.stdlib_module_names) | SLICER_SHIPS | {"medprint"}
    todo = []
    for path in [MODULE_PY, *LIB_DIR.glob("*.py")]:
        todo += [name for _, name, level in _imports(_tree(path), top_level_only=True)
                 if level == 0 and name and _top(name) == "medprint"]
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen or name == "medprint":
            continue
        seen.add(name)
        path = _core_module_path(name)
        assert path.is_file(), f"{name} is imported at module level but {path} does not exist"
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node, imported, level in _imports(_tree(path), top_level_only=True):
            if level:
                base = package.split(".")
                base = base[:len(base) - (level - 1)]
                imported = ".".join(base + ([imported] if imported else []))
                if not imported.count("."):  # "from . import x, y": modules of the package, or names
                    todo += [f"{imported}.{a.name}" for a in node.names  # of its __init__ (scanned anyway)
                             if _core_module_path(f"{imported}.{a.name}").is_file()]
                    continue
            assert _top(imported) in allowed, (
                f"{path.relative_to(MODULE_DIR)} line {node.lineno}: top-level import of '{imported}' is "
                "loaded when Slicer imports MedPrint, but Slicer does not ship it; import it lazily")
            if _top(imported) == "medprint":
                todo.append(imported)
    assert "medprint.segment" in seen


def test_core_never_imports_slicer_qt_ctk_or_the_adapters():
    files = sorted(p for p in CORE_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    assert files
    for path in files:
        for node, name, level in _imports(_tree(path), top_level_only=False):
            if level or not name:
                continue
            assert _top(name) not in SLICER_ONLY | {"__main__"}, (
                f"{path.relative_to(MODULE_DIR)} line {node.lineno} imports '{name}': the core must run "
                "without Slicer; put Slicer code in MedPrintLib")


@pytest.mark.parametrize("source, everywhere, top_level", [
    ("import trimesh", ["trimesh"], ["trimesh"]),
    ("def f():\n    import slicer", ["slicer"], []),
    ("import importlib\nimportlib.import_module('qt')", ["importlib", "qt"], ["importlib", "qt"]),
    ("try:\n    import requests\nexcept ImportError:\n    pass", ["requests"], ["requests"]),
    ("class A:\n    import serial\n    def f(self):\n        from slicer import util", ["serial", "slicer"], ["serial"]),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pydantic\nelse:\n    import json",
     ["typing", "pydantic", "json"], ["typing", "json"]),
])
def test_import_scanner_sees_nested_and_dynamic_imports(source, everywhere, top_level):
    """The checks above are only as good as the scanner that feeds them."""
    tree = ast.parse(source)
    assert sorted(name for _, name, _ in _imports(tree, top_level_only=False)) == sorted(everywhere)
    assert sorted(name for _, name, _ in _imports(tree, top_level_only=True)) == sorted(top_level)


# ---------------------------------------------------------------- first-use installs, presets


def test_first_use_install_asks_before_installing_and_checks_the_result():
    from MedPrintLib import dependencies
    from medprint.errors import MedPrintError

    asked, installed = [], []
    assert dependencies.ensure_packages([], confirm=asked.append, install=installed.append)
    assert dependencies.ensure_packages(["trimesh"], confirm=asked.append, install=installed.append)
    assert asked == [] and installed == []  # present (in this venv): no question, no install

    missing = dict(dependencies.PACKAGES, medprint_not_a_package="medprint-not-a-package")
    original = dependencies.PACKAGES
    dependencies.PACKAGES = missing
    try:
        declined = dependencies.ensure_packages(["medprint_not_a_package"],
                                                confirm=lambda text: asked.append(text) or False,
                                                install=installed.append)
        assert declined is False and len(asked) == 1 and installed == []
        assert "medprint-not-a-package" in asked[0]
        with pytest.raises(MedPrintError, match="did not succeed"):
            dependencies.ensure_packages(["medprint_not_a_package"], confirm=lambda text: True,
                                         install=installed.append)
        assert installed == ["medprint-not-a-package"]
    finally:
        dependencies.PACKAGES = original
    for feature, modules in dependencies.FEATURES.items():
        assert set(modules) <= set(dependencies.PACKAGES), feature


def test_preset_colours_cover_the_core_presets():
    from medprint.segment import PRESETS

    colors = next(node.value for node in _tree(LIB_DIR / "model_panel.py").body if isinstance(node, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == "PRESET_COLORS" for t in node.targets))
    assert {ast.literal_eval(key) for key in colors.keys} == set(PRESETS)


# ---------------------------------------------------------------- the Register form and the printer choice


def test_register_form_fields_are_typed_parameter_fields_bound_to_widgets_that_show_unknown():
    """Each answer of MedPrintLib.register_form is a parameter-node field of its type and default, bound to
    one widget; a choice field takes its choices from the form; a number field's "not answered" default is
    its spin box's minimum, shown as "unknown"."""
    from MedPrintLib import register_form

    fields = _parameter_fields()
    body = next(n for n in ast.walk(_tree(MODULE_PY)) if isinstance(n, ast.ClassDef) and n.name == "MedPrintParameterNode")
    defaults = {s.target.id: ast.literal_eval(s.value) for s in body.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.value, (ast.Constant, ast.UnaryOp))}
    bound = {prop.findtext("string"): widget for widget in _ui_widgets().values() for prop in widget.findall("property")
             if prop.get("name") == "SlicerParameterName"}
    expected = {name: (kind, choices, default) for name, (_path, kind, choices, default) in register_form.FIELDS.items()}
    for code_field, units_field in register_form.CODE_FIELDS.values():
        expected[code_field] = (str, ["suggested"], "suggested")
        expected[units_field] = (int, None, 1)
    for name, (kind, choices, default) in expected.items():
        assert _annotation_kind(fields[name]) == kind.__name__, name
        assert defaults.get(name, "") == default, name
        widget = bound[name]
        text = ast.unparse(fields[name])
        if choices is not None:
            assert widget.get("class") == "QComboBox", name
            assert f'formChoice({name!r})' in text.replace('"', "'") or "code_choices(" in text, name
        elif kind is int:
            props = {p.get("name"): p for p in widget.findall("property")}
            assert widget.get("class") == "QSpinBox" and int(props["minimum"].findtext("number")) == default, name
            if name not in ("registerModelUnits", "registerGuideUnits"):
                assert props["specialValueText"].findtext("string") == "unknown", name
        else:
            assert widget.get("class") == "QLineEdit", name


def test_printer_choice_and_form_checks_have_their_widgets():
    widgets = _ui_widgets()
    assert widgets["printPrinterComboBox"].get("class") == "QComboBox"
    # filled by the print panel from the configured printers (not bound: the list is not fixed)
    assert not any(p.get("name") == "SlicerParameterName" for p in widgets["printPrinterComboBox"].findall("property"))
    assert "printPrinter" in _parameter_fields()
    for name in ("registerCheckButton", "registerRunButton"):
        assert widgets[name].get("class") == "QPushButton"
    text = {p.get("name"): p for p in widgets["registerCheckLabel"].findall("property")}
    assert text["textFormat"].findtext("enum") == "Qt::RichText"

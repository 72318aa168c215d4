"""The module's Qt side on real Qt (PySide6, offscreen): MedPrint.ui loaded by Qt's own form loader, and
the MedPrintLib panels run on the widgets it builds.

What is real here: Qt's .ui parser and layouts, every Qt widget class (QComboBox, QSpinBox, QTableWidget,
QLabel, ...), their signals and rendering of values (a spin box's "unknown" at its minimum), and the
panels' code calling them. What is not: Slicer's CTK and MRML widgets, which are placeholders named after
their classes (plain QWidgets that record the scene they are given), PythonQt (Slicer's binding; the
panels call only Qt's C++ API, which both bindings share), and parameterNodeWrapper's connectGui (the
panels' ``host.parameters`` is a plain object). Those need Slicer itself: ``MedPrintTest``.
"""

import os
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtUiTools import QUiLoader  # noqa: E402

UI_FILE = Path(__file__).resolve().parents[2] / "MedPrintModule" / "Resources" / "UI" / "MedPrint.ui"
#: Qt messages expected from placeholders: CTK's own enum types are unknown to a placeholder
EXPECTED_MESSAGES = ("Designer: The set-type property filters could not be read.",)


def _placeholders(root: ET.Element) -> list:
    """A QWidget subclass per custom widget of the .ui, named like it and extending its placeholder base;
    the MRML ones take the scene (``setMRMLScene``), ``qMRMLWidget`` signals it (``mrmlSceneChanged``)."""
    made = {}

    def make(name: str, extends: str):
        if name in made:
            return made[name]
        base = QtWidgets.QWidget if extends == "QWidget" else make(extends, specs[extends])
        namespace = {}
        if name == "qMRMLWidget":
            namespace["mrmlSceneChanged"] = QtCore.Signal("QObject*")
        if name.startswith("qMRML"):
            def setMRMLScene(self, scene):
                self.scene = scene
            namespace["setMRMLScene"] = QtCore.Slot("QObject*")(setMRMLScene)
        made[name] = type(name, (base,), namespace)
        return made[name]

    specs = {c.findtext("class"): c.findtext("extends") for c in root.iter("customwidget")}
    return [make(name, extends) for name, extends in specs.items()]


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def loaded(app):
    """(top widget, Qt's messages while loading) for MedPrint.ui; the .ui's scene connections are
    rewritten from vtkMRMLScene* to QObject* (a type Qt knows) before loading."""
    messages = []
    previous = QtCore.qInstallMessageHandler(lambda kind, context, text: messages.append(text))
    loader = QUiLoader()
    for cls in _placeholders(ET.parse(UI_FILE).getroot()):
        loader.registerCustomWidget(cls)
    data = QtCore.QByteArray(UI_FILE.read_bytes().replace(b"vtkMRMLScene*", b"QObject*"))
    buffer = QtCore.QBuffer(data)
    buffer.open(QtCore.QIODevice.ReadOnly)
    top = loader.load(buffer)
    QtCore.qInstallMessageHandler(previous)
    assert top is not None, loader.errorString()
    yield top, messages
    top.deleteLater()


def _ui(top) -> types.SimpleNamespace:
    """What slicer.util.childWidgetVariables gives: every named child as an attribute."""
    return types.SimpleNamespace(**{w.objectName(): w for w in top.findChildren(QtWidgets.QWidget) if w.objectName()})


@pytest.fixture
def qt_module(monkeypatch):
    """Slicer's ``qt`` module as far as the panels use it, from PySide6's classes."""
    module = types.ModuleType("qt")
    module.QTableWidgetItem, module.Qt = QtWidgets.QTableWidgetItem, QtCore.Qt
    monkeypatch.setitem(sys.modules, "qt", module)
    return module


def test_qt_builds_every_widget_of_the_ui_with_its_class_and_no_warnings(loaded):
    top, messages = loaded
    assert [m for m in messages if m not in EXPECTED_MESSAGES] == []
    declared = {w.get("name"): w.get("class") for w in ET.parse(UI_FILE).getroot().iter("widget")}
    for name, cls in declared.items():
        widget = top if name == top.objectName() else top.findChild(QtWidgets.QWidget, name)
        assert widget is not None, name
        assert type(widget).__name__ == cls, (name, type(widget).__name__)
    assert len(declared) > 130  # the whole form was read


def test_the_scene_reaches_every_mrml_widget_through_the_ui_connections(loaded):
    top, _messages = loaded
    scene = QtCore.QObject()
    top.mrmlSceneChanged.emit(scene)
    mrml = [w for w in top.findChildren(QtWidgets.QWidget) if type(w).__name__.startswith("qMRML")]
    assert len(mrml) >= 8 and all(getattr(w, "scene", None) is scene for w in mrml), \
        [w.objectName() for w in mrml if getattr(w, "scene", None) is not scene]


def test_each_steps_widgets_sit_inside_its_section(loaded):
    top, _messages = loaded
    steps = ("segment", "model", "guide", "export", "print", "register")
    sections = [top.findChild(QtWidgets.QWidget, f"{step}CollapsibleButton") for step in steps]
    layout_order = [top.layout().indexOf(section) for section in sections]
    assert layout_order == sorted(layout_order) and -1 not in layout_order  # in the workflow's order
    named = {w.objectName() for w in top.findChildren(QtWidgets.QWidget)}
    for step, section in zip(steps, sections):
        assert isinstance(section.layout(), QtWidgets.QFormLayout), step
        inside = {w.objectName() for w in section.findChildren(QtWidgets.QWidget)}
        mine = {n for n in named if n.startswith(step) and n != f"{step}CollapsibleButton"}
        assert f"{step}StatusLabel" in inside and mine <= inside, (step, mine - inside)
    register = top.findChild(QtWidgets.QWidget, "registerCollapsibleButton")
    effort = register.findChild(QtWidgets.QGridLayout, "registerEffortLayout")
    spins = {(r, c): effort.itemAtPosition(r, c).widget().objectName() for r in range(1, 5) for c in (1, 2)}
    assert spins[(2, 1)] == "registerSegmentationClinicianSpinBox" and spins[(4, 2)] == "registerPostProcessingOtherSpinBox"
    assert len(set(spins.values())) == 8


def test_bound_widgets_are_the_exact_qt_classes_slicers_connectors_take(loaded):
    """parameterNodeWrapper's connectors match ``type(widget)`` exactly (guiConnectors.py): a subclass
    would not be bound. Each field's widget carries its name as the dynamic SlicerParameterName."""
    from MedPrintLib import register_form

    top, _messages = loaded
    bound = {w.property("SlicerParameterName"): w for w in top.findChildren(QtWidgets.QWidget)
             if w.property("SlicerParameterName")}
    for name, (_path, kind, choices, _default) in register_form.FIELDS.items():
        expected = QtWidgets.QComboBox if choices else QtWidgets.QSpinBox if kind is int else QtWidgets.QLineEdit
        assert type(bound[name]) is expected, name
    for code_field, units_field in register_form.CODE_FIELDS.values():
        assert type(bound[code_field]) is QtWidgets.QComboBox and type(bound[units_field]) is QtWidgets.QSpinBox
    assert "printPrinter" not in bound  # the printer list is filled by the print panel


def test_unanswered_numbers_read_unknown_and_answers_read_as_numbers(loaded):
    """Qt shows a spin box's specialValueText at its minimum: the form's "not answered" values (-1 minutes,
    0 for 1-5 scores) read "unknown", an answer reads as the number with its unit."""
    from MedPrintLib import register_form

    top, _messages = loaded
    spins = {w.property("SlicerParameterName"): w for w in top.findChildren(QtWidgets.QSpinBox)
             if str(w.property("SlicerParameterName")).startswith("register")}
    numbers = {n: f for n, f in register_form.FIELDS.items() if f[1] is int}
    assert set(numbers) <= set(spins)
    for name, (_path, _kind, _choices, default) in numbers.items():
        spin = spins[name]
        assert spin.minimum() == default and spin.value() == default, name
        assert spin.text() == "unknown", name
        spin.setValue(default + 2)
        assert spin.value() == default + 2 and spin.text().split()[0] == str(default + 2), name
    assert spins["registerCadOther"].text() == "1 min" and spins["registerUsefulness"].maximum() == 5


def test_panel_widgets_fill_real_tables_combos_and_labels(loaded, qt_module):
    from MedPrintLib.panel_widgets import combo_value, fill_combo, show_notes, show_rows
    from MedPrintLib.print_panel import printer_items

    ui = _ui(loaded[0])
    show_rows(ui.registerResultsTable, [("records.0.status", "queued"), ("records.0.cpt", "0559T x1")])
    table = ui.registerResultsTable
    assert table.rowCount() == 2 and table.item(1, 0).text() == "records.0.cpt" and table.item(1, 1).text() == "0559T x1"
    combo = ui.printPrinterComboBox
    items = printer_items([{"name": "mk4", "kind": "octoprint", "profile": "prusa-mk4"},
                           {"name": "voron", "kind": "moonraker", "profile": "voron-350"}])
    fill_combo(combo, items, "voron")
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "First printer that answers", "Slice only (send to no printer)", "mk4 (octoprint, prusa-mk4)",
        "voron (moonraker, voron-350)"]
    assert combo.currentIndex() == 3 and combo_value(combo) == "voron"
    fill_combo(combo, items[:3], "voron")  # no longer configured: the first that answers
    assert combo.currentIndex() == 0 and combo_value(combo) == ""
    show_notes(ui.registerCheckLabel, [("error", "region: <b>x</b>"), ("info", "0559T x1 claimed")])
    label = ui.registerCheckLabel
    assert label.textFormat() == QtCore.Qt.RichText
    assert label.text().count("<span") == 2 and "&lt;b&gt;x&lt;/b&gt;" in label.text()  # escaped, not markup


def test_panels_wire_their_signals_and_follow_the_case(loaded, qt_module, tmp_path, monkeypatch):
    """The panels connect to real Qt signals; choosing a printer in the combo (a real currentIndexChanged)
    sets the parameter; each section's buttons follow the case's state."""
    from MedPrintLib.export_panel import ExportPanel
    from MedPrintLib.model_panel import ModelPanel
    from MedPrintLib.print_panel import SLICE_ONLY, PrintPanel
    from MedPrintLib.register_panel import RegisterPanel
    from medprint.printing.config import PrinterConfig, save_printer
    import slicer

    from medprint.workflow import create_case, save_case

    monkeypatch.setenv("MEDPRINT_CONFIG_DIR", str(tmp_path / "config"))
    save_printer(PrinterConfig(name="mk4", kind="octoprint", address="http://127.0.0.1:9", profile="prusa-mk4"))
    reports = []
    parameters = types.SimpleNamespace(printPrinter="", exportFolder=Path("."), inputVolume=None)
    host = types.SimpleNamespace(ui=_ui(loaded[0]), logic=None, parameters=parameters,
                                 run=None, report=lambda step, text: reports.append((step, text)))
    panels = [ModelPanel(host), ExportPanel(host), PrintPanel(host), RegisterPanel(host)]
    printing = panels[2]
    printing.refreshPrinters()
    combo = host.ui.printPrinterComboBox
    assert combo.count() == 3 and parameters.printPrinter == ""
    combo.setCurrentIndex(2)  # the user picks the configured printer
    assert parameters.printPrinter == "mk4"
    combo.setCurrentIndex(1)
    assert parameters.printPrinter == SLICE_ONLY
    combo.setCurrentIndex(2)

    case = create_case(tmp_path / "case", "knee-9")
    for panel in panels[:3]:
        panel.update(case)
    panels[3].update(case, False)
    assert not host.ui.presetButton.isEnabled() and not host.ui.makeModelButton.isEnabled()  # no volume
    assert not host.ui.exportSaveButton.isEnabled() and not host.ui.printFollowButton.isEnabled()
    assert not host.ui.registerCheckButton.isEnabled()
    case.results["print"] = {"sent": {"printer": "mk4"}, "technology": "fdm", "material": "Prusament PLA"}
    printing.update(case)
    panels[3].update(case, True)
    assert host.ui.printFollowButton.isEnabled() and host.ui.registerCheckButton.isEnabled()

    # opening the Register section shows the print step's technology and material in the unanswered form
    save_case(case)
    node = slicer.vtkMRMLScene().AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    node.SetParameter("caseFolder", str(case.folder))
    node.SetParameter("registerMaterial", "Nylon")  # answered: kept
    parameters.parameterNode = node
    panels[3].onOpened()
    assert (node.GetParameter("registerTechnology"), node.GetParameter("registerMaterial")) == (
        "material_extrusion", "Nylon")

"""What the panels write into their Qt widgets: tables of figures, choice lists, check notes.

Only Qt's C++ API is called (``setText``, ``addItem``, ``setRowCount``, ``property(...)``), never
PythonQt's property attributes, so the same code runs in Slicer (PythonQt) and in the tests on real
Qt widgets loaded from the module's .ui file (PySide6). ``qt`` is Slicer's Qt module; the tests give
PySide6's classes under that name.
"""

from html import escape

#: note level -> colour of its line in a rich-text label
NOTE_COLORS = {"error": "#c0392b", "warning": "#b9770e", "info": "#1f618d"}


def show_rows(table, rows: list) -> None:
    """``(key, text)`` rows into a two-column ``QTableWidget``."""
    import qt

    table.setRowCount(len(rows))
    for row, (key, text) in enumerate(rows):
        table.setItem(row, 0, qt.QTableWidgetItem(key))
        table.setItem(row, 1, qt.QTableWidgetItem(text))


def fill_combo(combo, items: list, current: str) -> None:
    """``(text, value)`` items into a ``QComboBox`` (value kept as item data), ``current`` selected
    (else the first); no change signals while refilling."""
    blocked = combo.blockSignals(True)
    combo.clear()
    for text, value in items:
        combo.addItem(text, value)
    values = [value for _text, value in items]
    combo.setCurrentIndex(values.index(current) if current in values else 0)
    combo.blockSignals(blocked)


def combo_value(combo) -> str:
    """The value (item data) of the combo's current item ("" when empty)."""
    index = combo.property("currentIndex")
    return combo.itemData(index) if index is not None and index >= 0 else ""


def show_notes(label, notes: list) -> None:
    """``(level, text)`` notes as coloured lines of a rich-text ``QLabel`` (errors, warnings, info)."""
    lines = [f'<span style="color:{NOTE_COLORS.get(level, "#000")}">{escape(level)}: {escape(text)}</span>'
             for level, text in notes]
    label.setText("<br>".join(lines))

"""How lainview's list tables look and select, in one place."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QAbstractItemView, QTableView

Edit = QAbstractItemView.EditTrigger
NO_EDITS = Edit.NoEditTriggers


def list_rows(table: QTableView, *, multi: bool = False, edits: Edit = NO_EDITS,
              wrap: bool = False) -> QTableView:
    """Make ``table`` a list: whole rows selected (one, or several with
    ``multi``), edited only by ``edits``, rows in alternating colours, no
    grid, text cut rather than wrapped (unless ``wrap``), no row numbers.
    Fonts, row heights, columns and menus stay the caller's. Returns
    ``table``."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                           else QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(edits)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    if not wrap:
        table.setWordWrap(False)
    table.verticalHeader().hide()
    return table


def visible_rows(table: QTableView) -> tuple[int, int]:
    """The first and last row of ``table`` on screen, inclusive; ``(0, -1)``
    when none is: the table hidden (its dock closed or tabbed away), empty,
    or no row at the top of its viewport. A table whose rows end above the
    viewport's bottom shows through its last row."""
    model = table.model()
    rows = model.rowCount() if model is not None else 0
    if rows == 0 or not table.isVisible():
        return 0, -1
    first = table.rowAt(0)
    if first < 0:
        return 0, -1
    last = table.rowAt(table.viewport().height() - 1)
    return first, last if last >= 0 else rows - 1


def select_only(table: QTableView, row: int, column: int = 0) -> None:
    """Select row ``row`` of ``table`` (of the model the table shows), and
    only it, and make it current. QTableView.selectRow reads the keyboard:
    with Ctrl or Shift held (or reported held by the last key event) it
    adds to the selection, so a program choosing "this row" would scan,
    copy or delete the rows the user had selected too."""
    model = table.model()
    if model is None or not 0 <= row < model.rowCount():
        return
    flags = QItemSelectionModel.SelectionFlag
    table.selectionModel().setCurrentIndex(model.index(row, column),
                                           flags.ClearAndSelect | flags.Rows)

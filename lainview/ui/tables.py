"""How lainview's list tables look and select, in one place."""

from __future__ import annotations

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

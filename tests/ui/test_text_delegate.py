"""FastTextTable against the stock QTableView: the same pixels on a text's
first sight (drawn without a layout), its second (laid out for the cache)
and after, with a model font and right-aligned numbers."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QStyledItemDelegate

from lainview.ui.text_delegate import FastTextTable

TEXTS = [("WWW", "Wiiiii"), ("12345", "-1.5e-300"), ("iiii", "WWWWWWWW"), ("a b", "0x7fff")]


class Model(QAbstractTableModel):
    """Two columns; the second in a serif font, right-aligned."""

    def __init__(self, font: QFont):
        super().__init__()
        self.font = font

    def rowCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else len(TEXTS)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return 0 if parent.isValid() else 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return TEXTS[index.row()][index.column()]
        if role == Qt.ItemDataRole.FontRole and index.column() == 1:
            return self.font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def cells(self, row, columns):
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return [(TEXTS[row][0], None, None, None, None),
                (TEXTS[row][1], self.font, None, None, right)]


def test_right_aligned_texts_in_a_model_font_paint_as_the_stock_view(qtbot):
    """The helper's case: "WWW" in DejaVu Serif 13, right-aligned, moved a
    pixel on its second paint (the QStaticText's width is not the advance
    the stock delegate aligns by)."""
    for family, size in (("DejaVu Serif", 13), ("DejaVu Sans Mono", 9)):
        font = QFont(family, size)
        model = Model(font)
        table = FastTextTable()
        qtbot.addWidget(table)
        table.setModel(model)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(30)
        table.resize(420, 200)
        table.setColumnWidth(0, 120)
        table.setColumnWidth(1, 240)
        table.show()
        qtbot.waitExposed(table)
        table.clearSelection()
        table.setCurrentIndex(QModelIndex())
        delegate = table.text_delegate
        delegate._texts.clear()
        delegate._seen.clear()
        first = table.viewport().grab().toImage()
        second = table.viewport().grab().toImage()
        assert delegate._texts, "the second sight lays the texts out"
        third = table.viewport().grab().toImage()
        table.setItemDelegate(QStyledItemDelegate(table))
        stock = table.viewport().grab().toImage()
        assert first == stock, family
        assert second == stock, family
        assert third == stock, family

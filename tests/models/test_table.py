"""The shared table model: headers and their tooltips."""

from __future__ import annotations

from PySide6.QtCore import Qt

from lainview.models.table import TableModel


class _Two(TableModel):
    HEADERS = ("Address", "Value")
    HEADER_TIPS = ("where it is",)

    def row_count(self) -> int:
        return 3


def test_headers_and_their_tooltips() -> None:
    model = _Two()
    horizontal = Qt.Orientation.Horizontal
    assert (model.rowCount(), model.columnCount()) == (3, 2)
    assert model.headerData(1, horizontal) == "Value"
    assert model.headerData(0, horizontal, Qt.ItemDataRole.ToolTipRole) == "where it is"
    assert model.headerData(1, horizontal, Qt.ItemDataRole.ToolTipRole) is None   # no tip given
    assert model.headerData(2, horizontal) is None
    assert model.headerData(0, Qt.Orientation.Vertical) is None


def test_each_models_header_tips_name_its_columns() -> None:
    from lainview.models.pointer_scan_model import PointerResultModel
    from lainview.models.scan_model import MatchModel
    from lainview.models.watch_model import ADDRESS, FREEZE, LABEL, PLOT, WatchModel
    for model in (MatchModel, PointerResultModel, WatchModel):
        assert len(model.HEADER_TIPS) == len(model.HEADERS), model
    tips = WatchModel.HEADER_TIPS
    assert tips[FREEZE].startswith("re-write") and "module+offset" in tips[ADDRESS]
    assert tips[PLOT].startswith("plot") and tips[LABEL] is None

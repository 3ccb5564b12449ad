"""The plot dock: the plotted watch entries over time, with pyqtgraph.

It draws from the model's sample history (contiguous numpy views, no
copies) on a frame timer, and only when new samples came in: the watch
model samples, this widget paints. The x axis is seconds before now, over a
scrolling window; the y axis is labelled with the entries' units and
follows the data until the user zooms or pans (Pause/Resume gives it back).
Long traces are drawn peak-decimated to about two samples a pixel.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QFileDialog, QGraphicsItem, QHBoxLayout, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from lainview.models.history import peak_decimate
from lainview.models.tasks import TaskSet

from .theme import color, hex_color, text_style, trace_colors
from lainview.models.watch_model import WatchModel

from .fit import FitLabel

FRAME_MS = 40
Y_LIMIT = 1e300             # the y range never reaches past ±this


class PlotPanel(QWidget):
    exported = Signal(str)          # the CSV file written

    def __init__(self, model: WatchModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.window_s = QSpinBox()
        self.window_s.setRange(2, 600)
        self.window_s.setValue(30)
        self.window_s.setPrefix("last ")
        self.window_s.setSuffix(" s")
        self.window_s.setToolTip("how many seconds of history the plot shows")
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.setToolTip("hold the plot (sampling goes on; resume jumps to now)")
        self.export = QPushButton("Export CSV…")
        self.export.setToolTip("save the whole history of the plotted values")
        self.caption = FitLabel(min_chars=8)
        self.caption.setStyleSheet(text_style("muted"))
        self.plot = pg.PlotWidget(background=hex_color("plot_background"))
        item = self.plot.getPlotItem()
        # No grid, thin cosmetic pens: in a software-rendered window a
        # translucent grid and 1.6 px pens triple the paint time of 10 traces.
        item.setLabel("bottom", "time", units="s")
        item.setMenuEnabled(False)
        item.hideButtons()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(hex_color("plot_axis")))
            axis.setTextPen(pg.mkPen(hex_color("muted")))
        self.legend = item.addLegend(offset=(8, 8), labelTextColor=hex_color("text"),
                                     brush=pg.mkBrush(color("plot_legend")),
                                     pen=pg.mkPen(hex_color("rule")))
        # The ranges are set by _frame, not by pyqtgraph's auto-range: that
        # measured the bounds of every curve and re-derived its display data
        # on every paint, and cost more than drawing the curves.
        item.disableAutoRange()
        item.getViewBox().sigRangeChangedManually.connect(self._range_taken)
        # The legend is drawn once into a pixmap and blitted on each frame.
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._auto_y = True
        self._x_window = 0.0
        self.curves: dict[int, pg.PlotCurveItem] = {}
        self.empty = pg.TextItem("Tick “Plot” on numeric watch entries to see them here",
                                 color=hex_color("faint"), anchor=(0.5, 0.5))
        item.addItem(self.empty, ignoreBounds=True)
        self.frames = 0
        self.last_frame_seconds = 0.0
        self._dirty = True
        self._tasks = TaskSet("the plot")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.caption, 1)
        top.addWidget(self.window_s)
        top.addWidget(self.pause)
        top.addWidget(self.export)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addLayout(top)
        column.addWidget(self.plot, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self._timer.start()
        model.sampled.connect(self._mark_dirty)
        model.plot_changed.connect(self.rebuild)
        self.window_s.valueChanged.connect(self._mark_dirty)
        self.pause.toggled.connect(self._paused)
        self.export.clicked.connect(self._export)
        self.rebuild()

    def sizeHint(self):  # noqa: N802
        from PySide6.QtCore import QSize
        return QSize(560, 260)

    # -- traces -----------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Match the curves to the plotted entries (names, units, colours)."""
        plotted = self.model.plotted()
        keys = {e.key for e in plotted}
        for key in list(self.curves):
            if key not in keys:
                curve = self.curves.pop(key)
                self.plot.removeItem(curve)
                self.legend.removeItem(curve)
        for n, entry in enumerate(plotted):
            label = f"{entry.name} ({entry.axis_unit})"
            curve = self.curves.get(entry.key)
            if curve is None:
                traces = trace_colors()
                color = traces[n % len(traces)]
                # A bare PlotCurveItem: PlotDataItem's clipping, downsampling
                # and bookkeeping cost more per frame than drawing the curve.
                curve = pg.PlotCurveItem(pen=pg.mkPen(color, width=1), connect="finite",
                                         name=label)
                self.plot.addItem(curve)
                self.curves[entry.key] = curve
            else:
                self.legend.removeItem(curve)
                self.legend.addItem(curve, label)
        units = list(dict.fromkeys(e.axis_unit for e in plotted))
        self.plot.getPlotItem().setLabel("left", " · ".join(units) if units else "value")
        self._auto_y = True
        self.legend.update()
        self.empty.setVisible(not plotted)
        self.legend.setVisible(bool(plotted))
        self.caption.setText(f"{len(plotted)} trace{'s' if len(plotted) != 1 else ''} · "
                             f"sampled at {self.model.plot_hz:g} Hz" if plotted else
                             "Nothing plotted")
        self._dirty = True

    def _mark_dirty(self, *_args) -> None:
        self._dirty = True

    def _paused(self, paused: bool) -> None:
        self.pause.setText("Resume" if paused else "Pause")
        if not paused:
            self._auto_y = True
            self._x_window = 0.0        # the x range is the window again
            self._dirty = True

    def _range_taken(self, *_args) -> None:
        """The user zoomed or panned: their ranges hold until Resume."""
        self._auto_y = False

    def _frame(self) -> None:
        if not self._dirty or self.pause.isChecked() or not self.isVisible():
            return
        started = time.perf_counter()
        self._dirty = False
        now = time.monotonic() - self.model.t0
        window = float(self.window_s.value())
        points = max(2 * self.plot.width(), 64)
        low, high = np.inf, -np.inf
        for key, curve in self.curves.items():
            trace = self.model.history.trace(key)
            if trace is None or not trace.count:
                curve.setData([], [])
                continue
            t, v = trace.since(now - window - 1.0)
            finite = v[np.isfinite(v)]
            if len(finite):
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
            curve.setData(*peak_decimate(t - now, v, points))
        item = self.plot.getPlotItem()
        if window != self._x_window:
            self._x_window = window
            item.setXRange(-window, 0, padding=0)
        if not self.curves:
            item.setYRange(0, 1, padding=0)
            self.empty.setPos(-window / 2, 0.5)
        elif self._auto_y and np.isfinite(low) and np.isfinite(high):
            self._follow_y(low, high)
        self.frames += 1
        self.last_frame_seconds = time.perf_counter() - started

    def _follow_y(self, low: float, high: float) -> None:
        """Keep [low, high] in view with 5 % padding. The range moves only
        when the data leave it or fill less than a quarter of it, so the axis
        is not relaid out on every frame."""
        # Beyond this a range's span or padding overflows to inf (the view
        # would take nan); such values are drawn off its edge.
        low, high = (min(max(v, -Y_LIMIT), Y_LIMIT) for v in (low, high))
        shown_low, shown_high = self.plot.getPlotItem().getViewBox().viewRange()[1]
        span = high - low
        if low >= shown_low and high <= shown_high and span * 4 >= shown_high - shown_low:
            return
        pad = span * 0.05 if span else max(abs(high) * 0.05, 0.5)
        self.plot.getPlotItem().setYRange(low - pad, high + pad, padding=0)

    def shown_data(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """What the curve of an entry holds now (for tests)."""
        return self.curves[key].getData()

    # -- export -------------------------------------------------------------------------------
    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the plot history",
                                              "lainview-plot.csv", "CSV (*.csv)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> asyncio.Task:
        task = self._tasks.spawn(self.model.export_csv(path))
        def done(t: asyncio.Task[bool]) -> None:
            if not t.cancelled() and t.result():
                self.exported.emit(path)
        task.add_done_callback(done)
        return task

    def stop(self) -> None:
        self._timer.stop()

"""Sample histories for the plot: one ring buffer of (time, value) per
trace, readable as contiguous numpy views without copying, and exportable
as CSV. No Qt.

Each sample is stored twice, at ``i`` and ``i + capacity``, so the last
``n`` samples are always one contiguous slice (the "double ring" trick):
appending is O(1) and reading never concatenates.
"""

from __future__ import annotations

import csv
import io
from typing import Hashable, Iterable

import numpy as np

DEFAULT_CAPACITY = 20 * 60 * 10     # ten minutes at 20 Hz


def peak_decimate(t: np.ndarray, v: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """A trace cut to about ``points`` samples for drawing, keeping its
    peaks: when ``(t, v)`` (1-D, same length; seconds and values) is longer
    than that, each run of k samples becomes its lowest and highest value
    (in the order they came) at the run's first and last time; the last
    incomplete run is kept whole. Shorter traces come back as they are.
    NaN samples are skipped, and a run of NaN only stays NaN (a gap).
    Returns two float64 arrays of one length."""
    k = -(-len(v) // max(points // 2, 1))
    if k <= 2:
        return t, v
    n = len(v) // k * k
    runs = v[:n].reshape(-1, k)
    with np.errstate(invalid="ignore"):
        lows, highs = np.fmin.reduce(runs, axis=1), np.fmax.reduce(runs, axis=1)
    first_low = np.argmin(np.where(np.isnan(runs), np.inf, runs), axis=1) <= \
        np.argmax(np.where(np.isnan(runs), -np.inf, runs), axis=1)
    pair = np.empty((len(lows), 2), dtype=np.float64)
    pair[:, 0] = np.where(first_low, lows, highs)
    pair[:, 1] = np.where(first_low, highs, lows)
    times = np.empty((len(lows), 2), dtype=np.float64)
    times[:, 0] = t[:n:k]
    times[:, 1] = t[k - 1:n:k]
    return (np.concatenate([times.ravel(), t[n:]]),
            np.concatenate([pair.ravel(), v[n:].astype(np.float64)]))


class Trace:
    """The samples of one value, oldest first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._v = np.zeros(2 * capacity)
        self._next = 0            # where the next sample goes, in [0, capacity)
        self.count = 0

    def append(self, t: float, value: float) -> None:
        i = self._next
        self._t[i] = self._t[i + self.capacity] = t
        self._v[i] = self._v[i + self.capacity] = value
        self._next = (i + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) views, oldest first. Valid until the next append."""
        end = self._next + self.capacity if self.count == self.capacity else self._next
        start = end - self.count
        return self._t[start:end], self._v[start:end]

    def since(self, t0: float) -> tuple[np.ndarray, np.ndarray]:
        """The samples at or after ``t0``."""
        t, v = self.arrays()
        i = int(np.searchsorted(t, t0, side="left"))
        return t[i:], v[i:]

    def last(self) -> tuple[float, float] | None:
        if not self.count:
            return None
        i = (self._next - 1) % self.capacity
        return float(self._t[i]), float(self._v[i])

    def clear(self) -> None:
        self._next = 0
        self.count = 0


class SampleHistory:
    """Traces by key (a watch entry), sharing one clock."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self.traces: dict[Hashable, Trace] = {}

    def append(self, key: Hashable, t: float, value: float) -> None:
        trace = self.traces.get(key)
        if trace is None:
            trace = self.traces[key] = Trace(self.capacity)
        trace.append(t, value)

    def trace(self, key: Hashable) -> Trace | None:
        return self.traces.get(key)

    def drop(self, key: Hashable) -> None:
        self.traces.pop(key, None)

    def clear(self) -> None:
        self.traces.clear()

    def to_csv(self, columns: Iterable[tuple[Hashable, str]], t0: float = 0.0) -> str:
        """CSV text: ``time_s`` then one column per (key, header); one row per
        sample time, empty cells where a trace has no sample at that time."""
        columns = [(k, h) for k, h in columns if k in self.traces]
        rows: dict[float, list[str]] = {}
        for n, (key, _header) in enumerate(columns):
            t, v = self.traces[key].arrays()
            for ti, vi in zip(t.tolist(), v.tolist()):
                row = rows.get(ti)
                if row is None:
                    row = rows[ti] = [""] * len(columns)
                row[n] = repr(vi) if not vi.is_integer() else str(int(vi))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["time_s"] + [h for _k, h in columns])
        for ti in sorted(rows):
            writer.writerow([f"{ti - t0:.3f}"] + rows[ti])
        return out.getvalue()

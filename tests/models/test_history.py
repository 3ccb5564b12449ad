"""The plot's sample history and the decimation it is drawn through."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from lainview.models.history import peak_decimate


def test_short_traces_are_drawn_as_they_are():
    t = np.arange(100, dtype=np.float64)
    v = np.sin(t)
    shown_t, shown_v = peak_decimate(t, v, 400)
    assert shown_t is t and shown_v is v


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=1,
                       max_size=3000),
       points=st.integers(2, 600))
def test_decimation_keeps_every_peak_in_time_order(values, points):
    """Against a naive reference: each run of k samples is its lowest and
    highest (in the order they came), the tail kept whole, times ordered."""
    v = np.array(values, dtype=np.float64)
    t = np.arange(len(v), dtype=np.float64) * 0.05
    shown_t, shown_v = peak_decimate(t, v, points)
    k = -(-len(v) // max(points // 2, 1))
    if k <= 2:
        assert len(shown_v) == len(v)
        return
    expected_v: list[float] = []
    expected_t: list[float] = []
    whole = len(v) // k * k
    for start in range(0, whole, k):
        run = v[start:start + k]
        finite = [(x, i) for i, x in enumerate(run) if not np.isnan(x)]
        if not finite:
            pair = [np.nan, np.nan]
        else:
            low = min(finite)          # first of the lowest
            high = max(finite, key=lambda p: (p[0], -p[1]))     # first of the highest
            pair = [low[0], high[0]] if low[1] <= high[1] else [high[0], low[0]]
        expected_v += pair
        expected_t += [t[start], t[start + k - 1]]
    expected_v += list(v[whole:])
    expected_t += list(t[whole:])
    np.testing.assert_array_equal(shown_v, np.array(expected_v))
    np.testing.assert_array_equal(shown_t, np.array(expected_t))
    assert np.all(np.diff(shown_t) >= 0)
    assert len(shown_v) <= points + 2 * k
    if np.isfinite(v).any():
        assert np.nanmax(shown_v) == np.nanmax(v) and np.nanmin(shown_v) == np.nanmin(v)

"""One watched value: where it is (a location that survives a restart), its
type and how it is shown, and what the last refresh, write or freeze found.
Plain data, no Qt; saved in sessions by :meth:`WatchEntry.to_json`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from lainview.backend.errors import InvalidInput, Unresolved
from lainview.backend.locations import Location
from lainview.backend.wording import printable
from lainview.backend.placements import (FieldTarget, Placement, explain, field_target,
                                         watch_type)

from .watch_values import DISPLAY_FORMATS, ValueType

_keys = itertools.count(1)


@dataclass(eq=False)
class WatchEntry:
    """One watched value. The first fields are saved in sessions; the rest
    is what the last refresh found."""

    location: Location
    vtype: ValueType
    label: str = ""
    display: str = "auto"
    unit: str = ""
    plotted: bool = False
    frozen: bool = False
    frozen_data: bytes | None = None
    address: int | None = None
    unresolved: str = ""            # why the location was not found ("" when it was)
    chain_unresolved: str = ""      # a pointer path: why its last reading did not resolve
    data: bytes | None = None
    error: str = ""                 # why the value is not shown, or what a write said
    changed_at: float = 0.0
    freeze_note: str = ""           # why a freeze stopped
    freeze_writes: int = 0
    freeze_before: bytes | None = None      # the value when the user froze it
    freeze_journal_id: int | None = None    # the freeze's journal entry, once it wrote
    freeze_address: int | None = None       # where that freeze writes (a pointer path moves)
    key: int = field(default_factory=lambda: next(_keys))
    # A field-path watch (``player.held->count``): its placement and path;
    # ``location`` is the field's (the placement's, plus the path's offset
    # and pointer steps), so it is resolved again as every location is.
    field: FieldTarget | None = None

    @property
    def is_kernel(self) -> bool:
        return self.location.kind == "kernel"

    @property
    def follows_pointers(self) -> bool:
        """A pointer path (``base->+0x18->+0x8``) or a thread's stack
        (``[stack#1]-0x40``): it moves, so it is resolved on every refresh,
        on the backend thread (``Location.needs_target``)."""
        return self.location.needs_target

    @property
    def name(self) -> str:
        return self.label or self.where

    @property
    def where(self) -> str:
        """What the address column shows: the field path of a field-path
        watch, else the location's text."""
        return self.field.text if self.field is not None else self.location.text

    def why_unresolved(self, exc: Unresolved) -> str:
        """``exc`` as this entry says it: for a field path, naming the
        pointer field where it broke."""
        return explain(self.field, exc) if self.field is not None else exc.message

    @property
    def value_text(self) -> str:
        if self.unresolved:
            return f"unresolved: {self.unresolved}"
        if self.error:
            return self.error
        if self.data is None:
            return "…"
        return self.vtype.format(self.data, self.display)

    @property
    def number(self) -> float | None:
        if self.data is None or self.error or self.unresolved:
            return None
        return self.vtype.number(self.data)

    @property
    def axis_unit(self) -> str:
        return self.unit or self.vtype.label

    def to_json(self) -> dict:
        out = {"location": self.location.to_json(), "type": self.vtype.to_json(),
               "label": self.label, "display": self.display, "unit": self.unit,
               "plotted": self.plotted}
        if self.frozen and self.frozen_data is not None:
            out["frozen"] = self.frozen_data.hex()
        if self.field is not None:
            out["field"] = {"path": self.field.text,
                            "placement": self.field.placement.to_json()}
        return out

    @classmethod
    def from_json(cls, raw) -> "WatchEntry":
        """Raises InvalidInput naming what is wrong."""
        if not isinstance(raw, dict):
            raise InvalidInput("a watch entry must be an object")
        display = raw.get("display", "auto")
        if display not in DISPLAY_FORMATS:
            raise InvalidInput(f"unknown display format {display!r}")
        entry = cls(Location.from_json(raw.get("location")), ValueType.from_json(raw.get("type")),
                    label=str(raw.get("label", "")), display=display,
                    unit=str(raw.get("unit", "")), plotted=bool(raw.get("plotted", False)))
        raw_field = raw.get("field")
        if raw_field is not None:
            if not isinstance(raw_field, dict) or not isinstance(raw_field.get("path"), str):
                raise InvalidInput("a field watch needs {\"path\": text, \"placement\": {…}}")
            target = field_target(raw_field["path"],
                                  Placement.from_json(raw_field.get("placement")))
            want = watch_type(target)            # a bitfield or a struct: InvalidInput
            if (want[0], want[1] or 0) != (entry.vtype.name, entry.vtype.length):
                watched = f"{entry.vtype.name}" + \
                    (f"[{entry.vtype.length}]" if entry.vtype.length else "")
                must = f"it is watched as {want[0]}" + (f"[{want[1]}]" if want[1] else "")
                raise InvalidInput(f"field {printable(target.text)} is "
                                   f"{printable(target.type.c_name())}: {must}, not {watched}")
            entry.field, entry.location = target, target.location
        if entry.plotted and not entry.vtype.numeric:
            entry.plotted = False
        frozen = raw.get("frozen")
        if frozen is not None:
            try:
                entry.frozen_data = bytes.fromhex(frozen)
            except (TypeError, ValueError):
                raise InvalidInput(f"bad frozen value {frozen!r:.40}") from None
            if len(entry.frozen_data) != entry.vtype.size:
                raise InvalidInput(f"a frozen value of {len(entry.frozen_data)} bytes for a "
                                   f"{entry.vtype.size}-byte {entry.vtype.name}")
        return entry

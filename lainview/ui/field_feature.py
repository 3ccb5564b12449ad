"""A placed structure in the hex view: its fields' bytes tinted (alternating,
so neighbours differ), a byte's field named in its tooltip (path, type,
live value), from the structure dock's model
(lainview/models/field_overlay.py)."""

from __future__ import annotations

from PySide6.QtCore import QObject

from lainview.models.field_overlay import FieldOverlay


class FieldFeature(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.structure = window.features["structure"]
        self.overlay = FieldOverlay(self.structure.model, self)
        self.view = window.editor.view
        self.view.set_field_source(self.overlay)

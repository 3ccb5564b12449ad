"""Editors in live tables: what the user types is never overwritten.

Qt's views hand every ``dataChanged`` that covers an open editor to the
delegate's ``setEditorData``, which puts the model's current value back into
the editor. Tables whose values refresh live (the data inspector, the watch
list, any future editable live table) would then reset what the user is
typing several times a second. :class:`LiveEditDelegate` fills an editor
once, when it opens, and leaves it alone afterwards; the model keeps
updating the other cells, and the edited cell shows its live value again
once the editor closes.

Every view with editors installs it through :func:`keep_typing`. (A
persistent editor, ``openPersistentEditor``, would not follow the model
either: none is used.)
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QWidget

_FILLED = "lainview_editor_filled"


class LiveEditDelegate(QStyledItemDelegate):
    """A delegate whose editors are filled from the model once, when they
    open. Subclasses fill their editors in :meth:`fill_editor`."""

    def setEditorData(self, editor: QWidget, index) -> None:  # noqa: N802 - Qt's name
        if editor.property(_FILLED):
            return          # a live update: the user's text stays
        editor.setProperty(_FILLED, True)
        self.fill_editor(editor, index)

    def fill_editor(self, editor: QWidget, index) -> None:
        """Put the model's value into a new editor (default: Qt's)."""
        super().setEditorData(editor, index)


def keep_typing(view: QAbstractItemView) -> LiveEditDelegate:
    """Give ``view`` a delegate that never overwrites an open editor (keep
    the one it has if it is such a delegate already)."""
    have = view.itemDelegate()
    if isinstance(have, LiveEditDelegate):
        return have
    delegate = LiveEditDelegate(view)
    view.setItemDelegate(delegate)
    return delegate

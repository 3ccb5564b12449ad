"""The confirmation before a kernel patch: the symbol, the address, and the
current and new bytes side by side, changed bytes marked. Nothing is
written unless the user presses the write button; Cancel is the default."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QTextBrowser,
                               QVBoxLayout, QWidget)

from lainview.models.kernel_workspace import PatchProposal
from lainview.backend.wording import counted

from .theme import hex_color, mono_font, text_style

ROW = 16
def _mark(kind: str) -> str:
    """The style of an old (changed) or new byte."""
    style = f"background:{hex_color(kind + '_mark_bg')}; color:{hex_color(kind + '_mark_fg')};"
    return style + (" font-weight:bold;" if kind == "new" else "")


def side_by_side_html(old: bytes, new: bytes, base: int | None) -> str:
    """An HTML table: offset (or address), current bytes, new bytes, 16 a
    row; bytes that differ are marked in both columns."""
    rows = []
    for start in range(0, max(len(old), len(new)), ROW):
        cells_old, cells_new = [], []
        for i in range(start, min(start + ROW, len(new))):
            a, b = old[i], new[i]
            if a != b:
                cells_old.append(f"<span style='{_mark('old')}'>{a:02x}</span>")
                cells_new.append(f"<span style='{_mark('new')}'>{b:02x}</span>")
            else:
                cells_old.append(f"{a:02x}")
                cells_new.append(f"<span style='color:{hex_color('muted')}'>{b:02x}</span>")
        where = f"{base + start:x}" if base else f"+{start:#06x}"
        rows.append(f"<tr><td style='color:{hex_color('faint')}; padding-right:14px'>{where}</td>"
                    f"<td style='padding-right:22px'>{' '.join(cells_old)}</td>"
                    f"<td>{' '.join(cells_new)}</td></tr>")
    head = ("<tr><th align='left' style='color:" + hex_color("faint") + "'>"
            f"{'address' if base else 'offset'}</th>"
            "<th align='left'>current</th><th align='left'>after the write</th></tr>")
    return f"<table cellspacing='0' cellpadding='2'>{head}{''.join(rows)}</table>"


class PatchDialog(QDialog):
    """Shows a :class:`PatchProposal`; ``accepted`` means write it."""

    def __init__(self, proposal: PatchProposal, *, device: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.proposal = proposal
        self.setWindowTitle("Write to kernel memory?")
        symbol = proposal.symbol
        changed = proposal.changed_offsets
        request = "IWRITEKSYM" if proposal.indirect else "WRITEKSYM"
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        self.symbol_label = QLabel(f"<b>{html.escape(proposal.name)}</b>"
                                   + (f" [{html.escape(proposal.module)}]" if proposal.module
                                      else "")
                                   + (f" &nbsp;<span style='color:{hex_color('muted')}'>type {symbol.type}: "
                                      f"{html.escape(symbol.meaning)}</span>" if symbol else ""))
        self.symbol_label.setTextFormat(Qt.TextFormat.RichText)
        address = (f"{proposal.address:#x}" if proposal.address is not None
                   else "not known here (the device finds the symbol by name)")
        if proposal.indirect and proposal.pointer is not None:
            address += f" &nbsp;<span style='color:{hex_color('muted')}'>(where the pointer at " \
                       f"{html.escape(proposal.name)} points)</span>"
        self.address_label = QLabel(address)
        self.address_label.setFont(mono_font(10))
        self.what_label = QLabel(
            f"{len(proposal.new)} byte{'s' if len(proposal.new) != 1 else ''} with {request}"
            f"{' on ' + html.escape(device) if device else ''}; "
            f"{len(changed)} of them change")
        self.what_label.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("Symbol", self.symbol_label)
        form.addRow("Address", self.address_label)
        form.addRow("Write", self.what_label)
        self.bytes_view = QTextBrowser()
        self.bytes_view.setFont(mono_font(10))
        self.bytes_view.setHtml(side_by_side_html(proposal.old, proposal.new, proposal.address))
        self.bytes_view.setMinimumSize(760, 90)
        rows = (len(proposal.new) + ROW - 1) // ROW
        self.bytes_view.setFixedHeight(min(360, 34 + 22 * (rows + 1)))
        notes = []
        if changed and changed[0] > 0:
            notes.append(f"A write by name starts at the symbol: the first {changed[0]} "
                         "unchanged bytes are written back with the values shown.")
        notes.append("The old bytes are journaled first and the new ones read back; "
                     "the write can be reverted (Revert, or lainview revert).")
        if proposal.note:
            notes.append(f"<b>Note:</b> {html.escape(proposal.note)}.")
        self.notes = QLabel("<br>".join(notes))
        self.notes.setTextFormat(Qt.TextFormat.RichText)
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet(text_style("muted"))
        buttons = QDialogButtonBox()
        self.write_button = buttons.addButton(f"Write {counted(len(proposal.new), 'byte')}",
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.write_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.bytes_view)
        column.addWidget(self.notes)
        column.addWidget(buttons)

"""Font helpers shared by the windows, so headings scale with the user's own font size."""

from __future__ import annotations

from PySide6.QtGui import QFont


def bigger(font: QFont, factor: float, bold: bool = False) -> QFont:
    f = QFont(font)
    f.setPointSizeF(f.pointSizeF() * factor)
    f.setBold(bold)
    return f

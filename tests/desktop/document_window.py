"""Stands in for the person's work: a large, bright window with some text (the glow must not hide it)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel


def main() -> int:
    app = QApplication(sys.argv[:1])
    label = QLabel("A document the person is working on.\n" * 12)
    label.setStyleSheet("background: #F4F4F0; color: #303030; font-size: 22px; padding: 40px;")
    label.setWindowTitle("Document")
    label.setGeometry(0, 0, 1600, 1000)
    label.showFullScreen()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())

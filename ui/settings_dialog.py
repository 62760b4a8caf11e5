"""Settings, validated by the same checks the settings file uses, saved atomically.

Problems show next to the form in plain words (never a message box); nothing is saved until every value
is valid. The autostart checkbox writes or removes the platform's login entry (`ui.autostart`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from posture.jsonvalues import JsonObject
from posture.settings import SAMPLING_MODES, VALIDATORS, Settings, save_settings, settings_with
from ui import autostart

SENSITIVITY_WORDS = {
    "low": "Low: only clear slouching counts",
    "medium": "Medium: the usual",
    "high": "High: small drifts count too",
}
SAMPLING_WORDS = {
    "battery": "Battery saver: looks about once every 5 s when all is well, at most once a second. "
               "Least power; notices slouching a few seconds later.",
    "balanced": "Balanced: about every 3 s when all is well, twice a second while posture changes. "
                "A few percent of one CPU core.",
    "responsive": "Responsive: every second when all is well, four times a second while posture changes. "
                  "Quickest to notice; uses the most power.",
}
LABELS = {
    "sensitivity": "Sensitivity", "onset_delay_s": "Nudge after", "cooldown_s": "Time between nudges",
    "daily_nudge_cap": "Nudges per day at most", "quiet_hours": "Quiet hours", "camera_index": "Camera",
    "sampling_mode": "Sampling", "pause_apps": "Pause while these apps run",
    "micro_break_every_min": "Micro-break every", "neck_break_every_min": "Neck-care break every",
}


def _cost_words(mode: str) -> str:
    fast, slow = SAMPLING_MODES[mode]
    return SAMPLING_WORDS.get(mode, f"{slow:g}–{fast:g} pictures a second")


class SettingsDialog(QDialog):
    saved = Signal(object)  # Settings

    def __init__(self, settings: Settings, path: Path | None = None, autostart_dir: Path | None = None,
                 cameras: list[str] | None = None, parent: QWidget | None = None,
                 set_autostart: Callable[[bool, Path | None], None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings · Posture Companion")
        self.settings = settings
        self.path = path
        self.autostart_dir = autostart_dir
        self._set_autostart = set_autostart or (lambda on, folder: autostart.set_enabled(on, folder))

        # Nudges
        self.sensitivity = QComboBox()
        for key, words in SENSITIVITY_WORDS.items():
            self.sensitivity.addItem(words, key)
        self.onset = QSpinBox()
        self.onset.setRange(0, 600)
        self.onset.setSuffix(" s of poor posture")
        self.cooldown = QSpinBox()
        self.cooldown.setRange(1, 120)
        self.cooldown.setSuffix(" min")
        self.cap = QSpinBox()
        self.cap.setRange(1, 200)
        self.quiet = QLineEdit()
        self.quiet.setPlaceholderText("e.g. 12:30-13:30 (empty: none)")
        self.notifications = QCheckBox("Show a notification")
        self.sound = QCheckBox("Play a soft sound")
        self.glow = QCheckBox("Glow softly round the screen edge")
        nudges = QFormLayout()
        nudges.addRow(LABELS["sensitivity"], self.sensitivity)
        nudges.addRow(LABELS["onset_delay_s"], self.onset)
        nudges.addRow(LABELS["cooldown_s"], self.cooldown)
        nudges.addRow(LABELS["daily_nudge_cap"], self.cap)
        nudges.addRow(LABELS["quiet_hours"], self.quiet)
        nudge_how = QVBoxLayout()
        for w in (self.notifications, self.sound, self.glow):
            nudge_how.addWidget(w)
        nudges.addRow("How to nudge", nudge_how)

        # Camera and sampling
        self.camera = QComboBox()
        self.camera.setEditable(False)
        for i, name in enumerate(cameras or [f"Camera {n}" for n in range(4)]):
            self.camera.addItem(name, i)
        self.sampling = QComboBox()
        for mode in SAMPLING_MODES:
            self.sampling.addItem(mode.capitalize(), mode)
        self.sampling_cost = QLabel()
        self.sampling_cost.setWordWrap(True)
        self.sampling_cost.setStyleSheet("color: #404040;")
        self.sampling.currentIndexChanged.connect(self._show_cost)
        self.close_camera = QCheckBox("Battery saver: camera off between looks a minute or more apart")
        self.close_camera.setToolTip("The camera light stays on steadily while you are at the desk. It goes off "
                                     "when paused, when the screen is locked, while a listed app runs, a minute "
                                     "after you leave (then a short check once a minute), and on quit.")
        self.pause_apps = QPlainTextEdit()
        self.pause_apps.setPlaceholderText("One program per line, e.g.\nzoom\nTeams")
        self.pause_apps.setFixedHeight(64)
        camera = QFormLayout()
        camera.addRow(LABELS["camera_index"], self.camera)
        camera.addRow(LABELS["sampling_mode"], self.sampling)
        camera.addRow("", self.sampling_cost)
        camera.addRow("", self.close_camera)
        camera.addRow(LABELS["pause_apps"], self.pause_apps)

        # Breaks and start-up
        self.breaks = QCheckBox("Suggest short breaks")
        self.micro = QSpinBox()
        self.micro.setRange(10, 120)
        self.micro.setSuffix(" min of sitting")
        self.neck = QSpinBox()
        self.neck.setRange(20, 240)
        self.neck.setSuffix(" min of sitting")
        self.watch_breaks = QCheckBox("Let the camera count and coach the exercises of a break")
        self.watch_breaks.setToolTip("Off: guided breaks never use the camera; they run with the timer alone.")
        self.autostart = QCheckBox("Start Posture Companion when I log in")
        breaks = QFormLayout()
        breaks.addRow("", self.breaks)
        breaks.addRow(LABELS["micro_break_every_min"], self.micro)
        breaks.addRow(LABELS["neck_break_every_min"], self.neck)
        breaks.addRow("", self.watch_breaks)
        breaks.addRow("", self.autostart)

        self.errors = QLabel("")
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #B00020;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(_group("Nudges", nudges))
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(_group("Camera", camera))
        right.addWidget(_group("Breaks and start-up", breaks))
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.errors)
        layout.addWidget(self.buttons)
        self.load(settings)

    def load(self, s: Settings) -> None:
        self.sensitivity.setCurrentIndex(max(0, self.sensitivity.findData(s.sensitivity)))
        self.onset.setValue(round(s.onset_delay_s))
        self.cooldown.setValue(max(1, round(s.cooldown_s / 60)))
        self.cap.setValue(s.daily_nudge_cap)
        self.quiet.setText(s.quiet_hours)
        self.notifications.setChecked(s.notifications)
        self.sound.setChecked(s.sound)
        self.glow.setChecked(s.glow)
        while self.camera.count() <= s.camera_index:
            self.camera.addItem(f"Camera {self.camera.count()}", self.camera.count())
        self.camera.setCurrentIndex(s.camera_index)
        self.sampling.setCurrentIndex(max(0, self.sampling.findData(s.sampling_mode)))
        self._show_cost()
        self.close_camera.setChecked(s.close_camera_between_samples)
        self.pause_apps.setPlainText("\n".join(s.pause_apps))
        self.breaks.setChecked(s.breaks_enabled)
        self.micro.setValue(round(s.micro_break_every_min))
        self.neck.setValue(round(s.neck_break_every_min))
        self.watch_breaks.setChecked(s.watch_breaks)
        try:
            self.autostart.setChecked(autostart.is_enabled(self.autostart_dir or autostart.default_dir()))
        except OSError:
            self.autostart.setChecked(False)

    def raw_values(self) -> JsonObject:
        """What the form says, in the settings file's units and types (before validation)."""
        return {
            "sensitivity": self.sensitivity.currentData(),
            "onset_delay_s": float(self.onset.value()),
            "cooldown_s": float(self.cooldown.value() * 60),
            "daily_nudge_cap": self.cap.value(),
            "quiet_hours": self.quiet.text().strip(),
            "notifications": self.notifications.isChecked(),
            "sound": self.sound.isChecked(),
            "glow": self.glow.isChecked(),
            "camera_index": int(self.camera.currentData() or 0),
            "sampling_mode": self.sampling.currentData(),
            "close_camera_between_samples": self.close_camera.isChecked(),
            "pause_apps": [line.strip() for line in self.pause_apps.toPlainText().splitlines() if line.strip()],
            "breaks_enabled": self.breaks.isChecked(),
            "micro_break_every_min": float(self.micro.value()),
            "neck_break_every_min": float(self.neck.value()),
            "watch_breaks": self.watch_breaks.isChecked(),
        }

    def validated(self) -> tuple[Settings | None, list[str]]:
        values: dict[str, object] = {}
        problems: list[str] = []
        for key, raw in self.raw_values().items():
            try:
                values[key] = VALIDATORS[key](raw)
            except ValueError as exc:
                problems.append(f"{LABELS.get(key, key.replace('_', ' ').capitalize())}: {exc}.")
        if problems:
            return None, problems
        # Every value passed its key's check, which gives it the field's type; the interval rule is then
        # read off the typed Settings rather than off the loose value dict.
        settings = settings_with(self.settings, values)
        if settings.neck_break_every_min <= settings.micro_break_every_min:
            return None, ["Neck-care break every: make it longer than the micro-break interval."]
        return settings, []

    def save(self) -> bool:
        settings, problems = self.validated()
        if settings is None:
            self.errors.setText("Not saved yet: " + " ".join(problems))
            return False
        try:
            save_settings(settings, self.path)
        except OSError as exc:
            self.errors.setText(f"Could not save the settings file: {exc}")
            return False
        try:
            self._set_autostart(self.autostart.isChecked(), self.autostart_dir)
        except OSError as exc:
            self.errors.setText(f"Settings saved, but the login entry could not be changed: {exc}")
            self.settings = settings
            self.saved.emit(settings)
            return False
        self.settings = settings
        self.saved.emit(settings)
        self.accept()
        return True

    def _show_cost(self) -> None:
        mode = self.sampling.currentData()
        if mode:
            self.sampling_cost.setText(_cost_words(mode))


def _group(title: str, layout: QFormLayout) -> QGroupBox:
    box = QGroupBox(title)
    box.setLayout(layout)
    return box

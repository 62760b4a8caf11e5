# `make demo` and `make test` do all the set-up on a fresh machine: they create .venv and install the
# project with its test extras the first time (and again whenever pyproject.toml changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT := out

.PHONY: all demo test test-desktop lint check-cv2 bench clean samples

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory check-cv2
	touch $(STAMP)

# mediapipe pulls opencv-contrib-python; a second OpenCV wheel (opencv-python, -headless) would silently
# overwrite the same cv2 package. Refuse to go on with more than one.
check-cv2:
	@n=$$($(PY) -m pip list --format=freeze 2>/dev/null | grep -ci '^opencv'); \
	if [ "$$n" != "1" ]; then echo "error: expected exactly one OpenCV wheel in $(VENV), found $$n:"; \
	  $(PY) -m pip list 2>/dev/null | grep -i opencv; exit 1; fi
	@$(PY) -c "import cv2, mediapipe; print(mediapipe.solutions.pose.Pose.__name__); print('cv2', cv2.__version__, '| mediapipe', mediapipe.__version__)"

lint: $(STAMP)
	$(VENV)/bin/ruff check posture calibration ui tests benchmarks sample_videos
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not desktop"

# The app on a real X server: Xvfb (1600x1000, no compositor), openbox, trayer (XEmbed tray), dunst on a
# private D-Bus; driven with xdotool, checked on screenshots (kept in out/desktop/), plus a 30-minute
# accelerated soak. Needs: xvfb openbox trayer dunst dbus-x11 xdotool x11-utils imagemagick
# (.ci/run installs them); without them the tests skip and say which are missing.
test-desktop: $(STAMP)
	$(PY) -m pytest -q -m desktop tests/desktop

# The companion on the bundled clip: the tray app where a display exists; otherwise headless, printing
# state changes, nudges and break suggestions, writing the history and saving the dashboard screenshot.
demo: $(STAMP)
	mkdir -p $(OUT)
	rm -f $(OUT)/demo_history.db $(OUT)/demo_history.db-wal $(OUT)/demo_history.db-shm
	$(VENV)/bin/posture run --source sample_videos/demo_session.mp4 --calibrate-from 0:8 \
		--db $(OUT)/demo_history.db --screenshot $(OUT)/dashboard.png
	$(VENV)/bin/posture report --db $(OUT)/demo_history.db

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

samples: $(STAMP)
	$(PY) sample_videos/make_samples.py

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache

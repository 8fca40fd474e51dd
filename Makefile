# dockd: `make run` runs the service on embedded defaults under ./var/, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

APT_PACKAGES := libsystemd-dev pkg-config dosfstools mtools exfatprogs exfat-fuse fusefat fuse3 e2fsprogs util-linux \
                rsync b3sum ffmpeg udev systemd postgresql

.PHONY: run test lint bench schemas install apt-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

apt-deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_PACKAGES)

run: $(STAMP)
	mkdir -p var
	$(BIN)/dockd ingest --help >/dev/null
	@echo "dockd: no daemon yet on this branch; use: $(BIN)/dockd ingest PATH --serial S"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check dockd tests bench
	$(BIN)/ruff format --check dockd
	$(BIN)/mypy

schemas: $(STAMP)
	$(BIN)/python -m dockd.schemas schemas

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

install: $(STAMP)
	install -d /etc/dockd /var/lib/dockd
	@echo "installed into $(VENV); see README.md 'On a real dock'"

clean:
	rm -rf $(VENV) var

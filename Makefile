# dockd: `make run` runs the service on embedded defaults under ./var/, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

APT_PACKAGES := libsystemd-dev pkg-config dosfstools mtools exfatprogs exfat-fuse fusefat fuse3 e2fsprogs util-linux \
                rsync b3sum ffmpeg udev systemd postgresql chrony chromium fonts-wqy-microhei python3-venv python3-dev

.PHONY: run test lint bench schemas udev-rules install apt-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

apt-deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_PACKAGES)

# Embedded defaults under ./var/; recorders are mounted under var/mnt and anything put in
# var/drop/<SERIAL>/ is ingested too (useful on a machine without udevd or USB ports).
run: $(STAMP)
	mkdir -p var/drop
	DOCKD_DAEMON__MOUNT_ROOT='"var/mnt"' DOCKD_DAEMON__WATCH_DIRS='["var/drop"]' \
		$(BIN)/dockd run

udev-rules: $(STAMP)
	$(BIN)/dockd udev-rules > udev/99-dockd.rules

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check dockd tests bench
	$(BIN)/ruff format --check dockd tests bench
	$(BIN)/mypy

schemas: $(STAMP)
	$(BIN)/python -m dockd.schemas schemas

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/dock.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/cli.py

install: $(STAMP)
	install -d /etc/dockd /var/lib/dockd
	@echo "installed into $(VENV); see README.md 'On a real dock'"

clean:
	rm -rf $(VENV) var

# dockd: `make run` runs the service on embedded defaults under ./var/, `make test` runs the tests.
# Each installs what it needs first: the Debian packages (as root; otherwise it prints the
# apt-get line to run), then the virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# make install / make deb: Debian's own python3, so the venv runs on the dock's.
DESTDIR ?=
PREFIX  ?= /opt/dockd
DIST    ?= dist
SYSTEM_PYTHON := /usr/bin/python3

# What the service needs: pip builds systemd-python from source (a C compiler, libsystemd-dev,
# pkg-config, python3-dev), the venv needs python3-venv, and the daemon mounts with
# mount/umount, fusefat and mount.exfat-fuse, and sets chattr +i (e2fsprogs); pyudev needs libudev.
RUN_PACKAGES  := python3-venv python3-dev gcc libc6-dev libsystemd-dev pkg-config \
                 udev mount util-linux e2fsprogs fuse3 fusefat exfat-fuse
# What the tests add: recorder images (mkfs, mtools), the tools dockd is compared with, ffmpeg
# for real containers, systemd as PID 1, PostgreSQL, chronyd, Chromium and a CJK font;
# isoinfo (genisoimage) and xorriso read export discs as a peer would.
# make deb: dpkg-buildpackage (dpkg-dev) runs debhelper's dh, which stages the package with
# packaging/install.sh (Rules-Requires-Root: no, so no fakeroot). The tests check the
# package with lintian.
DEB_PACKAGES  := dpkg dpkg-dev debhelper
TEST_PACKAGES := $(RUN_PACKAGES) $(DEB_PACKAGES) lintian dosfstools mtools exfatprogs rsync b3sum ffmpeg systemd \
                 btrfs-progs dmsetup \
                 postgresql chrony chromium fonts-wqy-microhei genisoimage xorriso

# Install the Debian packages of $(1) that are missing. dpkg-query makes the check instant, so
# a second run touches no package list; apt-get update runs once, and only when something is
# missing. Not root: print the line to run and stop.
define debian-packages
	@missing=$$(dpkg-query -W -f='$${db:Status-Status} $${Package}\n' $(1) 2>/dev/null | \
		awk -v want='$(strip $(1))' 'BEGIN { n = split(want, w, " ") } \
			$$1 == "installed" { ok[$$2] = 1 } \
			END { for (i = 1; i <= n; i++) if (!(w[i] in ok)) { printf "%s%s", s, w[i]; s = " " } }'); \
	[ -z "$$missing" ] && exit 0; \
	line="apt-get install -y --no-install-recommends $$missing"; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "dockd needs these Debian packages; as root, run:" >&2; \
		echo "  apt-get update && $$line" >&2; \
		echo "then run make again." >&2; \
		exit 1; \
	fi; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive $$line -q
endef

.PHONY: run test lint bench schemas locale udev-rules install uninstall deb clean \
        run-packages test-packages deb-packages
.NOTPARALLEL:

run-packages:
	$(call debian-packages,$(RUN_PACKAGES))

test-packages:
	$(call debian-packages,$(TEST_PACKAGES))

deb-packages:
	$(call debian-packages,$(DEB_PACKAGES))

$(STAMP): pyproject.toml | run-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Embedded defaults under ./var/; recorders are mounted under var/mnt and anything put in
# var/drop/<SERIAL>/ is ingested too (useful on a machine without udevd or USB ports).
run: run-packages $(STAMP)
	mkdir -p var/drop
	DOCKD_DAEMON__MOUNT_ROOT='"var/mnt"' DOCKD_DAEMON__WATCH_DIRS='["var/drop"]' \
		$(BIN)/dockd run

udev-rules: $(STAMP)
	$(BIN)/dockd udev-rules > udev/99-dockd.rules

# pytest exits 5 when it collected nothing: a run that tested nothing has not passed.
test: test-packages $(STAMP)
	@rc=0; $(BIN)/python -m pytest -q $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc = 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check dockd tests bench
	$(BIN)/ruff format --check dockd tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

schemas: $(STAMP)
	$(BIN)/python -m dockd.schemas schemas

# Re-extract the catalogs' msgids (templates, marked Python, error hints) into
# dockd/locale/*/LC_MESSAGES/dockd.po and compile dockd.mo; it fails while any is untranslated.
locale: $(STAMP)
	$(BIN)/python -m dockd.catalogs

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/dock.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/forward.py
	$(BIN)/python bench/stations.py

# Install on this machine, or into a staged tree with DESTDIR=; PREFIX= moves the venv
# (default /opt/dockd/venv). See packaging/install.sh for what goes where. Uninstall
# keeps /etc/dockd (configuration, rules) and /var/lib/dockd (store, ledger, station key).
install: run-packages
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' PYTHON='$(SYSTEM_PYTHON)' packaging/install.sh install

uninstall:
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' packaging/install.sh uninstall

# $(DIST)/dockd_<version>_<arch>.deb (and its .buildinfo, .changes), built by debhelper in a
# temporary copy of the checkout (packaging/build-deb.sh).
deb: run-packages deb-packages
	PYTHON='$(SYSTEM_PYTHON)' packaging/build-deb.sh '$(DIST)'

clean:
	rm -rf $(VENV) var dist

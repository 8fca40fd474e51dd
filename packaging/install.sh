#!/bin/sh
# Install or uninstall dockd from this checkout: packaging/install.sh install|uninstall
# (`make install`, `make uninstall`; `make deb` stages a package with it).
#
# What goes where (each overridable from the environment):
#   PREFIX/venv            a virtualenv with dockd pip-installed   PREFIX=/opt/dockd
#   SYSCONFDIR/dockd/      dockd.toml (only if absent) and rules/  SYSCONFDIR=/etc
#   UNITDIR                dockd.service, -report, -verify units   UNITDIR=/etc/systemd/system
#   TMPFILESDIR/dockd.conf the state and runtime directories       TMPFILESDIR=/etc/tmpfiles.d
#   UDEVRULESDIR           99-dockd.rules                          UDEVRULESDIR=/etc/udev/rules.d
#   CATALOGDIR             dockd.catalog, dockd.zh_CN.catalog      CATALOGDIR=/usr/lib/systemd/catalog
#   PREFIX/share/          dockd-recorder-writes.conf, the unit's drop-in for recorder writes
#                          dockd-unlock.conf, its drop-in for profiles' unlock tools
# DESTDIR is put in front of every path: a staged tree, nothing on this machine touched.
#
# Idempotent: files are installed with `install -C` (an identical file is left as it is),
# and the virtualenv is rebuilt only when the sources it was built from changed.
# Never touched, by install or uninstall: the admin's dockd.toml and rules, and
# /var/lib/dockd (the store, the ledger, the station key).
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
case "$DESTDIR" in
"" | /*) ;;
*) DESTDIR=$PWD/$DESTDIR ;;
esac
DESTDIR=${DESTDIR%/}
PREFIX=${PREFIX:-/opt/dockd}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-/etc/systemd/system}
TMPFILESDIR=${TMPFILESDIR:-/etc/tmpfiles.d}
UDEVRULESDIR=${UDEVRULESDIR:-/etc/udev/rules.d}
CATALOGDIR=${CATALOGDIR:-/usr/lib/systemd/catalog}
PYTHON=${PYTHON:-/usr/bin/python3}
UNITS="dockd.service dockd-report.service dockd-report.timer dockd-verify.service dockd-verify.timer"
# The units name the venv at its default place; another PREFIX is written into them.
SHIPPED_VENV=/opt/dockd/venv

case "$PREFIX" in
/?*) ;;
*) echo "PREFIX must be an absolute path, not '$PREFIX'" >&2; exit 2 ;;
esac
VENV=$PREFIX/venv
STAGED_VENV=$DESTDIR$VENV

say() { echo "dockd: $*"; }

# A digest of what pip builds dockd from; kept in the venv to know whether it is current.
source_digest() {
	(cd "$SRC" && find pyproject.toml README.md dockd -type f ! -path '*/__pycache__/*' \
		| LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
}

# pip builds in the tree it is given: give it a copy, so the checkout gets no build/.
build_venv() {
	digest=$(source_digest)
	if [ "$(cat "$STAGED_VENV/.dockd-source" 2>/dev/null)" = "$digest" ]; then
		say "$VENV is current"
		return
	fi
	copy=$(mktemp -d)
	trap 'rm -rf "$copy"' EXIT
	(cd "$SRC" && tar -cf - --exclude=__pycache__ pyproject.toml README.md dockd) | tar -xf - -C "$copy"
	rm -rf "$STAGED_VENV"
	"$PYTHON" -m venv "$STAGED_VENV"
	"$STAGED_VENV/bin/pip" install --quiet --disable-pip-version-check --no-compile "$copy"
	# Python venvs are not relocatable: one built under DESTDIR names that path in its
	# scripts' #! lines and pyvenv.cfg. Rewrite them to the final path, and compile the
	# bytecode with the final path as its source file name (tracebacks).
	if [ -n "$DESTDIR" ]; then
		grep -rlIF "$STAGED_VENV" "$STAGED_VENV/bin" "$STAGED_VENV/pyvenv.cfg" \
			| xargs sed -i "s|$STAGED_VENV|$VENV|g"
	fi
	find "$STAGED_VENV/lib" -name __pycache__ -prune -exec rm -rf {} +
	"$STAGED_VENV/bin/python" -m compileall -q -s "$DESTDIR/" -p / "$STAGED_VENV/lib" >/dev/null
	echo "$digest" >"$STAGED_VENV/.dockd-source"
	rm -rf "$copy"
	trap - EXIT
	say "built $VENV"
}

# A shipped file the admin may have changed: installed when absent, left alone when
# changed (the shipped version goes beside it as NAME.dist, which the loader ignores).
install_config() {
	mode=$1 from=$2 to=$3
	if [ ! -e "$to" ]; then
		install -D -m "$mode" "$from" "$to"
		say "installed ${to#"$DESTDIR"}"
	elif ! cmp -s "$from" "$to"; then
		install -C -m "$mode" "$from" "$to.dist"
		say "kept your ${to#"$DESTDIR"}; the shipped one is ${to#"$DESTDIR"}.dist"
	fi
}

install_units() {
	install -d "$DESTDIR$UNITDIR"
	unit_tmp=$(mktemp)
	for unit in $UNITS; do
		sed -e "s|$SHIPPED_VENV/|$VENV/|g" -e "s|/opt/dockd/share/|$PREFIX/share/|g" \
			"$SRC/systemd/$unit" >"$unit_tmp"
		install -C -m 0644 "$unit_tmp" "$DESTDIR$UNITDIR/$unit"
	done
	rm -f "$unit_tmp"
}

# On this machine (no DESTDIR): make systemd, tmpfiles, udev and the journal see the files.
activate() {
	[ -z "$DESTDIR" ] || return 0
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	systemd-tmpfiles --create "$TMPFILESDIR/dockd.conf" || true
	if udevadm control --ping 2>/dev/null; then
		udevadm control --reload
		# A recorder already in a bay was probed under the rules as they were: re-run the
		# rules on the USB disks (only those can be recorders), so that it is tagged (or,
		# after an uninstall, untagged) without a re-plug. The system's own disks get no event.
		udevadm trigger --action=change --subsystem-match=block --property-match=ID_BUS=usb || true
	fi
	journalctl --update-catalog 2>/dev/null || true
}

do_install() {
	build_venv
	conf=$DESTDIR$SYSCONFDIR/dockd
	install -d -m 0755 "$conf"
	# 0640: it may hold the mail relay's password.
	install_config 0640 "$SRC/systemd/dockd.toml.example" "$conf/dockd.toml"
	(cd "$SRC" && find rules -type f -name '*.toml' | LC_ALL=C sort) | while read -r rule; do
		install_config 0644 "$SRC/$rule" "$conf/$rule"
	done
	install_units
	install -C -D -m 0644 "$SRC/systemd/dockd-tmpfiles.conf" "$DESTDIR$TMPFILESDIR/dockd.conf"
	install -C -D -m 0644 "$SRC/udev/99-dockd.rules" "$DESTDIR$UDEVRULESDIR/99-dockd.rules"
	install -C -D -m 0644 "$SRC/systemd/dockd.catalog" "$DESTDIR$CATALOGDIR/dockd.catalog"
	install -C -D -m 0644 "$SRC/systemd/dockd-recorder-writes.conf" \
		"$DESTDIR$PREFIX/share/dockd-recorder-writes.conf"
	install -C -D -m 0644 "$SRC/systemd/dockd-unlock.conf" "$DESTDIR$PREFIX/share/dockd-unlock.conf"
	install -C -D -m 0644 "$SRC/systemd/dockd.zh_CN.catalog" "$DESTDIR$CATALOGDIR/dockd.zh_CN.catalog"
	activate
	if [ -z "$DESTDIR" ]; then
		say "edit $SYSCONFDIR/dockd/dockd.toml, then:"
		say "  systemctl enable --now dockd.service dockd-report.timer dockd-verify.timer"
	fi
}

do_uninstall() {
	if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
		systemctl disable --now dockd.service dockd-report.timer dockd-verify.timer || true
	fi
	rm -rf "$STAGED_VENV"
	rm -f "$DESTDIR$PREFIX/share/dockd-recorder-writes.conf" "$DESTDIR$PREFIX/share/dockd-unlock.conf"
	rmdir "$DESTDIR$PREFIX/share" "$DESTDIR$PREFIX" 2>/dev/null || true
	for unit in $UNITS; do rm -f "$DESTDIR$UNITDIR/$unit"; done
	rm -f "$DESTDIR$TMPFILESDIR/dockd.conf" "$DESTDIR$UDEVRULESDIR/99-dockd.rules" \
		"$DESTDIR$CATALOGDIR/dockd.catalog" "$DESTDIR$CATALOGDIR/dockd.zh_CN.catalog"
	activate
	say "kept $SYSCONFDIR/dockd (configuration, rules) and /var/lib/dockd (store, ledger, station key)"
}

case "${1:-}" in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: $0 install|uninstall" >&2; exit 2 ;;
esac

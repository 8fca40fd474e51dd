#!/bin/sh
# Build dist/dockd_<version>_<arch>.deb: packaging/build-deb.sh OUTDIR (`make deb`).
#
# debhelper builds it (packaging/debian/rules, compat 13) with dpkg-buildpackage, which
# writes its results into the parent of the source tree: so the build runs in a
# temporary copy of the checkout, and the .deb, .buildinfo and .changes are moved to
# OUTDIR. The copy's debian/ is packaging/debian/ with two things filled in here: the
# Maintainer (pyproject.toml's first maintainer, else its first author) and the
# changelog (a native package's one entry for pyproject.toml's version).
#
# Why not dh-virtualenv (bookworm has 1.2.2; its `pip install .` would take this
# pyproject): it is a second recipe for the venv beside packaging/install.sh, which
# `make install` runs, and it does less to make a venv built under the package tree right
# at its final path: it rewrites the #! lines and bin/activate, but not pyvenv.cfg, and its
# bytecode is pip's (build paths in tracebacks) or compiled by postinst into /opt on the
# dock, where install.sh compiles it at build time with the final paths. So one recipe
# for both: dh's override_dh_auto_install runs install.sh, and debhelper does the rest
# (units enabled and started, tmpfiles, conffiles, md5sums, changelog, lintian overrides).
#
# The venv is built with Debian's python3, so the package depends on that python3 minor
# version and on this architecture (compiled wheels: blake3, systemd-python, ...).
# /var/lib/dockd is not in the package, so dpkg never owns (nor removes) the store:
# postinst creates it through tmpfiles.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: $0 OUTDIR}
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

project() {
	"$PYTHON" - "$SRC/pyproject.toml" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
people = project.get("maintainers") or project.get("authors") or []
named = [p for p in people if p.get("name") and p.get("email")]
if not named:
    sys.exit("pyproject.toml: [project] maintainers (or authors) needs a name and an email "
             "for the package's Maintainer field")
print(project["version"])
print(f"{named[0]['name']} <{named[0]['email']}>")
PY
}
described=$(project)
version=$(echo "$described" | sed -n 1p)
maintainer=$(echo "$described" | sed -n 2p)
py=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
py_next=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1] + 1}")')

work=$(mktemp -d)
# The copy holds a 170 MB venv: gone however the build ends, a killed one (CI's timeout) too.
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
tree=$work/dockd-$version
mkdir "$tree"
(cd "$SRC" && tar -cf - --exclude=__pycache__ pyproject.toml README.md dockd systemd udev rules \
	packaging) | tar -xf - -C "$tree"
cp -r "$SRC/packaging/debian" "$tree/debian"
rm "$tree/debian/control.in"
sed -e "s|@MAINTAINER@|$maintainer|" -e "s|@PY@|$py|" -e "s|@PY_NEXT@|$py_next|" \
	"$SRC/packaging/debian/control.in" >"$tree/debian/control"
when=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$SRC/pyproject.toml")}")
printf 'dockd (%s) unstable; urgency=medium\n\n  * Release %s: see the project history.\n\n -- %s  %s\n' \
	"$version" "$version" "$maintainer" "$when" >"$tree/debian/changelog"

(cd "$tree" && PYTHON=$PYTHON dpkg-buildpackage --build=binary --no-sign)
mv "$work"/dockd_"$version"_*.deb "$work"/dockd_"$version"_*.buildinfo \
	"$work"/dockd_"$version"_*.changes "$OUT"/

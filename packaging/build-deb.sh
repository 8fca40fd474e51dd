#!/bin/sh
# Build dist/dockd_<version>_<arch>.deb: packaging/build-deb.sh OUTDIR (`make deb`).
#
# The package is the tree `packaging/install.sh` lays out, staged under a temporary
# DESTDIR with the packaged locations (units, tmpfiles and udev rules under /usr/lib),
# plus packaging/debian/ (maintainer scripts) and a control file; dpkg-deb builds it.
# The venv inside is built with Debian's python3 and rewritten to its final path
# /opt/dockd/venv (install.sh says how), so the package depends on that python3 minor
# version and on this architecture (compiled wheels: blake3, systemd-python, ...).
#
# Not dh-virtualenv, which Debian has: it needs a debian/ source tree and
# dpkg-buildpackage, which writes its results into the parent directory; this is
# the same venv-in-/opt package from the one install script that `make install` runs.
# /var/lib/dockd is not in the package, so dpkg never owns (nor removes) the store:
# postinst creates it through tmpfiles.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: $0 OUTDIR}
PYTHON=${PYTHON:-/usr/bin/python3}

version=$("$PYTHON" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$SRC/pyproject.toml")
py=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
py_next=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1] + 1}")')
arch=$(dpkg --print-architecture)
# The package's Maintainer field: who answers for it (DEB_MAINTAINER="Name <address>").
maintainer=${DEB_MAINTAINER:-dockd maintainers <dockd@localhost>}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR=$stage PREFIX=/opt/dockd PYTHON=$PYTHON \
	UNITDIR=/usr/lib/systemd/system TMPFILESDIR=/usr/lib/tmpfiles.d \
	UDEVRULESDIR=/usr/lib/udev/rules.d CATALOGDIR=/usr/lib/systemd/catalog \
	"$SRC/packaging/install.sh" install
rm -f "$stage/opt/dockd/venv/.dockd-source"  # the build's own bookkeeping
# Libraries are mapped, never executed (lintian: shared-library-is-executable).
find "$stage/opt/dockd/venv" -name '*.so*' -type f -exec chmod 0644 {} +

# What every Debian package carries: its copyright, its changelog (a native package's,
# gzip -9n so that the build is reproducible) and, here, its lintian overrides.
doc=$stage/usr/share/doc/dockd
install -D -m 0644 "$SRC/packaging/debian/copyright" "$doc/copyright"
when=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$SRC/pyproject.toml")}")
printf 'dockd (%s) unstable; urgency=medium\n\n  * Release %s: see the project history.\n\n -- %s  %s\n' \
	"$version" "$version" "$maintainer" "$when" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -D -m 0644 "$SRC/packaging/debian/lintian-overrides" \
	"$stage/usr/share/lintian/overrides/dockd"

install -d "$stage/DEBIAN"
for script in postinst prerm postrm; do
	install -m 0755 "$SRC/packaging/debian/$script" "$stage/DEBIAN/$script"
done
# Every file under /etc: dpkg keeps the admin's changes on upgrade and removes them on purge.
(cd "$stage" && find etc -type f | LC_ALL=C sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' \
	| LC_ALL=C sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
	-e "s|@MAINTAINER@|$maintainer|" -e "s|@PY@|$py|" -e "s|@PY_NEXT@|$py_next|" \
	"$SRC/packaging/debian/control.in" >"$stage/DEBIAN/control"

mkdir -p "$OUT"
deb="$OUT/dockd_${version}_${arch}.deb"
# gzip, not dpkg's default xz: xz takes minutes over the venv's 170 MB on a busy CI
# machine, gzip seconds, for a package some 30% larger.
dpkg-deb --root-owner-group -Zgzip -z6 --build "$stage" "$deb"

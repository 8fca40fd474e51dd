"""Export packages as BagIt bags (RFC 8493), written to the RFC's letter and checked alone.

The bag is written in one read pass of each store object (SHA-256, SHA-512 and BLAKE3
together), into a folder beside the one asked for, and renamed into place only once it
is complete and signed: an export that fails or is refused leaves nothing behind.
`verify` needs nothing but the package: a court or a defence expert can re-check it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

import blake3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dockd.adapters import iso
from dockd.core.export_description import FileDigests, PackageCheck
from dockd.errors import ExportError, ExportUsageError
from dockd.ports import PackageSigner

ALGORITHMS = ("sha256", "sha512")
SIGNED = "tagmanifest-sha256.txt"
SIGNATURE = SIGNED + ".sig"
PUBLIC_KEY = "station-key.pem"
#: What `export verify` insists on beside the payload.
REQUIRED = (
    "bagit.txt",
    "bag-info.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sha512.txt",
    "description.txt",
    "description.json",
    PUBLIC_KEY,
    SIGNATURE,
)
_BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
_CHUNK = 1 << 20


def manifest_path(path: str) -> str:
    """RFC 8493 2.1.3: CR, LF and '%' (and only those) are percent-encoded in manifests."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _unmanifest_path(text: str) -> str:
    return (
        text.replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%25", "%")
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safe(rel: str) -> None:
    parts = rel.split("/")
    if rel.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ExportError("refusing the package path {rel!r}: not a plain relative path", rel=rel)


class BagWriter:
    """One bag under construction in a hidden folder beside `out`."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.iso_path = out.with_name(out.name + ".iso")
        self.work = out.with_name(f".{out.name}.dockd-{uuid.uuid4().hex[:12]}.part")
        self._payload: dict[str, tuple[int, dict[str, str]]] = {}
        self._tags: list[str] = []
        try:
            self.work.mkdir(mode=0o755)
        except OSError as exc:
            raise ExportError(
                "cannot write beside {out}: {strerror}", out=out, strerror=exc.strerror
            ) from exc

    def _open(self, rel: str) -> int:
        _safe(rel)
        target = self.work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)

    def add_file(self, path: str, chunks: Iterable[bytes]) -> FileDigests:
        sha256, sha512, b3 = hashlib.sha256(), hashlib.sha512(), blake3.blake3()
        size = 0
        try:
            fd = self._open(path)
            try:
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                    sha256.update(chunk)
                    sha512.update(chunk)
                    b3.update(chunk)
                    size += len(chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ExportError(
                "writing {path} into the package: {strerror}", path=path, strerror=exc.strerror
            ) from exc
        digests = {"sha256": sha256.hexdigest(), "sha512": sha512.hexdigest()}
        if path.startswith("data/"):
            self._payload[path] = (size, digests)
        else:
            self._tags.append(path)
        return FileDigests(size, digests["sha256"], digests["sha512"], b3.hexdigest())

    def add_tag(self, path: str, data: bytes) -> None:
        if path.startswith("data/"):
            raise ExportError("{path}: tag files live outside data/", path=path)
        self.add_file(path, [data])

    def finish(
        self, bag_info: dict[str, str], signer: PackageSigner, iso_image: bool
    ) -> tuple[int, str]:
        try:
            return self._finish(bag_info, signer, iso_image)
        except OSError as exc:
            raise ExportError(
                "finishing the package {out}: {strerror}", out=self.out, strerror=exc.strerror
            ) from exc

    def _finish(
        self, bag_info: dict[str, str], signer: PackageSigner, iso_image: bool
    ) -> tuple[int, str]:
        self.add_tag(PUBLIC_KEY, signer.public_pem().encode("ascii"))
        octets = sum(size for size, _ in self._payload.values())
        info = {**bag_info, "Payload-Oxum": f"{octets}.{len(self._payload)}"}
        self._write("bagit.txt", _BAGIT_TXT)
        self._write("bag-info.txt", "".join(f"{k}: {v}\n" for k, v in info.items()).encode())
        for alg in ALGORITHMS:
            lines = (
                f"{d[alg]}  {manifest_path(p)}\n" for p, (_, d) in sorted(self._payload.items())
            )
            self._write(f"manifest-{alg}.txt", "".join(lines).encode("utf-8"))
        tag_files = sorted(
            ["bagit.txt", "bag-info.txt", *(f"manifest-{a}.txt" for a in ALGORITHMS), *self._tags]
        )
        for alg in ALGORITHMS:
            lines = (f"{_digest(self.work / t, alg)}  {manifest_path(t)}\n" for t in tag_files)
            self._write(f"tagmanifest-{alg}.txt", "".join(lines).encode("utf-8"))
        signed = (self.work / SIGNED).read_bytes()
        self._write(SIGNATURE, signer.sign(signed))
        for folder, _, _ in os.walk(self.work):
            _fsync_dir(Path(folder))
        if self.out.exists() or self.iso_path.exists():
            raise ExportUsageError("{out} (or its .iso) appeared while exporting", out=self.out)
        if iso_image:
            part = self.iso_path.with_name(f".{self.iso_path.name}.part")
            iso.write_image(self.work, part, "DOCKD_" + info["External-Identifier"][:20])
            os.rename(part, self.iso_path)
        os.rename(self.work, self.out)
        _fsync_dir(self.out.parent)
        nbytes = sum(f.stat().st_size for f in self.out.rglob("*") if f.is_file())
        return nbytes, hashlib.sha256(signed).hexdigest()

    def _write(self, rel: str, data: bytes) -> None:
        fd = self._open(rel)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def abandon(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.iso_path.with_name(f".{self.iso_path.name}.part").unlink()


def _digest(path: Path, alg: str) -> str:
    h = hashlib.new(alg)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class BagPackages:
    def start(self, out: Path) -> BagWriter:
        iso_path = out.with_name(out.name + ".iso")
        if out.exists() or iso_path.exists():
            raise ExportUsageError(
                "{out} already exists: an export never replaces anything", out=out
            )
        if not out.parent.is_dir():
            raise ExportUsageError(
                "{parent} is not a folder to write the package into", parent=out.parent
            )
        return BagWriter(out)

    def verify(self, path: Path) -> PackageCheck:
        if not path.exists():
            raise ExportUsageError(
                "no package at {path}", hint="Give the package folder or its .iso image.", path=path
            )
        if path.is_file():
            with tempfile.TemporaryDirectory(prefix="dockd-verify-") as tmp:
                bag = Path(tmp) / "bag"
                iso.extract_image(path, bag)
                check = verify_bag(bag)
            return PackageCheck(
                str(path), check.export_id, check.files, check.key_fingerprint, check.findings
            )
        return verify_bag(path)


def _read_manifest(bag: Path, name: str, findings: list[str]) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        text = (bag / name).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return entries
    for n, line in enumerate(text.splitlines(), 1):
        digest, sep, rel = line.partition(" ")
        if not sep or not rel.strip():
            findings.append(f"{name} line {n}: not '<digest> <path>'")
            continue
        entries[_unmanifest_path(rel.lstrip(" "))] = digest.lower()
    return entries


def _check_listed(bag: Path, name: str, alg: str, findings: list[str]) -> dict[str, str]:
    entries = _read_manifest(bag, name, findings)
    for rel, digest in entries.items():
        target = bag / rel
        if ".." in rel.split("/") or not target.is_file():
            findings.append(f"{rel}: missing (listed in {name})")
        elif _digest(target, alg) != digest:
            findings.append(f"{rel}: changed ({alg.upper()} differs from {name})")
    return entries


def verify_bag(bag: Path) -> PackageCheck:
    """Every rule the package was made by, checked from the package alone."""
    findings = [f"{name}: missing" for name in REQUIRED if not (bag / name).is_file()]
    if (bag / "bagit.txt").is_file() and (bag / "bagit.txt").read_bytes() != _BAGIT_TXT:
        findings.append("bagit.txt: changed (not a BagIt 1.0 declaration)")
    payload = {p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if not p.is_dir()}
    listed: dict[str, str] = {}
    for alg in ALGORITHMS:
        listed = _check_listed(bag, f"manifest-{alg}.txt", alg, findings)
        findings += [
            f"{p}: added (not in manifest-{alg}.txt)" for p in sorted(payload - listed.keys())
        ]
    tags: set[str] = set()
    for alg in ALGORITHMS:
        tags |= _check_listed(bag, f"tagmanifest-{alg}.txt", alg, findings).keys()
    info = _bag_info(bag)
    oxum = f"{sum((bag / p).stat().st_size for p in payload)}.{len(payload)}"
    if info.get("Payload-Oxum") != oxum:
        findings.append(
            f"bag-info.txt: Payload-Oxum {info.get('Payload-Oxum')} but the payload is {oxum}"
        )
    findings += _unlisted_tags(bag, tags)
    fingerprint = _check_signature(bag, findings)
    return PackageCheck(
        str(bag),
        info.get("External-Identifier"),
        len(payload),
        fingerprint,
        tuple(dict.fromkeys(findings)),
    )


def _unlisted_tags(bag: Path, tags: set[str]) -> list[str]:
    unsigned = {SIGNATURE, *(f"tagmanifest-{a}.txt" for a in ALGORITHMS)}
    found = []
    for p in sorted(bag.rglob("*")):
        rel = p.relative_to(bag).as_posix()
        if p.is_dir() or rel.startswith("data/") or rel in unsigned or rel in tags:
            continue
        found.append(f"{rel}: added (not in the tag manifest)")
    return found


def _bag_info(bag: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in (bag / "bag-info.txt").read_text("utf-8").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                info[key.strip()] = value.strip()
    return info


def _check_signature(bag: Path, findings: list[str]) -> str | None:
    try:
        key = serialization.load_pem_public_key((bag / PUBLIC_KEY).read_bytes())
        signature = (bag / SIGNATURE).read_bytes()
        signed = (bag / SIGNED).read_bytes()
    except (OSError, ValueError):
        findings.append(f"signature: {PUBLIC_KEY}, {SIGNATURE} or {SIGNED} unreadable")
        return None
    if not isinstance(key, Ed25519PublicKey):
        findings.append(f"signature: {PUBLIC_KEY} is not an Ed25519 key")
        return None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        findings.append(f"signature: {SIGNED} is not signed by the key in {PUBLIC_KEY}")
    return hashlib.sha256(raw).hexdigest()

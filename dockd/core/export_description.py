"""The written description that goes with exported evidence, and the names files get in it.

Every seed asks for a written account beside exported footage: its maker 制作人, the
extractor(s) 提取人 and the extraction time 提取时间 (000:27, 001:15, 003/D:16, 004:23), the
data source 数据来源 and what it proves 证明对象 (002:19), and 法发〔2016〕22号 Art. 14 asks for
each file's format and checksum. The same facts are given as text in Chinese and English
(for the case file) and as JSON (for tools), built here from plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dockd.core.registry import Custodian, CustodyStretch

#: Written as #XX in a package's file names: the escape itself, '/', control characters,
#: and '%', which RFC 8493 and bagit-python would each read differently in a manifest.
_ESCAPED = {ord("#"), ord("%"), ord("/"), 0x7F, *range(0x20)}


def bag_component(raw: bytes) -> str:
    """One name as a package file name: valid UTF-8 is kept; the characters above and
    bytes that are not UTF-8 become #XX, so `original_component` gives the raw name back."""
    out: list[str] = []
    text = raw.decode("utf-8", "surrogateescape")
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as surrogateescape keeps it
            out.append(f"#{code - 0xDC00:02X}")
        elif code in _ESCAPED:
            out.append(f"#{code:02X}")
        else:
            out.append(char)
    name = "".join(out)
    return name.replace(".", "#2E") if name in {".", ".."} else name


def original_component(name: str) -> bytes:
    """The inverse of `bag_component`."""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i] == "#" and i + 3 <= len(name):
            out.append(int(name[i + 1 : i + 3], 16))
            i += 3
        else:
            out += name[i].encode("utf-8")
            i += 1
    return bytes(out)


def payload_path(serial: str, session: str, raw_path: bytes) -> str:
    """Where a recording goes in a package: by recorder and dock session, so two recorders'
    FILE0001.MP4 never meet, then the path it had on the recorder."""
    parts = [bag_component(serial.encode("utf-8")), bag_component(session.encode("utf-8"))]
    parts += [bag_component(p) for p in raw_path.split(b"/") if p]
    return "data/" + "/".join(parts)


def custodian_at(stretches: Sequence[CustodyStretch], at: datetime) -> Custodian | None:
    """Who was responsible for the recorder at `at` ("whoever uses it is responsible")."""
    for custodian, since, until in reversed(stretches):
        if since <= at and (until is None or at < until):
            return custodian
    return None


def file_format(raw_path: bytes) -> str:
    """The container format as the name says it (MP4, MOV, AVI, WAV...)."""
    name = raw_path.rsplit(b"/", 1)[-1]
    if b"." not in name:
        return "unknown"
    return name.rsplit(b".", 1)[-1].decode("ascii", "replace").upper() or "unknown"


@dataclass(frozen=True, slots=True)
class FileDigests:
    """A file as it was written into a package: what the single read pass counted."""

    size: int
    sha256: str
    sha512: str
    blake3: str


@dataclass(frozen=True, slots=True)
class ExportIntent:
    """What an export sets out to do, recorded before the first byte is written."""

    export_id: str
    at: datetime
    case: str
    purpose: str
    maker: str
    operators: tuple[str, ...]
    recordings: tuple[int, ...]
    path: str


@dataclass(frozen=True, slots=True)
class PackageCheck:
    """What `dockd export verify` found: nothing in `findings` means intact."""

    path: str
    export_id: str | None
    files: int
    key_fingerprint: str | None  # SHA-256 of the public key in the package, hex
    findings: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class Extractor:
    """An operator who extracted the evidence (提取人)."""

    badge: str
    name: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One exported recording, as copied and checked."""

    recording: int
    path: str  # in the package, under data/
    original_path: str  # on the recorder, undecodable bytes as \\xNN
    original_path_hex: str | None  # the raw bytes, when they are not UTF-8
    format: str
    size: int
    reported_start: datetime
    reported_end: datetime
    corrected_start: datetime | None
    corrected_end: datetime | None
    sha256: str
    sha512: str
    blake3: str
    serial: str
    session: str
    custodian: Custodian | None


@dataclass(frozen=True, slots=True)
class ExportDescription:
    export_id: str
    case: str
    purpose: str  # 证明对象
    maker: str  # 制作人
    extractors: tuple[Extractor, ...]  # 提取人
    extracted_at: datetime  # station time
    station_offset_s: float | None  # NTP convention: true time = station time + offset
    station_clock_detail: str
    station: str
    authority: str
    pack: str
    files: tuple[ExportedFile, ...]

    @property
    def sessions(self) -> list[str]:
        return sorted({f.session for f in self.files})

    @property
    def serials(self) -> list[str]:
        return sorted({f.serial for f in self.files})

    def to_json(self) -> dict[str, Any]:
        return {
            "description_version": 1,
            "export": self.export_id,
            "case": self.case,
            "purpose": self.purpose,
            "maker": self.maker,
            "extractors": [
                {"badge": e.badge, "name": e.name, "unit": e.unit} for e in self.extractors
            ],
            "extracted_at": self.extracted_at.isoformat(),
            "station_clock": {
                "offset_s": self.station_offset_s,
                "detail": self.station_clock_detail,
            },
            "source": {
                "station": self.station,
                "authority": self.authority,
                "policy_pack": self.pack,
                "recorders": self.serials,
                "dock_sessions": self.sessions,
            },
            "files": [_file_json(f) for f in self.files],
        }

    def to_text(self) -> str:
        """Both languages, one fact a line, for printing with the case file."""
        people = "; ".join(_person(e.badge, e.name, e.unit) for e in self.extractors)
        offset = _offset(self.station_offset_s)
        lines = [
            "电子数据提取说明 / Evidence extraction description",
            "",
            f"导出编号 Export: {self.export_id}",
            f"案件 Case: {self.case}",
            f"证明对象 What it proves: {self.purpose}",
            f"制作人 Maker: {self.maker}",
            f"提取人 Extractor(s): {people}",
            f"提取时间 Extraction time: {self.extracted_at.isoformat()} (工作站时间 station "
            f"time; 与标准时间偏差 NTP offset {offset}; {self.station_clock_detail})",
            f"数据来源 Data source: 工作站 station {self.station} ({self.authority}); "
            f"执法记录仪 recorder(s) {', '.join(self.serials)}; "
            f"入库批次 dock session(s) {', '.join(self.sessions)}",
            f"文件数 Files: {len(self.files)}",
        ]
        for n, f in enumerate(self.files, 1):
            custodian = (
                _person(f.custodian.badge, f.custodian.name, f.custodian.unit)
                if f.custodian
                else "未登记 not registered"
            )
            lines += [
                "",
                f"[{n}] {f.path}",
                f"  原文件名 Original name: {f.original_path}"
                + (f" (bytes {f.original_path_hex})" if f.original_path_hex else ""),
                f"  格式 Format: {f.format}   大小 Size: {f.size} bytes",
                f"  记录时间 Recorded (recorder clock): {f.reported_start.isoformat()} – "
                f"{f.reported_end.isoformat()}",
                "  校正时间 Recorded (corrected): "
                + (
                    f"{f.corrected_start.isoformat()} – {f.corrected_end.isoformat()}"
                    if f.corrected_start and f.corrected_end
                    else "未测得记录仪时钟偏差 recorder drift not measured"
                ),
                f"  记录仪 Recorder: {f.serial}   保管人 Custodian: {custodian}",
                f"  入库批次 Dock session: {f.session}   台账编号 Ledger recording: {f.recording}",
                f"  SHA-256: {f.sha256}",
                f"  BLAKE3:  {f.blake3}",
            ]
        return "\n".join(lines) + "\n"


def _file_json(f: ExportedFile) -> dict[str, Any]:
    custodian = (
        {"badge": f.custodian.badge, "name": f.custodian.name, "unit": f.custodian.unit}
        if f.custodian
        else None
    )
    return {
        "recording": f.recording,
        "path": f.path,
        "original_path": f.original_path,
        "original_path_hex": f.original_path_hex,
        "format": f.format,
        "size": f.size,
        "reported_start": f.reported_start.isoformat(),
        "reported_end": f.reported_end.isoformat(),
        "corrected_start": f.corrected_start.isoformat() if f.corrected_start else None,
        "corrected_end": f.corrected_end.isoformat() if f.corrected_end else None,
        "sha256": f.sha256,
        "sha512": f.sha512,
        "blake3": f.blake3,
        "recorder": f.serial,
        "dock_session": f.session,
        "custodian": custodian,
    }


def _person(badge: str, name: str, unit: str | None) -> str:
    return f"{name} ({badge}{', ' + unit if unit else ''})"


def _offset(offset_s: float | None) -> str:
    return "未知 unknown" if offset_s is None else f"{offset_s:+.3f} s"

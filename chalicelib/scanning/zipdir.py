"""A zip's central directory read with ranged GETs, checked against bombs and ambiguity.

Only the end record and the central directory are fetched to judge the whole archive: entry count,
total uncompressed size and per-entry ratio (classic zip bombs), overlapping or gapped entries
(overlap bombs, hidden entries), encryption and unknown methods. Selected small members are then
fetched, verified against their local headers, sizes and CRCs, and inflated with a cap.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.scanning.reasons import Reason, Rejected

if TYPE_CHECKING:
    from chalicelib.scanning.source import ByteSource

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_MAX_COMMENT = 0xFFFF
_MAX_LOCAL_SLACK = 0xFFFF + 24  # a local extra field and a data descriptor may sit between entries
_RATIO_FLOOR = 1024 * 1024  # tiny members (repetitive XML) may compress far beyond any bomb ratio
_COALESCE_GAP = 256 * 1024  # fetching a gap this size costs less than another request
_MAX_GROUP = 4 * 1024 * 1024  # but one read never holds more than this
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_uncompressed: int
    max_ratio: float


@dataclass(frozen=True)
class ZipEntry:
    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    uncompressed: int
    offset: int
    name_bytes: bytes
    end: int = 0  # where the next entry (or the central directory) begins


@dataclass(frozen=True)
class ZipDirectory:
    entries: tuple[ZipEntry, ...]
    central_offset: int


def read_directory(source: ByteSource, limits: ZipLimits) -> ZipDirectory:
    eocd_at, eocd = _find_end_record(source)
    _sig, disk, cd_disk, on_disk, total, cd_size, cd_offset, _comment = eocd
    if disk or cd_disk or on_disk != total:
        raise Rejected(Reason.ZIP_UNSUPPORTED, "MultiDisk")
    directory_end = eocd_at
    if 0xFFFF in (on_disk, total) or 0xFFFFFFFF in (cd_size, cd_offset):
        directory_end, total, cd_size, cd_offset = _zip64_end_record(source, eocd_at)
    if total > limits.max_entries:
        raise Rejected(Reason.ZIP_TOO_MANY_ENTRIES)
    if cd_offset + cd_size != directory_end or cd_size < total * _CENTRAL.size or cd_size > total * 1400 + 1024:
        raise Rejected(Reason.ZIP_MALFORMED, "CentralDirectory")
    raw = source.read(cd_offset, cd_size)
    entries = _check_layout(_parse_central(raw, total), cd_offset)
    _check_limits(entries, limits)
    return ZipDirectory(entries, cd_offset)


def _find_end_record(source: ByteSource) -> tuple[int, tuple[int, ...]]:
    for span in (4096, _EOCD.size + _MAX_COMMENT):
        start = max(source.size - span, 0)
        tail = source.read(start, source.size - start)
        at = tail.rfind(b"PK\x05\x06")
        while at >= 0:
            if at + _EOCD.size <= len(tail):
                record = _EOCD.unpack_from(tail, at)
                # The comment must end exactly at the end of the file: nothing may follow the zip.
                if start + at + _EOCD.size + record[7] == source.size:
                    return start + at, record
            at = tail.rfind(b"PK\x05\x06", 0, at)
        if start == 0:
            break
    raise Rejected(Reason.ZIP_MALFORMED, "NoEndRecord")


def _zip64_end_record(source: ByteSource, eocd_at: int) -> tuple[int, int, int, int]:
    if eocd_at < _EOCD64_LOCATOR.size:
        raise Rejected(Reason.ZIP_MALFORMED, "Zip64")
    locator = _EOCD64_LOCATOR.unpack(source.read(eocd_at - _EOCD64_LOCATOR.size, _EOCD64_LOCATOR.size))
    if locator[0] != b"PK\x06\x07" or locator[1] != 0 or locator[3] != 1:
        raise Rejected(Reason.ZIP_MALFORMED, "Zip64")
    record_at = locator[2]
    if record_at + _EOCD64.size != eocd_at - _EOCD64_LOCATOR.size:
        raise Rejected(Reason.ZIP_MALFORMED, "Zip64")
    record = _EOCD64.unpack(source.read(record_at, _EOCD64.size))
    sig, _size, _made, _need, disk, cd_disk, on_disk, total, cd_size, cd_offset = record
    if sig != b"PK\x06\x06" or disk or cd_disk or on_disk != total:
        raise Rejected(Reason.ZIP_MALFORMED, "Zip64")
    return record_at, total, cd_size, cd_offset


def _parse_central(raw: bytes, total: int) -> list[ZipEntry]:
    entries = []
    at = 0
    for _ in range(total):
        if at + _CENTRAL.size > len(raw):
            raise Rejected(Reason.ZIP_MALFORMED, "Truncated")
        (
            sig,
            _made,
            _need,
            flags,
            method,
            _time,
            _date,
            crc,
            compressed,
            uncompressed,
            name_len,
            extra_len,
            comment_len,
            _disk,
            _internal,
            _external,
            offset,
        ) = _CENTRAL.unpack_from(raw, at)
        if sig != b"PK\x01\x02":
            raise Rejected(Reason.ZIP_MALFORMED, "EntrySignature")
        name_at = at + _CENTRAL.size
        name_bytes = raw[name_at : name_at + name_len]
        extra = raw[name_at + name_len : name_at + name_len + extra_len]
        uncompressed, compressed, offset = _zip64_sizes(extra, uncompressed, compressed, offset)
        name = name_bytes.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        entries.append(ZipEntry(name, flags, method, crc, compressed, uncompressed, offset, name_bytes))
        at = name_at + name_len + extra_len + comment_len
    if at != len(raw):
        raise Rejected(Reason.ZIP_MALFORMED, "CentralDirectorySize")
    return entries


def _zip64_sizes(extra: bytes, uncompressed: int, compressed: int, offset: int) -> tuple[int, int, int]:
    if 0xFFFFFFFF not in (uncompressed, compressed, offset):
        return uncompressed, compressed, offset
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        if tag == 0x0001:
            values = list(struct.unpack_from(f"<{size // 8}Q", extra, at + 4))
            if uncompressed == 0xFFFFFFFF and values:
                uncompressed = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            return uncompressed, compressed, offset
        at += 4 + size
    raise Rejected(Reason.ZIP_MALFORMED, "Zip64Extra")


def _check_layout(entries: list[ZipEntry], central_offset: int) -> tuple[ZipEntry, ...]:
    """Entries must tile the file from offset 0 to the central directory: no overlap, no hidden data."""
    ordered = sorted(entries, key=lambda e: e.offset)
    seen: set[str] = set()
    laid_out = []
    expected_start = 0
    for index, entry in enumerate(ordered):
        end = ordered[index + 1].offset if index + 1 < len(ordered) else central_offset
        minimum_end = entry.offset + _LOCAL.size + len(entry.name_bytes) + entry.compressed
        if entry.offset != expected_start or minimum_end > end or end - minimum_end > _MAX_LOCAL_SLACK:
            raise Rejected(Reason.ZIP_MALFORMED, "Layout")
        folded = entry.name.lower()
        if folded in seen:  # OPC part names are case-insensitive: two parts with one name is ambiguous
            raise Rejected(Reason.ZIP_MALFORMED, "DuplicateName")
        seen.add(folded)
        laid_out.append(replace(entry, end=end))
        expected_start = end
    if not ordered and central_offset != 0:
        raise Rejected(Reason.ZIP_MALFORMED, "Layout")
    return tuple(laid_out)


def _check_limits(entries: tuple[ZipEntry, ...], limits: ZipLimits) -> None:
    total = 0
    for entry in entries:
        if entry.flags & 0x41:  # traditional or strong encryption
            raise Rejected(Reason.ZIP_ENCRYPTED)
        if entry.method not in (0, 8):
            raise Rejected(Reason.ZIP_UNSUPPORTED, "Method")
        if entry.method == 0 and entry.compressed != entry.uncompressed:
            raise Rejected(Reason.ZIP_MALFORMED, "StoredSize")
        if entry.uncompressed > _RATIO_FLOOR and entry.uncompressed > entry.compressed * limits.max_ratio:
            raise Rejected(Reason.ZIP_RATIO)
        total += entry.uncompressed
        if total > limits.max_uncompressed:
            raise Rejected(Reason.ZIP_TOO_LARGE_UNCOMPRESSED)


def read_members(source: ByteSource, wanted: list[ZipEntry], max_member: int) -> Iterator[tuple[ZipEntry, bytes]]:
    """Inflated content of each wanted member, fetched in as few ranged reads as gaps allow."""
    for entry in wanted:
        if entry.uncompressed > max_member:
            raise Rejected(Reason.ZIP_TOO_LARGE_UNCOMPRESSED, "Member")
    ordered = sorted(wanted, key=lambda e: e.offset)
    group: list[ZipEntry] = []
    for entry in ordered:
        if group and (entry.offset - group[-1].end > _COALESCE_GAP or entry.end - group[0].offset > _MAX_GROUP):
            yield from _read_group(source, group)
            group = []
        group.append(entry)
    if group:
        yield from _read_group(source, group)


def _read_group(source: ByteSource, group: list[ZipEntry]) -> Iterator[tuple[ZipEntry, bytes]]:
    start = group[0].offset
    data = source.read(start, group[-1].end - start)
    for entry in group:
        yield entry, _inflate(entry, data, entry.offset - start)


def _inflate(entry: ZipEntry, data: bytes, at: int) -> bytes:
    begin = _data_start(entry, data, at)
    if begin is None:
        raise Rejected(Reason.ZIP_MALFORMED, "LocalHeader")
    compressed = data[begin : begin + entry.compressed]
    if len(compressed) != entry.compressed:
        raise Rejected(Reason.ZIP_MALFORMED, "Truncated")
    return b"".join(_verified(entry, _decoded(entry, (compressed,))))


def member_chunks(
    source: ByteSource, entries: list[ZipEntry], small: int = 256 * 1024
) -> Iterator[tuple[ZipEntry, Iterable[bytes]]]:
    """Each member's inflated content as chunks: small members from coalesced reads, large ones streamed."""
    little = [entry for entry in entries if entry.compressed <= small and entry.uncompressed <= 4 * small]
    for entry, content in read_members(source, little, 4 * small):
        yield entry, (content,)
    chosen = {entry.offset for entry in little}
    for entry in entries:
        if entry.offset not in chosen:
            yield entry, stream_member(source, entry)


def stream_member(source: ByteSource, entry: ZipEntry) -> Iterator[bytes]:
    """One member inflated as it streams in (one request), checked against its declared size and CRC."""
    return _verified(entry, _decoded(entry, _compressed_stream(source, entry)))


def _compressed_stream(source: ByteSource, entry: ZipEntry) -> Iterator[bytes]:
    header = b""
    begin = None
    remaining = entry.compressed
    for piece in source.stream(entry.offset, entry.end, _CHUNK):
        if begin is None:
            header += piece
            begin = _data_start(entry, header, 0)
            if begin is None:
                continue
            piece = header[begin:]
        piece = piece[:remaining]
        remaining -= len(piece)
        if piece:
            yield piece
        if not remaining:
            return
    if begin is None or remaining:
        raise Rejected(Reason.ZIP_MALFORMED, "Truncated")


def _decoded(entry: ZipEntry, chunks: Iterable[bytes]) -> Iterator[bytes]:
    if entry.method == 0:
        yield from chunks
        return
    inflater = zlib.decompressobj(-15)
    try:
        for data in chunks:
            while data:
                out = inflater.decompress(data, _CHUNK)
                if out:
                    yield out
                data = inflater.unconsumed_tail
        rest = inflater.flush()
    except zlib.error:
        raise Rejected(Reason.ZIP_MALFORMED, "Deflate") from None
    if rest:
        yield rest


def _verified(entry: ZipEntry, chunks: Iterable[bytes]) -> Iterator[bytes]:
    produced = 0
    crc = 0
    for out in chunks:
        produced += len(out)
        if produced > entry.uncompressed:  # more than the directory declared: stop before it grows
            raise Rejected(Reason.ZIP_MALFORMED, "Size")
        crc = zlib.crc32(out, crc)
        yield out
    if produced != entry.uncompressed or crc != entry.crc:
        raise Rejected(Reason.ZIP_MALFORMED, "Crc")


def _data_start(entry: ZipEntry, data: bytes, at: int) -> int | None:
    """Where the member's data begins after its local header at `at`, or None if `data` stops short of it."""
    if at + _LOCAL.size > len(data):
        return None
    sig, _need, _flags, method, _time, _date, _crc, _csize, _usize, name_len, extra_len = _LOCAL.unpack_from(data, at)
    name_at = at + _LOCAL.size
    if sig != b"PK\x03\x04" or method != entry.method or name_len != len(entry.name_bytes):
        raise Rejected(Reason.ZIP_MALFORMED, "LocalHeader")  # the two directories disagree: ambiguous
    begin = name_at + name_len + extra_len
    if begin > len(data):
        return None
    if data[name_at : name_at + name_len] != entry.name_bytes:
        raise Rejected(Reason.ZIP_MALFORMED, "LocalHeader")
    return begin

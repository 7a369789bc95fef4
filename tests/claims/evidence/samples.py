"""Files to upload in tests: real documents made now, and hostile ones built by hand.

Real documents come from the libraries people's software resembles (python-docx, openpyxl,
odfpy, reportlab); the LibreOffice-made files (.doc, .xls, macros, encryption) are committed
under ``tests/fixtures/evidence`` (see its README).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "evidence"
TEXT = "Evidence for a claim: 12 health checks in March."
MIB = 1024 * 1024


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- Real documents --------------------------------------------------------------------------


def docx() -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading("Claim evidence", level=1)
    document.add_paragraph(TEXT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Service", "Count"])
    sheet.append(["Health checks", 12])
    out = io.BytesIO()
    workbook.save(out)
    workbook.close()
    return out.getvalue()


def odt() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    document.text.addElement(P(text=TEXT))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def ods() -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Claim")
    for values in (("Service", "Count"), ("Health checks", "12")):
        row = TableRow()
        for value in values:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def pdf(**canvas_options: object) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, **canvas_options)  # type: ignore[arg-type]
    page.drawString(72, 720, TEXT)
    page.showPage()
    page.save()
    return out.getvalue()


def encrypted_ooxml(package: bytes, password: str = "fixture-pass") -> bytes:  # noqa: S107
    """What Office does to a password-protected .docx/.xlsx (ECMA-376 agile encryption)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(package)).encrypt(password, out)
    return out.getvalue()


# --- Editing zips ------------------------------------------------------------------------------


def rezip(
    package: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    drop: set[str] | None = None,
) -> bytes:
    """A copy of a zip package with members replaced, added or dropped (order kept)."""
    replace, add, drop = replace or {}, add or {}, drop or set()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info, replace.get(info.filename, source.read(info.filename)))
        for name, data in add.items():
            target.writestr(name, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read_member(package: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return archive.read(name)


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- Hostile files -----------------------------------------------------------------------------

#: A minimal Windows program header: "MZ", the DOS stub pointer, "PE\0\0", an i386 COFF header.
WINDOWS_PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + b"\x80\x00\x00\x00"
    + b"\x00" * 64
    + b"PE\x00\x00\x4c\x01\x01\x00"
    + b"\x00" * 240
)

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Invoice</title></head>"
    b"<body><script>document.location='https://example.invalid/'</script></body></html>\n"
)


def linux_program() -> bytes:
    return Path("/bin/true").read_bytes()


def zip_bomb(unpacked: int = 400 * MIB) -> bytes:
    """A docx-shaped zip whose document part unpacks to ``unpacked`` bytes of zeros.

    Deflate cannot beat about 1030:1, so 400 MB packs to about 400 KB: well under 5 MB.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_DOCX)
        archive.writestr("_rels/.rels", ROOT_RELS_DOCX)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * MIB
            for _ in range(unpacked // MIB):
                member.write(block)
    return out.getvalue()


def overlapping_zip_bomb(entries: int = 200, unpacked: int = 10 * MIB) -> bytes:
    """David Fifield's overlapping-entries bomb, simplified: every central-directory entry
    points at the same compressed data, so ``entries`` x ``unpacked`` bytes unpack from one
    small kernel (each entry's name is written in the central directory only)."""
    kernel = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = kernel.compress(b"\0" * unpacked) + kernel.flush()
    crc = zlib.crc32(b"\0" * unpacked)
    name = b"word/document.xml"
    local = (
        b"PK\x03\x04"
        + (20).to_bytes(2, "little")  # version needed
        + (0).to_bytes(2, "little")  # flags
        + (8).to_bytes(2, "little")  # deflate
        + (0).to_bytes(4, "little")  # time, date
        + crc.to_bytes(4, "little")
        + len(compressed).to_bytes(4, "little")
        + unpacked.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + (0).to_bytes(2, "little")
        + name
    )
    body = local + compressed
    central = b""
    for index in range(entries):
        entry_name = f"word/part{index}.xml".encode()
        central += (
            b"PK\x01\x02"
            + (20).to_bytes(2, "little")  # made by
            + (20).to_bytes(2, "little")  # needed
            + (0).to_bytes(2, "little")
            + (8).to_bytes(2, "little")
            + (0).to_bytes(4, "little")
            + crc.to_bytes(4, "little")
            + len(compressed).to_bytes(4, "little")
            + unpacked.to_bytes(4, "little")
            + len(entry_name).to_bytes(2, "little")
            + (0).to_bytes(2, "little") * 3  # extra, comment, disk
            + (0).to_bytes(2, "little")  # internal attributes
            + (0).to_bytes(4, "little")  # external attributes
            + (0).to_bytes(4, "little")  # every entry: the same local header at offset 0
            + entry_name
        )
    end = (
        b"PK\x05\x06"
        + (0).to_bytes(4, "little")
        + entries.to_bytes(2, "little") * 2
        + len(central).to_bytes(4, "little")
        + len(body).to_bytes(4, "little")
        + (0).to_bytes(2, "little")
    )
    return body + central + end


CONTENT_TYPES_DOCX = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
ROOT_RELS_DOCX = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def pdf_document(*objects: bytes, trailer_extra: bytes = b"") -> bytes:
    """A small hand-written PDF: a catalog (object 1) and page tree plus ``objects`` (from 4).

    Cross-reference offsets are right, so real readers open it.
    """
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(bodies) + 1, trailer_extra)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def object_stream(inner: bytes, *, filters: bytes = b"/FlateDecode", encode: bool = True) -> bytes:
    """An object stream (PDF 1.5) holding one object, numbered 10, with ``inner`` as its body."""
    header = b"10 0 "
    content = header + inner
    data = zlib.compress(content) if encode else content
    return pdf_stream(b"/Type /ObjStm /N 1 /First %d /Filter %s" % (len(header), filters), data)

"""Checks inside each kind of container: zip (OOXML and ODF) and OLE (.doc, .xls); PDFs in
``pdf.py``.

These run after libmagic has agreed with the file's extension (``validation.py``). libmagic
recognises Office zip files by their entry names only, so each container is opened here
without extracting anything to disk, and refused with a plain reason when it holds macros,
is password protected, is built to exhaust memory (a zip bomb), or is not what it claims.

Zip members are read through a size-capped reader and the layout is checked for overlapping
entries: Python 3.11.7 predates the zipfile fix for overlapping-entry bombs (3.11.8).
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import defusedxml.ElementTree as DefusedET
import msoffcrypto
import olefile
from defusedxml import DefusedXmlException

from claims_portal.claims.evidence.errors import EvidenceRejected, RejectionCode
from claims_portal.claims.evidence.filetypes import (
    EXCEL_OOXML,
    ODF_SPREADSHEET,
    ODF_TEXT,
    WORD_OOXML,
    EvidenceType,
)

with warnings.catch_warnings():
    # oletools 0.60.2 calls pyparsing's deprecated ``enablePackrat`` when olevba is imported;
    # the test suite turns warnings into errors. Only the import is wrapped (once, under the
    # import lock): warning filters are process-wide, so wrapping each call would race
    # between request threads.
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools import olevba

log = logging.getLogger(__name__)

MIB = 1024 * 1024

DAMAGED = (
    "This file is damaged or incomplete, so it cannot be checked. "
    "Open it, save it again and upload the new copy"
)
MACROS = (
    "This file contains macros. Save a copy without macros (for example as .docx or .xlsx) "
    "and upload that instead"
)
ENCRYPTED = (
    "This file is password protected. Remove the password, save the file and upload it again"
)
ZIP_BOMB = (
    "This file unpacks to far more data than a real document would, so it cannot be checked safely"
)
EXTERNAL_CODE = (
    "This file loads a template or object from outside the document when it is opened, "
    "which can be used to run macros. Save it as a new document and upload that instead"
)


@dataclass(frozen=True)
class ContainerLimits:
    """Caps on what a container may unpack to; the defaults suit 5 MB office files."""

    #: Entries in a zip (OOXML, ODF).
    max_entries: int = 2_000
    #: Total unpacked size of a zip, or of a PDF's decoded object streams.
    max_unpacked_bytes: int = 50 * MIB
    #: Unpacked/packed ratio allowed for one zip member ...
    max_ratio: int = 100
    #: ... once the member unpacks to more than this (small XML parts compress very well).
    ratio_floor_bytes: int = 1 * MIB
    #: Package metadata parts held in memory ([Content_Types].xml, *.rels, manifest.xml).
    max_metadata_part_bytes: int = 2 * MIB


def refuse(code: RejectionCode, reason: str) -> NoReturn:
    raise EvidenceRejected(code, reason)


def mismatch(expected: EvidenceType, what: str, actual: EvidenceType | None = None) -> NoReturn:
    """Refuse a file whose content is not what its name says; ``what`` says what it is."""
    reason = f"This file is named .{expected.value} but {what}"
    if actual is not None and actual is not expected:
        reason += f". Rename it to end in .{actual.value} and upload it again"
    refuse(RejectionCode.CONTENT_MISMATCH, reason)


# --- Zip: layout, sizes and a capped read of every member --------------------------------

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"


def _safe_member_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in {"..", "."} for part in name.split("/"))


def _check_layout(data: bytes, infos: list[zipfile.ZipInfo], central_directory: int) -> None:
    """Refuse entries whose data overlap (the overlapping-entry zip bomb) or that start late."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    if ordered and ordered[0].header_offset != 0:
        # Data before the first entry: a polyglot (e.g. a program with a zip appended).
        refuse(RejectionCode.DAMAGED, DAMAGED)
    for index, info in enumerate(ordered):
        start = info.header_offset
        header = data[start : start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size:
            refuse(RejectionCode.DAMAGED, DAMAGED)
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
        if signature != _LOCAL_SIGNATURE:
            refuse(RejectionCode.DAMAGED, DAMAGED)
        data_end = start + _LOCAL_HEADER.size + name_length + extra_length + info.compress_size
        limit = ordered[index + 1].header_offset if index + 1 < len(ordered) else central_directory
        if data_end > limit:
            refuse(RejectionCode.ZIP_BOMB, ZIP_BOMB)


def _read_capped(handle: Any, declared: int, budget: int) -> Iterator[bytes]:
    """Yield a member's bytes, refusing it past its declared size or the remaining budget."""
    read = 0
    while chunk := handle.read(64 * 1024):
        read += len(chunk)
        if read > declared:
            refuse(RejectionCode.DAMAGED, DAMAGED)
        if read > budget:
            refuse(RejectionCode.ZIP_BOMB, ZIP_BOMB)
        yield chunk


def open_verified_zip(
    data: bytes, limits: ContainerLimits, keep: Callable[[str], bool]
) -> tuple[zipfile.ZipFile, dict[str, bytes]]:
    """Open a zip and read every member once through a capped reader (CRCs checked).

    Returns the open ``ZipFile`` (the caller closes it) and the bytes of the members for
    which ``keep(name)`` is true (metadata parts, at most ``max_metadata_part_bytes`` each).
    Raises :class:`EvidenceRejected`: ``DAMAGED`` (not a readable zip, unsafe or duplicate
    names, unsupported compression, CRC errors), ``PASSWORD_PROTECTED`` (encrypted members),
    ``ZIP_BOMB`` (too many entries, too large unpacked, too high a ratio, overlapping data).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        refuse(RejectionCode.DAMAGED, DAMAGED)
    try:
        kept = _verify_members(archive, data, limits, keep)
    except EvidenceRejected:
        archive.close()
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
        archive.close()
        refuse(RejectionCode.DAMAGED, DAMAGED)
    return archive, kept


def _verify_members(
    archive: zipfile.ZipFile, data: bytes, limits: ContainerLimits, keep: Callable[[str], bool]
) -> dict[str, bytes]:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        refuse(RejectionCode.ZIP_BOMB, ZIP_BOMB)
    names = [info.filename for info in infos]
    if len(set(names)) != len(names) or not all(_safe_member_name(n) for n in names):
        refuse(RejectionCode.DAMAGED, DAMAGED)
    if any(info.flag_bits & 0x1 for info in infos):
        refuse(RejectionCode.PASSWORD_PROTECTED, ENCRYPTED)
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
        refuse(RejectionCode.DAMAGED, DAMAGED)
    if sum(info.file_size for info in infos) > limits.max_unpacked_bytes:
        refuse(RejectionCode.ZIP_BOMB, ZIP_BOMB)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            refuse(RejectionCode.ZIP_BOMB, ZIP_BOMB)
    _check_layout(data, infos, getattr(archive, "start_dir", len(data)))

    kept: dict[str, bytes] = {}
    budget = limits.max_unpacked_bytes
    for info in infos:
        if info.is_dir():
            continue
        wanted = keep(info.filename)
        parts: list[bytes] = []
        with archive.open(info) as handle:
            for chunk in _read_capped(handle, info.file_size, budget):
                budget -= len(chunk)
                if wanted:
                    parts.append(chunk)
        if wanted:
            content = b"".join(parts)
            if len(content) > limits.max_metadata_part_bytes:
                refuse(RejectionCode.DAMAGED, DAMAGED)
            kept[info.filename] = content
    return kept


def _parse_xml(content: bytes) -> Any:
    """Parse a metadata part with defusedxml; refuse entity tricks and broken XML."""
    try:
        return DefusedET.fromstring(content)
    except (DefusedXmlException, DefusedET.ParseError, ValueError):
        refuse(RejectionCode.DAMAGED, DAMAGED)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- OOXML (.docx, .xlsx) -----------------------------------------------------------------

#: Content types of macro-bearing or code-bearing parts (compared in lower case).
_MACRO_CONTENT_MARKERS = ("macroenabled", "vbaproject", "macrosheet", "activex")
_MACRO_PART_NAMES = ("vbaproject.bin", "vbaprojectsignature.bin", "vbadata.xml")
_MACRO_PART_FOLDERS = ("xl/macrosheets/", "word/activex/", "xl/activex/")
#: Relationship types that fetch something from outside the file when it is opened.
_EXTERNAL_CODE_RELATIONSHIPS = ("/attachedtemplate", "/oleobject", "/subdocument", "/frame")

_OOXML_MAIN_PARTS: dict[str, tuple[str, EvidenceType | None]] = {
    WORD_OOXML + ".main+xml": ("it is a Word document (.docx)", EvidenceType.DOCX),
    EXCEL_OOXML + ".main+xml": ("it is an Excel workbook (.xlsx)", EvidenceType.XLSX),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
        "it is a Word template (.dotx)",
        None,
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
        "it is an Excel template (.xltx)",
        None,
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "it is a PowerPoint presentation (.pptx)",
        None,
    ),
}


def _is_ooxml_metadata(name: str) -> bool:
    return name == "[Content_Types].xml" or name.endswith(".rels")


def check_ooxml(data: bytes, expected: EvidenceType, limits: ContainerLimits) -> None:
    """Check a .docx or .xlsx package.

    Raises :class:`EvidenceRejected` (see :func:`open_verified_zip`, plus ``CONTENT_MISMATCH``
    when the main part is another kind of document, ``MACROS`` for VBA projects, macro-enabled
    or ActiveX content types and ``ACTIVE_CONTENT`` for external templates or objects).
    """
    archive, kept = open_verified_zip(data, limits, _is_ooxml_metadata)
    with archive:
        names = set(archive.namelist())
    lowered = [name.lower() for name in names]
    if any(n.rsplit("/", 1)[-1] in _MACRO_PART_NAMES for n in lowered) or any(
        n.startswith(_MACRO_PART_FOLDERS) for n in lowered
    ):
        refuse(RejectionCode.MACROS, MACROS)
    if "[Content_Types].xml" not in kept:
        mismatch(expected, "it is a zip archive")
    defaults, overrides = _content_types(kept["[Content_Types].xml"])
    every_type = [t.lower() for t in (*defaults.values(), *overrides.values())]
    if any(marker in t for t in every_type for marker in _MACRO_CONTENT_MARKERS):
        refuse(RejectionCode.MACROS, MACROS)

    main = _main_part(kept.get("_rels/.rels"))
    if main is None or main not in names:
        refuse(RejectionCode.DAMAGED, DAMAGED)
    extension = main.rsplit(".", 1)[-1].lower() if "." in main else ""
    main_type = (overrides.get("/" + main.lower()) or defaults.get(extension) or "").lower()
    what, actual = _OOXML_MAIN_PARTS.get(main_type, (f"it is not {expected.description}", None))
    if actual is not expected:
        mismatch(expected, what, actual)

    for name, content in kept.items():
        if name.endswith(".rels") and _has_external_code(content):
            refuse(RejectionCode.ACTIVE_CONTENT, EXTERNAL_CODE)
    # VBA can also hide in embedded objects (an .xls with macros inside a .docx): olevba
    # opens every OLE part of the package. Sizes were verified above.
    _refuse_vba(data)


def _content_types(content: bytes) -> tuple[dict[str, str], dict[str, str]]:
    root = _parse_xml(content)
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for element in root:
        kind = _local(element.tag)
        if kind == "Default":
            defaults[element.get("Extension", "").lower()] = element.get("ContentType", "")
        elif kind == "Override":
            overrides[element.get("PartName", "").lower()] = element.get("ContentType", "")
    return defaults, overrides


def _main_part(content: bytes | None) -> str | None:
    """The package's main part (the officeDocument relationship's target), without ``/``."""
    if content is None:
        return None
    for element in _parse_xml(content):
        if _local(element.tag) != "Relationship":
            continue
        if element.get("Type", "").endswith("/officeDocument"):
            if element.get("TargetMode", "Internal") != "Internal":
                return None
            return str(element.get("Target", "")).lstrip("/")
    return None


def _has_external_code(content: bytes) -> bool:
    for element in _parse_xml(content):
        if _local(element.tag) != "Relationship":
            continue
        external = element.get("TargetMode", "").lower() == "external"
        kind = element.get("Type", "").lower()
        if external and kind.endswith(_EXTERNAL_CODE_RELATIONSHIPS):
            return True
    return False


# --- OpenDocument (.odt, .ods) -------------------------------------------------------------

_ODF_MIMETYPES: dict[str, tuple[str, EvidenceType | None]] = {
    ODF_TEXT: ("it is an OpenDocument text document (.odt)", EvidenceType.ODT),
    ODF_SPREADSHEET: ("it is an OpenDocument spreadsheet (.ods)", EvidenceType.ODS),
    "application/vnd.oasis.opendocument.presentation": (
        "it is an OpenDocument presentation (.odp)",
        None,
    ),
    "application/vnd.oasis.opendocument.graphics": ("it is an OpenDocument drawing (.odg)", None),
    "application/vnd.oasis.opendocument.text-template": (
        "it is an OpenDocument template (.ott)",
        None,
    ),
}
_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_ODF_MACRO_FOLDERS = ("basic/", "scripts/")
#: Elements that run macros: event bindings (documents, form controls) and macro fields.
_ODF_MACRO_ELEMENTS = {
    "{urn:oasis:names:tc:opendocument:xmlns:script:1.0}event-listener",
    "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}execute-macro",
}
#: Link targets that call a macro (hyperlinks, images, buttons).
_ODF_SCRIPT_URLS = ("vnd.sun.star.script:", "macro:")
_ODF_LINK_ATTRIBUTES = ("}href", "}macro-name")


def _is_odf_metadata(name: str) -> bool:
    return name in {"mimetype", "META-INF/manifest.xml"}


def check_odf(data: bytes, expected: EvidenceType, limits: ContainerLimits) -> None:
    """Check an .odt or .ods package.

    Raises :class:`EvidenceRejected` (see :func:`open_verified_zip`, plus ``DAMAGED`` when
    ``mimetype`` is not the first, stored entry, ``CONTENT_MISMATCH`` for another ODF type,
    ``PASSWORD_PROTECTED`` when the manifest has encryption data, ``MACROS`` for ``Basic/`` or
    ``Scripts/`` folders or script URLs in the document's XML).
    """
    archive, kept = open_verified_zip(data, limits, _is_odf_metadata)
    with archive:
        infos = archive.infolist()
        first = infos[0] if infos else None
        if (
            first is None
            or first.filename != "mimetype"
            or first.compress_type != zipfile.ZIP_STORED
        ):
            refuse(RejectionCode.DAMAGED, DAMAGED)
        mimetype = kept["mimetype"].decode("ascii", "replace")
        what, actual = _ODF_MIMETYPES.get(mimetype, (f"it is not {expected.description}", None))
        if actual is not expected:
            mismatch(expected, what, actual)
        if "META-INF/manifest.xml" not in kept:
            refuse(RejectionCode.DAMAGED, DAMAGED)
        manifest = _parse_xml(kept["META-INF/manifest.xml"])
        if manifest.find(f".//{{{_MANIFEST_NS}}}encryption-data") is not None:
            refuse(RejectionCode.PASSWORD_PROTECTED, ENCRYPTED)
        if any(info.filename.lower().startswith(_ODF_MACRO_FOLDERS) for info in infos):
            refuse(RejectionCode.MACROS, MACROS)
        for info in infos:
            if info.filename.lower().endswith(".xml") and _odf_part_calls_scripts(archive, info):
                refuse(RejectionCode.MACROS, MACROS)


def _odf_part_calls_scripts(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """True when an XML part binds an event, field or link to a macro (parsed, so character
    references count)."""
    try:
        with archive.open(info) as handle:
            for _event, element in DefusedET.iterparse(handle, events=("start",)):
                if element.tag in _ODF_MACRO_ELEMENTS:
                    return True
                for name, value in element.attrib.items():
                    link = name.endswith(_ODF_LINK_ATTRIBUTES)
                    if link and value.strip().lower().startswith(_ODF_SCRIPT_URLS):
                        return True
    except (DefusedXmlException, DefusedET.ParseError, ValueError):
        refuse(RejectionCode.DAMAGED, DAMAGED)
    return False


# --- OLE compound files (.doc, .xls; also encrypted OOXML) --------------------------------

_OLE_KINDS: tuple[tuple[frozenset[str], str, EvidenceType | None], ...] = (
    (frozenset({"worddocument"}), "it is a Word 97-2003 document (.doc)", EvidenceType.DOC),
    (
        frozenset({"workbook", "book"}),
        "it is an Excel 97-2003 workbook (.xls)",
        EvidenceType.XLS,
    ),
    (
        frozenset({"powerpoint document"}),
        "it is a PowerPoint 97-2003 presentation (.ppt)",
        None,
    ),
)
_OLE_MACRO_STORAGES = ("macros", "_vba_project_cur", "_vba_project")


def is_encrypted_ooxml(data: bytes) -> bool:
    """True for an OLE file wrapping an encrypted OOXML package (how Office encrypts .docx)."""
    if not olefile.isOleFile(data=data):
        return False
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return bool(ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"))
    except (OSError, ValueError, struct.error, IndexError, TypeError):
        return False


def check_ole(data: bytes, expected: EvidenceType) -> None:
    """Check a .doc or .xls file.

    Raises :class:`EvidenceRejected`: ``PASSWORD_PROTECTED`` (encrypted OOXML inside OLE, or
    msoffcrypto-tool finds encryption), ``CONTENT_MISMATCH`` (another OLE document),
    ``MACROS`` (VBA storages, or oletools finds VBA or Excel 4 macros), ``DAMAGED``.
    """
    if is_encrypted_ooxml(data):
        refuse(RejectionCode.PASSWORD_PROTECTED, ENCRYPTED)
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            paths = ["/".join(parts).lower() for parts in ole.listdir(streams=True, storages=True)]
    except Exception:  # olefile raises many types on hostile input
        log.info("evidence: unreadable OLE file", exc_info=True)
        refuse(RejectionCode.DAMAGED, DAMAGED)
    top = {path.split("/", 1)[0] for path in paths}
    for markers, what, kind in _OLE_KINDS:
        if top & markers:
            if kind is not expected:
                mismatch(expected, what, kind)
            break
    else:
        mismatch(expected, f"it is not {expected.description}")
    try:
        encrypted = msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted()
    except Exception:  # msoffcrypto-tool raises its own and struct/index errors on bad input
        log.info("evidence: msoffcrypto could not read the file", exc_info=True)
        refuse(RejectionCode.DAMAGED, DAMAGED)
    if encrypted:
        refuse(RejectionCode.PASSWORD_PROTECTED, ENCRYPTED)
    if top & set(_OLE_MACRO_STORAGES):
        refuse(RejectionCode.MACROS, MACROS)
    _refuse_vba(data)


def _refuse_vba(data: bytes) -> None:
    """Refuse VBA or Excel 4 (XLM) macros found by oletools; unreadable files are damaged."""
    try:
        parser = olevba.VBA_Parser("evidence", data=data)
    except Exception:  # olevba.FileOpenError and parser errors on hostile input
        log.info("evidence: olevba could not open the file", exc_info=True)
        refuse(RejectionCode.DAMAGED, DAMAGED)
    try:
        found = parser.detect_macros()
    except Exception:
        log.info("evidence: olevba failed while looking for macros", exc_info=True)
        refuse(RejectionCode.DAMAGED, DAMAGED)
    finally:
        parser.close()
    if found:
        refuse(RejectionCode.MACROS, MACROS)

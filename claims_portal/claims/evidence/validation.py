"""Deciding whether an uploaded file is acceptable evidence, from its content.

The pipeline runs on the whole file (at most 5 MB, held in memory):

1. size: empty files and files over the limit are refused;
2. the extension (of the base name, case-insensitive) must be an accepted type, and the name
   must not hold an NHS number (it is shown to everyone who can see the claim);
3. libmagic, on the whole file, must report a MIME type expected for that extension;
4. the container is opened and checked (``containers.py``, ``pdf.py``): no macros, no
   passwords, no zip bombs, no scripts in PDFs, and the content is really the kind of
   document it is named;
5. the virus scanner (``VIRUS_SCANNER``: ``scanning.py``) gives its verdict.

Each refusal raises :class:`EvidenceRejected` with a reason written for practice staff; an
infected file raises its subclass :class:`EvidenceInfected`, which carries the file so that
it can be kept in quarantine.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

import magic

from claims_portal.claims.evidence.containers import (
    ENCRYPTED,
    ContainerLimits,
    check_odf,
    check_ole,
    check_ooxml,
    mismatch,
    refuse,
)
from claims_portal.claims.evidence.errors import EvidenceRejected, RejectionCode
from claims_portal.claims.evidence.filetypes import (
    ALLOWED_TYPES_MESSAGE,
    EXCEL_OOXML,
    ODF_SPREADSHEET,
    ODF_TEXT,
    WORD_OOXML,
    EvidenceType,
)
from claims_portal.claims.evidence.pdf import check_pdf
from claims_portal.claims.evidence.scanning import NoVirusScanner, ScanResult, VirusScanner
from claims_portal.pii import find_nhs_numbers

log = logging.getLogger(__name__)

MIB = 1024 * 1024
#: Evidence files are at most 5 MB (``EVIDENCE_MAX_BYTES``).
DEFAULT_MAX_BYTES = 5 * MIB
EMPTY_MESSAGE = "The file is empty"
PATIENT_DATA_IN_NAME_MESSAGE = (
    "The file name must not include patient details such as an NHS number. Rename the file "
    "and upload it again"
)
VIRUS_MESSAGE = "Our virus check found a problem with this file, so it cannot be accepted"

_OLE = frozenset({"application/x-ole-storage", "application/cdfv2", "application/vnd.ms-office"})
_ZIP = frozenset({"application/zip"})

#: What libmagic 5.44 reports for real files of each type (checked on this machine: see
#: docs/evidence.md). Generic zip and OLE answers are accepted and settled by the container.
EXPECTED_MIME_TYPES: dict[EvidenceType, frozenset[str]] = {
    EvidenceType.DOC: _OLE | {"application/msword"},
    EvidenceType.XLS: _OLE | {"application/vnd.ms-excel"},
    EvidenceType.DOCX: _ZIP | {WORD_OOXML},
    EvidenceType.XLSX: _ZIP | {EXCEL_OOXML},
    EvidenceType.ODT: _ZIP | {ODF_TEXT},
    EvidenceType.ODS: _ZIP | {ODF_SPREADSHEET},
    EvidenceType.PDF: frozenset({"application/pdf"}),
}

#: libmagic's answer for each accepted type, to say "it is an Excel workbook (.xlsx)".
_MIME_TO_TYPE = {
    "application/msword": EvidenceType.DOC,
    "application/vnd.ms-excel": EvidenceType.XLS,
    WORD_OOXML: EvidenceType.DOCX,
    EXCEL_OOXML: EvidenceType.XLSX,
    ODF_TEXT: EvidenceType.ODT,
    ODF_SPREADSHEET: EvidenceType.ODS,
    "application/pdf": EvidenceType.PDF,
}

_PROGRAM = "it is a program"
_WINDOWS_PROGRAM = "it is a Windows program"
_SCRIPT = "it is a script"
_ARCHIVE = "it is a compressed archive"
#: How to describe other content, by libmagic MIME type.
_WHAT_IT_IS = {
    "text/html": "its content is HTML",
    "application/xhtml+xml": "its content is HTML",
    "application/x-dosexec": _WINDOWS_PROGRAM,
    "application/vnd.microsoft.portable-executable": _WINDOWS_PROGRAM,
    "application/x-msdownload": _WINDOWS_PROGRAM,
    "application/x-ms-installer": "it is a Windows installer",
    "application/x-msi": "it is a Windows installer",
    "application/x-executable": _PROGRAM,
    "application/x-sharedlib": _PROGRAM,
    "application/x-pie-executable": _PROGRAM,
    "application/x-mach-binary": _PROGRAM,
    "application/x-object": _PROGRAM,
    "application/java-archive": _PROGRAM,
    "application/x-java-applet": _PROGRAM,
    "text/x-shellscript": _SCRIPT,
    "application/x-sh": _SCRIPT,
    "text/x-python": _SCRIPT,
    "text/x-script.python": _SCRIPT,
    "text/x-perl": _SCRIPT,
    "text/x-php": _SCRIPT,
    "text/x-msdos-batch": _SCRIPT,
    "application/javascript": _SCRIPT,
    "text/javascript": _SCRIPT,
    "text/plain": "it is a plain text file",
    "text/csv": "it is a CSV file",
    "text/rtf": "it is a Rich Text Format (.rtf) file",
    "text/xml": "it is an XML file",
    "application/xml": "it is an XML file",
    "image/svg+xml": "it is an SVG image",
    "application/zip": _ARCHIVE,
    "application/x-7z-compressed": _ARCHIVE,
    "application/x-rar": _ARCHIVE,
    "application/vnd.rar": _ARCHIVE,
    "application/gzip": _ARCHIVE,
    "application/x-bzip2": _ARCHIVE,
    "application/x-xz": _ARCHIVE,
    "application/x-tar": _ARCHIVE,
    "application/vnd.ms-powerpoint": "it is a PowerPoint presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "it is a PowerPoint presentation"
    ),
    "application/vnd.oasis.opendocument.presentation": "it is an OpenDocument presentation",
    "application/x-ole-storage": "it is an Office file of another kind",
    "application/cdfv2": "it is an Office file of another kind",
    "application/vnd.ms-outlook": "it is an Outlook message",
    "message/rfc822": "it is an email message",
}
_WHAT_IT_IS_BY_FAMILY = {
    "image/": "it is an image",
    "audio/": "it is a sound file",
    "video/": "it is a video",
    "font/": "it is a font",
}


class SupportsRead(Protocol):
    """A binary stream (a file, ``io.BytesIO``, werkzeug's ``FileStorage``)."""

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class InspectedEvidence:
    """A file that passed every check, ready to store.

    ``content_type`` is the canonical type to store and serve it with (never the browser's
    claim); ``filename`` is the sanitised base name the user gave, for the database and the
    download's ``Content-Disposition`` (never for the storage key).
    """

    type: EvidenceType
    content_type: str
    size: int
    sha256: str
    filename: str
    scan: ScanResult
    data: bytes = field(repr=False, compare=False)


class EvidenceInfected(EvidenceRejected):
    """The virus scanner found something (``code`` ``VIRUS``): refused, and ``evidence``
    (what was found out, the bytes, and the verdict with its signature) is kept so that the
    file can go to quarantine rather than be thrown away."""

    def __init__(self, evidence: InspectedEvidence) -> None:
        super().__init__(RejectionCode.VIRUS, VIRUS_MESSAGE)
        self.evidence = evidence


def too_large_message(max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """ "The selected file must be smaller than 5MB" (the NHS design system's words, for
    this limit)."""
    if max_bytes % MIB == 0:
        return f"The selected file must be smaller than {max_bytes // MIB}MB"
    return f"The selected file must be smaller than {max_bytes:,} bytes"


_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')


def safe_filename(name: str, *, default: str = "evidence") -> str:
    """The base name of an uploaded file, fit to store and to offer back on download.

    Drops any folder part (``C:\\Users\\x\\a.pdf`` and ``../../a.pdf`` become ``a.pdf``),
    control and bidirectional-formatting characters (``U+202E`` can disguise an extension),
    characters Windows refuses in names, and surrounding spaces and dots; keeps the
    extension when shortening to 200 characters. Never raises; ``default`` when nothing
    usable is left.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co"})
    name = _UNSAFE_CHARACTERS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: 199 - len(extension)].rstrip(" .") + "." + extension
        else:
            name = name[:200].rstrip(" .")
    return name or default


#: Characters file names use between words, read as spaces when looking for NHS numbers
#: ("patient_943_476_5919.pdf", "943.476.5919.pdf").
_NAME_SEPARATORS = re.compile(r"[_.+,;()\[\]{}]")


def refuse_patient_data_in_name(filename: str) -> None:
    """Refuse a file name holding an NHS number (the check typed text gets,
    ``claims_portal.pii``).

    Raises :class:`EvidenceRejected` (``PATIENT_DATA``).
    """
    if find_nhs_numbers(_NAME_SEPARATORS.sub(" ", safe_filename(filename, default=""))):
        refuse(RejectionCode.PATIENT_DATA, PATIENT_DATA_IN_NAME_MESSAGE)


def evidence_type_for(filename: str) -> EvidenceType:
    """The accepted type named by a file's extension.

    Raises :class:`EvidenceRejected` (``TYPE_NOT_ALLOWED``) for any other extension.
    """
    base = safe_filename(filename, default="")
    _stem, dot, extension = base.rpartition(".")
    try:
        if not dot:
            raise ValueError(base)
        return EvidenceType(extension.lower())
    except ValueError:
        refuse(RejectionCode.TYPE_NOT_ALLOWED, ALLOWED_TYPES_MESSAGE)


def read_upload(stream: SupportsRead, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read an upload into memory, stopping at ``max_bytes + 1``.

    Raises :class:`EvidenceRejected` (``TOO_LARGE``) as soon as the stream passes the limit,
    without reading the rest.
    """
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(64 * 1024, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            refuse(RejectionCode.TOO_LARGE, too_large_message(max_bytes))
    return b"".join(chunks)


def detect_mime_type(data: bytes) -> str:
    """libmagic's MIME type for the whole file, in lower case (``application/octet-stream``
    when libmagic gives no answer)."""
    try:
        return str(magic.from_buffer(data, mime=True)).lower()
    except magic.MagicException:
        log.warning("evidence: libmagic could not classify an upload", exc_info=True)
        return "application/octet-stream"


def _describe(mime: str, expected: EvidenceType) -> str:
    if mime in _WHAT_IT_IS:
        return _WHAT_IT_IS[mime]
    for family, what in _WHAT_IT_IS_BY_FAMILY.items():
        if mime.startswith(family):
            return what
    return f"its content is not {expected.description}"


def inspect_evidence(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: ContainerLimits | None = None,
    scanner: VirusScanner | None = None,
) -> InspectedEvidence:
    """Check a whole uploaded file and say what it is.

    Raises :class:`EvidenceRejected` with a plain reason and a :class:`RejectionCode`:
    ``EMPTY``, ``TOO_LARGE``, ``TYPE_NOT_ALLOWED``, ``CONTENT_MISMATCH`` ("This file is named
    .pdf but its content is HTML"), ``DAMAGED``, ``MACROS``, ``ACTIVE_CONTENT``,
    ``PASSWORD_PROTECTED``, ``ZIP_BOMB``, ``VIRUS`` (:class:`EvidenceInfected`, holding the
    file) or ``PATIENT_DATA`` (an NHS number in the file name). Raises
    :class:`~claims_portal.claims.evidence.scanning.VirusScanUnavailable` when the scanner
    cannot give a verdict.
    """
    if not data:
        refuse(RejectionCode.EMPTY, EMPTY_MESSAGE)
    if len(data) > max_bytes:
        refuse(RejectionCode.TOO_LARGE, too_large_message(max_bytes))
    name = safe_filename(filename)
    expected = evidence_type_for(filename)
    refuse_patient_data_in_name(filename)

    mime = detect_mime_type(data)
    if mime == "application/encrypted":
        # libmagic's "CDFV2 Encrypted": an encrypted Office file (OOXML inside OLE).
        refuse(RejectionCode.PASSWORD_PROTECTED, ENCRYPTED)
    if mime not in EXPECTED_MIME_TYPES[expected]:
        actual = _MIME_TO_TYPE.get(mime)
        what = f"it is {actual.description}" if actual else _describe(mime, expected)
        mismatch(expected, what, actual)

    limits = limits or ContainerLimits()
    if expected.container == "ole":
        check_ole(data, expected)
    elif expected.container == "ooxml":
        check_ooxml(data, expected, limits)
    elif expected.container == "odf":
        check_odf(data, expected, limits)
    else:
        check_pdf(data, limits)

    verdict = (scanner or NoVirusScanner()).scan(data, filename=name)
    inspected = InspectedEvidence(
        type=expected,
        content_type=expected.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        filename=name,
        scan=verdict,
        data=data,
    )
    if verdict.infected:
        log.warning("evidence: virus scanner %s found %s", verdict.scanner, verdict.signature)
        raise EvidenceInfected(inspected)
    return inspected


def inspect_upload(
    stream: SupportsRead,
    filename: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: ContainerLimits | None = None,
    scanner: VirusScanner | None = None,
) -> InspectedEvidence:
    """Read an upload (stopping past the limit) and inspect it: see :func:`inspect_evidence`.

    Raises :class:`EvidenceRejected` (``TOO_LARGE`` without reading the rest of a large
    stream, or any reason of :func:`inspect_evidence`).
    """
    data = read_upload(stream, max_bytes=max_bytes)
    return inspect_evidence(data, filename, max_bytes=max_bytes, limits=limits, scanner=scanner)


__all__ = [
    "DEFAULT_MAX_BYTES",
    "EXPECTED_MIME_TYPES",
    "EvidenceInfected",
    "EvidenceRejected",
    "InspectedEvidence",
    "detect_mime_type",
    "evidence_type_for",
    "inspect_evidence",
    "inspect_upload",
    "read_upload",
    "refuse_patient_data_in_name",
    "safe_filename",
    "too_large_message",
]

"""Checks inside a PDF: no scripts, launch or remote actions, attachments or encryption.

PDF syntax is scanned outside streams, and inside compressed object streams (decoded within
the container limits), for names a reader would act on (``containers.py`` has the rest).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from claims_portal.claims.evidence.containers import (
    DAMAGED,
    ENCRYPTED,
    ZIP_BOMB,
    ContainerLimits,
    refuse,
)
from claims_portal.claims.evidence.errors import RejectionCode

#: Names that make a PDF run code, start programs or carry other files: refused.
_PDF_ACTIVE_NAMES: dict[str, str] = {
    "JavaScript": "This PDF contains JavaScript",
    "JS": "This PDF contains JavaScript",
    "Launch": "This PDF can start other programs",
    # Actions that reach outside the document: open another file, send the form's contents
    # to an address, read form data from another file.
    "GoToR": "This PDF has links that open other files",
    "GoToE": "This PDF has links that open other files",
    "SubmitForm": "This PDF has a form that sends what is typed in it to another place",
    "ImportData": "This PDF has a form that reads data from another file",
    "EmbeddedFile": "This PDF has other files attached inside it",
    "EmbeddedFiles": "This PDF has other files attached inside it",
    "RichMedia": "This PDF contains embedded media that can run code",
    "XFA": "This PDF contains an XFA form, which can run code",
}
_PDF_ACTIVE_ADVICE = ". Print it to a new PDF (or export it without these) and upload that instead"
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_PDF_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_PDF_OBJECT_START = re.compile(rb"\d+\s+\d+\s+obj\b")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_DIRECT_LENGTH = re.compile(rb"/Length\s+(\d+)(?![\d\s]*R)")


def _pdf_names(chunk: bytes) -> list[str]:
    """The names in a stretch of PDF syntax, with ``#xx`` escapes decoded (/J#53 is /JS)."""
    return [
        _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")
        for raw in _PDF_NAME.findall(chunk)
    ]


def _split_pdf(data: bytes) -> tuple[list[bytes], list[tuple[bytes, bytes]]]:
    """Split a PDF into syntax outside streams and (dictionary, body) for each stream."""
    outside: list[bytes] = []
    streams: list[tuple[bytes, bytes]] = []
    position = 0
    for match in _PDF_STREAM.finditer(data):
        if match.start() < position:
            continue  # the word "stream" inside a stream body already consumed
        before = data[position : match.start()]
        if before.endswith(b"end"):
            continue  # "endstream"
        objects = list(_PDF_OBJECT_START.finditer(before))
        dictionary = before[objects[-1].end() :] if objects else before
        end = _stream_end(data, match.end(), dictionary)
        outside.append(before)
        streams.append((dictionary, data[match.end() : end]))
        position = end + len(b"endstream")
    outside.append(data[position:])
    return outside, streams


def _stream_end(data: bytes, start: int, dictionary: bytes) -> int:
    """Where a stream body ends: its direct ``/Length`` when that lands on ``endstream``,
    else the first ``endstream`` (a body that contains the word is then scanned as syntax,
    which errs on the side of refusing)."""
    length = _PDF_DIRECT_LENGTH.search(dictionary)
    if length:
        end = start + int(length.group(1))
        if data[end : end + 32].lstrip().startswith(b"endstream"):
            return end
    end = data.find(b"endstream", start)
    if end == -1:
        refuse(RejectionCode.DAMAGED, DAMAGED)
    return end


def _decode_stream(body: bytes, filters: list[str], budget: int) -> bytes:
    """Decode an object stream's filters (Flate, ASCIIHex, ASCII85), capped at ``budget``."""
    for name in filters:
        if name in {"FlateDecode", "Fl"}:
            decompressor = zlib.decompressobj()
            body = decompressor.decompress(body, budget + 1)
        elif name in {"ASCIIHexDecode", "AHx"}:
            text = re.sub(rb"\s", b"", body.split(b">", 1)[0])
            body = binascii.unhexlify(text + b"0" * (len(text) % 2))
        elif name in {"ASCII85Decode", "A85"}:
            body = base64.a85decode(body.strip().removesuffix(b"~>").removeprefix(b"<~"))
        else:
            # An object stream we cannot decode could hide anything: refuse, do not skip.
            refuse(RejectionCode.DAMAGED, DAMAGED)
        if len(body) > budget:
            refuse(RejectionCode.ZIP_BOMB, ZIP_BOMB)
    return body


def check_pdf(data: bytes, limits: ContainerLimits) -> None:
    """Check a PDF.

    Raises :class:`EvidenceRejected`: ``DAMAGED`` (no ``%PDF-`` at the start, no ``%%EOF``
    in the last 1,024 bytes, an object stream that cannot be decoded), ``PASSWORD_PROTECTED``
    (``/Encrypt``), ``ACTIVE_CONTENT`` (JavaScript; launch, remote go-to, submit-form and
    import-data actions; embedded files, rich media, XFA forms), ``ZIP_BOMB`` (object
    streams decoding past the limit). Names inside compressed object streams are checked
    too; ``/OpenAction`` alone is allowed.
    """
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        refuse(RejectionCode.DAMAGED, DAMAGED)
    outside, streams = _split_pdf(data)
    names = [name for chunk in outside for name in _pdf_names(chunk)]
    if "Encrypt" in names:
        refuse(RejectionCode.PASSWORD_PROTECTED, ENCRYPTED)
    budget = limits.max_unpacked_bytes
    for dictionary, body in streams:
        dictionary_names = _pdf_names(dictionary)
        if "ObjStm" not in dictionary_names:
            continue  # page content, images, fonts: no dictionaries a reader would act on
        if "Predictor" in dictionary_names:
            # Predictors reshuffle the decoded bytes; producers do not use them for object
            # streams, and names split by them could not be checked.
            refuse(RejectionCode.DAMAGED, DAMAGED)
        filters = [n for n in dictionary_names if n.endswith("Decode") or n in {"Fl", "AHx", "A85"}]
        try:
            decoded = _decode_stream(body, filters, budget)
        except (zlib.error, binascii.Error, ValueError):
            refuse(RejectionCode.DAMAGED, DAMAGED)
        budget -= len(decoded)
        names.extend(_pdf_names(decoded))
    for name in names:
        if name in _PDF_ACTIVE_NAMES:
            refuse(RejectionCode.ACTIVE_CONTENT, _PDF_ACTIVE_NAMES[name] + _PDF_ACTIVE_ADVICE)

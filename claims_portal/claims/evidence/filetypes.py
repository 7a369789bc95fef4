"""The file types accepted as evidence, and how each is described to people."""

from __future__ import annotations

from enum import StrEnum

WORD_OOXML = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXCEL_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODF_TEXT = "application/vnd.oasis.opendocument.text"
ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"


class EvidenceType(StrEnum):
    """An accepted evidence type; the value is the file extension (lower case, no dot)."""

    DOC = "doc"
    DOCX = "docx"
    XLS = "xls"
    XLSX = "xlsx"
    ODT = "odt"
    ODS = "ods"
    PDF = "pdf"

    @property
    def content_type(self) -> str:
        """The canonical MIME type to store and serve the file with."""
        return _CONTENT_TYPES[self]

    @property
    def description(self) -> str:
        """What people call it: "a Word document (.docx)"."""
        return _DESCRIPTIONS[self]

    @property
    def container(self) -> str:
        """How the file is built: ``ooxml``, ``odf``, ``ole`` or ``pdf``."""
        return _CONTAINERS[self]


_CONTENT_TYPES = {
    EvidenceType.DOC: "application/msword",
    EvidenceType.DOCX: WORD_OOXML,
    EvidenceType.XLS: "application/vnd.ms-excel",
    EvidenceType.XLSX: EXCEL_OOXML,
    EvidenceType.ODT: ODF_TEXT,
    EvidenceType.ODS: ODF_SPREADSHEET,
    EvidenceType.PDF: "application/pdf",
}

_DESCRIPTIONS = {
    EvidenceType.DOC: "a Word 97-2003 document (.doc)",
    EvidenceType.DOCX: "a Word document (.docx)",
    EvidenceType.XLS: "an Excel 97-2003 workbook (.xls)",
    EvidenceType.XLSX: "an Excel workbook (.xlsx)",
    EvidenceType.ODT: "an OpenDocument text document (.odt)",
    EvidenceType.ODS: "an OpenDocument spreadsheet (.ods)",
    EvidenceType.PDF: "a PDF (.pdf)",
}

_CONTAINERS = {
    EvidenceType.DOC: "ole",
    EvidenceType.XLS: "ole",
    EvidenceType.DOCX: "ooxml",
    EvidenceType.XLSX: "ooxml",
    EvidenceType.ODT: "odf",
    EvidenceType.ODS: "odf",
    EvidenceType.PDF: "pdf",
}

#: Shown when the extension is not one of the accepted types.
ALLOWED_TYPES_MESSAGE = "Upload a Word, Excel, OpenDocument or PDF file"

"""The upload checks end to end: real files accepted, hostile ones refused with their reason."""

from __future__ import annotations

import hashlib
import io

import pytest

from claims_portal.claims.evidence import (
    ALLOWED_TYPES_MESSAGE,
    EvidenceRejected,
    EvidenceType,
    RejectionCode,
    inspect_evidence,
    inspect_upload,
    read_upload,
    safe_filename,
    too_large_message,
)
from claims_portal.claims.evidence.validation import EXPECTED_MIME_TYPES, detect_mime_type
from tests.claims.evidence import samples

FIVE_MB = 5 * 1024 * 1024


def refused(data: bytes, filename: str) -> EvidenceRejected:
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(data, filename)
    return caught.value


# --- Real files of every allowed type are accepted -----------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "report.docx",
        "figures.xlsx",
        "report.odt",
        "figures.ods",
        "scan.pdf",
        "libreoffice.doc",
        "libreoffice.xls",
        "libreoffice.docx",
        "libreoffice.xlsx",
        "libreoffice.odt",
        "libreoffice.ods",
        "libreoffice.pdf",
    ],
)
def test_real_files_of_every_allowed_type_are_accepted(real_files, filename):
    data = real_files[filename]

    result = inspect_evidence(data, filename)

    expected = EvidenceType(filename.rsplit(".", 1)[1])
    assert result.type is expected
    assert result.content_type == expected.content_type
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.filename == filename
    assert result.data == data
    assert result.scan.scanned is False  # no engine here: the result says so


def test_every_allowed_type_is_covered_by_the_real_files(real_files):
    assert {EvidenceType(name.rsplit(".", 1)[1]) for name in real_files} == set(EvidenceType)


def test_libmagic_answers_for_real_files_are_the_documented_ones(real_files):
    # docs/evidence.md lists these answers of libmagic 5.44; a libmagic upgrade that changes
    # them shows up here first.
    answers = {name: detect_mime_type(data) for name, data in real_files.items()}
    for name, mime in answers.items():
        assert mime in EXPECTED_MIME_TYPES[EvidenceType(name.rsplit(".", 1)[1])], (name, mime)
    assert answers["libreoffice.doc"] == "application/msword"
    assert answers["libreoffice.xls"] == "application/vnd.ms-excel"
    assert answers["report.docx"] == EvidenceType.DOCX.content_type
    assert answers["scan.pdf"] == "application/pdf"


def test_extension_case_does_not_matter_and_the_name_is_kept(real_files):
    result = inspect_evidence(real_files["scan.pdf"], "Practice Report MARCH.PDF")
    assert result.type is EvidenceType.PDF
    assert result.filename == "Practice Report MARCH.PDF"


def test_a_name_with_folders_is_reduced_to_its_base_name(real_files):
    result = inspect_evidence(real_files["report.docx"], "C:\\Users\\pm\\..\\claims\\march.docx")
    assert result.filename == "march.docx"
    result = inspect_evidence(real_files["report.docx"], "../../etc/march.docx")
    assert result.filename == "march.docx"


@pytest.mark.parametrize(
    "filename",
    [
        "patient 943 476 5919.pdf",
        "patient_943_476_5919.pdf",
        "9434765919.pdf",
        "Letter 943-476-5919 (March).pdf",
        "referral.943.476.5919.pdf",
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19.pdf",  # full-width
        "C:\\Users\\pm\\patient 943 476 5919.pdf",
    ],
)
def test_a_file_name_with_an_nhs_number_is_refused_and_says_why(real_files, filename):
    rejection = refused(real_files["scan.pdf"], filename)
    assert rejection.code is RejectionCode.PATIENT_DATA
    assert rejection.reason == (
        "The file name must not include patient details such as an NHS number. Rename the "
        "file and upload it again"
    )


@pytest.mark.parametrize(
    "filename",
    [
        "claims 2026-27 Q1.pdf",
        "invoice 1234567890.pdf",  # ten digits, not a valid NHS number
        "batch 943 476 5918.pdf",  # wrong check digit
        "ref 19434765919.pdf",  # part of a longer number
        "01632 960 123 practice phone.pdf",
    ],
)
def test_file_names_with_other_numbers_are_accepted(real_files, filename):
    assert inspect_evidence(real_files["scan.pdf"], filename).filename == filename


def test_inspect_upload_reads_a_stream(real_files):
    result = inspect_upload(io.BytesIO(real_files["figures.xlsx"]), "figures.xlsx")
    assert result.type is EvidenceType.XLSX


# --- The refusals the issue names ----------------------------------------------------------


@pytest.mark.parametrize("filename", ["claim.docx", "claim.pdf", "claim.xls"])
def test_a_renamed_windows_program_is_refused(filename):
    rejection = refused(samples.WINDOWS_PROGRAM, filename)
    assert rejection.code is RejectionCode.CONTENT_MISMATCH
    ext = filename.rsplit(".", 1)[1]
    assert rejection.reason == f"This file is named .{ext} but it is a Windows program"


def test_a_renamed_linux_program_is_refused():
    rejection = refused(samples.linux_program(), "claim.docx")
    assert rejection.code is RejectionCode.CONTENT_MISMATCH
    assert rejection.reason == "This file is named .docx but it is a program"


def test_html_named_pdf_is_refused():
    rejection = refused(samples.HTML, "invoice.pdf")
    assert rejection.code is RejectionCode.CONTENT_MISMATCH
    assert rejection.reason == "This file is named .pdf but its content is HTML"


@pytest.mark.parametrize(
    ("fixture", "name"),
    [("macros.docm", "claim.docx"), ("macros.xlsm", "claim.xlsx"), ("macros.xls", "claim.xls")],
)
def test_a_macro_enabled_document_is_refused(fixture, name):
    rejection = refused(samples.fixture(fixture), name)
    assert rejection.code is RejectionCode.MACROS
    assert rejection.reason.startswith("This file contains macros")


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("encrypted.docx", "claim.docx"),
        ("encrypted.xlsx", "claim.xlsx"),
        ("encrypted.xls", "claim.xls"),
        ("encrypted.odt", "claim.odt"),
        ("encrypted.ods", "claim.ods"),
    ],
)
def test_an_encrypted_file_is_refused(fixture, name):
    rejection = refused(samples.fixture(fixture), name)
    assert rejection.code is RejectionCode.PASSWORD_PROTECTED
    assert rejection.reason.startswith("This file is password protected")


def test_a_docx_encrypted_by_msoffcrypto_is_refused(real_files):
    encrypted = samples.encrypted_ooxml(real_files["report.docx"])
    rejection = refused(encrypted, "report.docx")
    assert rejection.code is RejectionCode.PASSWORD_PROTECTED


def test_an_encrypted_pdf_is_refused():
    rejection = refused(samples.pdf(encrypt="fixture-pass"), "scan.pdf")
    assert rejection.code is RejectionCode.PASSWORD_PROTECTED


def test_a_zip_bomb_is_refused(zip_bomb):
    assert len(zip_bomb) < FIVE_MB
    rejection = refused(zip_bomb, "report.docx")
    assert rejection.code is RejectionCode.ZIP_BOMB
    assert "unpacks to far more data" in rejection.reason


def test_an_overlapping_entries_zip_bomb_is_refused():
    rejection = refused(samples.overlapping_zip_bomb(), "report.docx")
    assert rejection.code is RejectionCode.ZIP_BOMB


def test_a_file_of_5_mb_and_one_byte_is_refused_with_the_size_message():
    rejection = refused(b"%PDF-1.7\n" + b"0" * (FIVE_MB + 1 - 9), "big.pdf")
    assert rejection.code is RejectionCode.TOO_LARGE
    assert rejection.reason == "The selected file must be smaller than 5MB"


def test_a_stream_over_the_limit_is_refused_without_reading_the_rest():
    class Endless(io.RawIOBase):
        read_so_far = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            buffer[:] = b"x" * len(buffer)
            self.read_so_far += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(EvidenceRejected) as caught:
        inspect_upload(stream, "big.pdf")
    assert caught.value.reason == "The selected file must be smaller than 5MB"
    assert stream.read_so_far == FIVE_MB + 1


def test_a_file_of_exactly_5_mb_passes_the_size_check():
    assert len(read_upload(io.BytesIO(b"x" * FIVE_MB))) == FIVE_MB


def test_the_size_message_follows_the_limit():
    assert too_large_message(FIVE_MB) == "The selected file must be smaller than 5MB"
    assert too_large_message(10 * 1024 * 1024) == "The selected file must be smaller than 10MB"
    assert too_large_message(1000) == "The selected file must be smaller than 1,000 bytes"
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(b"x" * 1001, "a.pdf", max_bytes=1000)
    assert caught.value.reason == "The selected file must be smaller than 1,000 bytes"


def test_an_empty_file_is_refused():
    rejection = refused(b"", "empty.pdf")
    assert rejection.code is RejectionCode.EMPTY
    assert rejection.reason == "The file is empty"


# --- Extensions and content that do not match ----------------------------------------------


@pytest.mark.parametrize(
    "filename",
    ["claim.exe", "claim.html", "claim.docm", "claim.xlsm", "claim", "claim.", "claim.pdf.zip", ""],
)
def test_other_extensions_are_refused_with_the_allowed_list(real_files, filename):
    rejection = refused(real_files["scan.pdf"], filename)
    assert rejection.code is RejectionCode.TYPE_NOT_ALLOWED
    assert (
        rejection.reason
        == ALLOWED_TYPES_MESSAGE
        == ("Upload a Word, Excel, OpenDocument or PDF file")
    )


def test_an_excel_workbook_renamed_docx_is_refused(real_files):
    rejection = refused(real_files["figures.xlsx"], "report.docx")
    assert rejection.code is RejectionCode.CONTENT_MISMATCH
    assert rejection.reason == (
        "This file is named .docx but it is an Excel workbook (.xlsx). "
        "Rename it to end in .xlsx and upload it again"
    )


@pytest.mark.parametrize(
    ("source", "name", "what"),
    [
        ("libreoffice.doc", "a.docx", "it is a Word 97-2003 document (.doc)"),
        ("libreoffice.xls", "a.doc", "it is an Excel 97-2003 workbook (.xls)"),
        ("report.odt", "a.docx", "it is an OpenDocument text document (.odt)"),
        ("figures.ods", "a.odt", "it is an OpenDocument spreadsheet (.ods)"),
        ("scan.pdf", "a.docx", "it is a PDF (.pdf)"),
        ("report.docx", "a.pdf", "it is a Word document (.docx)"),
    ],
)
def test_an_allowed_type_under_another_allowed_name_says_what_it_is(real_files, source, name, what):
    rejection = refused(real_files[source], name)
    assert rejection.code is RejectionCode.CONTENT_MISMATCH
    assert rejection.reason.startswith(f"This file is named .{name.rsplit('.', 1)[1]} but {what}")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"Just some notes about the claim.\n", "it is a plain text file"),
        (b"{\\rtf1\\ansi Claim}", "it is a Rich Text Format (.rtf) file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 17, "it is an image"),
        (samples.zip_of({"notes.txt": b"hello"}), "it is a compressed archive"),
        (b"#!/bin/sh\nrm -rf /\n", "it is a script"),
    ],
)
def test_other_content_named_pdf_is_described(content, what):
    rejection = refused(content, "claim.pdf")
    assert rejection.code is RejectionCode.CONTENT_MISMATCH
    assert rejection.reason == f"This file is named .pdf but {what}"


def test_unknown_content_says_it_is_not_the_named_type():
    noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))
    rejection = refused(noise, "claim.xlsx")
    assert rejection.reason == (
        "This file is named .xlsx but its content is not an Excel workbook (.xlsx)"
    )


# --- File names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\fakepath\\report.pdf", "report.pdf"),
        ("/etc/passwd/../report.pdf", "report.pdf"),
        ("  Practice   report .pdf  ", "Practice report .pdf"),
        ("evil\u202efdp.exe", "evilfdp.exe"),
        ('a"b<c>d|e?.pdf', "a_b_c_d_e_.pdf"),
        ("line\r\nbreak.pdf", "linebreak.pdf"),
        ("...", "evidence"),
        ("", "evidence"),
        ("Zoë\u2019s claim.pdf", "Zoë\u2019s claim.pdf"),
        ("x" * 300 + ".docx", "x" * 195 + ".docx"),
    ],
)
def test_safe_filename(given, kept):
    assert safe_filename(given) == kept
    assert len(safe_filename(given)) <= 200

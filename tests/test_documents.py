"""The PDFs' shared stylesheet: each document gets its own page size and footer name over the
margins, type and page numbers every document shares (claims_portal/documents.py)."""

from __future__ import annotations

import pytest

from claims_portal import documents
from claims_portal.national.services import summary_files
from claims_portal.payments import statements


def _margin_texts(box, found):
    # WeasyPrint's laid-out boxes (``_page_box``: the only way to read a margin box's text).
    if type(box).__name__ == "MarginBox":
        found[box.at_keyword] = "".join(
            getattr(child, "text", "") for line in box.children for child in line.children
        )
    for child in getattr(box, "children", []):
        _margin_texts(child, found)
    return found


@pytest.mark.parametrize(
    ("templates", "stylesheet", "name", "landscape"),
    [
        (statements.TEMPLATES, "statement.css", "Remittance statement", False),
        (summary_files.TEMPLATES, "summary.css", "Achievement summary", True),
    ],
)
def test_each_document_has_its_page_its_name_and_page_numbers(
    templates, stylesheet, name, landscape
):
    import weasyprint

    html = "<html><body>" + "<p>a line</p>" * 120 + "</body></html>"
    drawn = weasyprint.HTML(string=html).render(
        stylesheets=list(documents._stylesheets(templates / stylesheet))
    )
    first = drawn.pages[0]
    assert (first.width > first.height) is landscape
    assert len(drawn.pages) >= 2
    texts = _margin_texts(first._page_box, {})
    assert texts["@bottom-left"] == name
    assert texts["@bottom-right"] == f"Page 1 of {len(drawn.pages)}"


def test_money_is_shown_with_the_sign_before_the_pound():
    from decimal import Decimal

    from claims_portal.formatting import money

    assert money(Decimal("-20.05")) == "-£20.05"
    assert money(Decimal("1234.5")) == "£1,234.50"
    assert money(Decimal("0")) == "£0.00"
    assert money(None) == ""

"""The PDFs the portal draws from HTML with WeasyPrint: the remittance statement
(``payments/statements.py``) and the achievement summary (``national/services/
summary_files.py``).

Each document keeps its templates in a folder of its own and its own stylesheet there (page
size, the name in its footer, column widths), read after ``templates/documents/
document.css``, which every document shares (margins, "Page 1 of 2", NHS-like type, the
masthead and tables). Templates autoescape whatever their name: user text is never markup.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from claims_portal.formatting import long_date, money

SHARED_STYLESHEET = Path(__file__).parent / "templates" / "documents" / "document.css"


@cache
def environment(templates: Path) -> jinja2.Environment:
    """The Jinja environment of one document's folder (``money`` and ``long_date``)."""
    made = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    made.filters["money"] = money
    made.filters["long_date"] = long_date
    return made


def render(templates: Path, template: str, **context: Any) -> str:
    """The HTML a PDF is drawn from."""
    return environment(templates).get_template(template).render(**context)


@cache
def _stylesheets(own: Path) -> tuple[Any, ...]:
    """The shared stylesheet and the document's own, parsed once (a WeasyPrint stylesheet
    serves any document)."""
    import weasyprint

    return (
        weasyprint.CSS(filename=str(SHARED_STYLESHEET)),
        weasyprint.CSS(filename=str(own)),
    )


def pdf(html: str, templates: Path, stylesheet: str) -> bytes:
    """``html`` drawn as a PDF with ``templates / stylesheet`` over the shared one."""
    # WeasyPrint logs each step of each drawing (and of its own loading) at INFO: noise in
    # the portal's logs.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    import weasyprint  # imported when drawn: loading Pango is dear, and pages rarely need it

    document = weasyprint.HTML(string=html, base_url=str(templates))
    drawn = document.write_pdf(stylesheets=list(_stylesheets(templates / stylesheet)))
    assert drawn is not None
    return bytes(drawn)

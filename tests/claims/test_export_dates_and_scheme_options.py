"""The XLSX export holds real dates (never dates as text); a practice's scheme filter offers
every scheme offered to or accepted by it, claimed yet or not."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services import listing
from claims_portal.db import utcnow
from claims_portal.extensions import db
from claims_portal.formatting import england
from claims_portal.schemes.models import OfferStatus
from tests.claims.helpers import signed_in, submitted
from tests.factories.claims import claim_scene
from tests.factories.schemes import OfferFactory, SchemeFactory


def test_every_date_of_the_xlsx_export_is_a_date_cell(app, db_session, one_step):
    claim = submitted(db_session, one_step)
    db_session.commit()
    response = signed_in(app, one_step.tier_1).get("/claims/export-xlsx")
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    sheet = load_workbook(io.BytesIO(data))["Claims"]
    header = [c.value for c in sheet[1]]
    row = sheet[2]
    for heading in ("Period start", "Period end", "Submitted", "Last change"):
        cell = row[header.index(heading)]
        assert isinstance(cell.value, dt.datetime), (heading, cell.value)  # not text
        assert cell.is_date
        assert "yyyy-mm-dd" in cell.number_format
    assert row[header.index("Period start")].value.date() == claim.period_start
    submitted_cell = row[header.index("Submitted")]
    assert submitted_cell.number_format == "yyyy-mm-dd hh:mm"
    wall_clock = england(claim.submitted_at).replace(tzinfo=None)
    assert abs(submitted_cell.value - wall_clock) < dt.timedelta(seconds=1)  # England's clock


def test_a_draft_never_submitted_leaves_the_submitted_cell_empty(app, db_session, one_step):
    from tests.claims.helpers import start

    start(db_session, one_step)
    db_session.commit()
    response = signed_in(app, one_step.user).get("/claims/export-xlsx")
    data = response.get_data()
    response.close()
    sheet = load_workbook(io.BytesIO(data))["Claims"]
    header = [c.value for c in sheet[1]]
    assert sheet[2][header.index("Submitted")].value is None
    assert sheet[2][header.index("Last change")].is_date


def test_a_practice_can_filter_by_every_scheme_offered_or_accepted(app, db_session, one_step):
    practice = one_step.practice
    pending = SchemeFactory(commissioner=one_step.icb, name="Pending one")
    OfferFactory(scheme=pending, provider=practice, status=OfferStatus.PENDING)
    rejected = SchemeFactory(commissioner=one_step.icb, name="Rejected one")
    OfferFactory(scheme=rejected, provider=practice, status=OfferStatus.REJECTED)
    elsewhere = claim_scene()  # accepted by another practice only
    db.session.commit()
    scope = listing.scope_for(one_step.user, practice)
    names = [name for _, name in listing.filter_options(db_session, scope).schemes]
    assert any(one_step.scheme.name in n for n in names)  # accepted, no claim yet
    assert any("Pending one" in n for n in names)
    assert not any("Rejected one" in n for n in names)
    assert not any(elsewhere.scheme.name in n for n in names)
    # A commissioner's filter still lists the schemes with claims sent to it.
    commissioner = listing.scope_for(one_step.tier_1, one_step.icb)
    assert listing.filter_options(db_session, commissioner).schemes == []
    scheme_id = one_step.scheme.id
    page = signed_in(app, one_step.user).get("/claims").get_data(as_text=True)
    assert f'value="{scheme_id}"' in page


def test_a_withdrawn_offer_with_claims_still_filters_them(app, db_session, one_step):
    claim = submitted(db_session, one_step)
    one_step.offer.status = OfferStatus.WITHDRAWN
    claim.status_changed_at = utcnow()
    db_session.commit()
    scope = listing.scope_for(one_step.user, one_step.practice)
    assert [id_ for id_, _ in listing.filter_options(db_session, scope).schemes] == [
        one_step.scheme.id
    ]
    assert claim.status is ClaimStatus.AWAITING_COMMISSIONER_REVIEW

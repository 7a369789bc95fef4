"""The demo data's paycodes: every demo scheme's paycode is on the list, added once."""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.demo import load_demo_data
from claims_portal.payments.demo import load_demo_paycodes
from claims_portal.payments.models import Paycode
from claims_portal.schemes.demo import ADMINISTRATOR
from claims_portal.schemes.models import Scheme


def test_every_demo_schemes_paycode_is_on_the_list(db_session):
    load_demo_data(db_session)
    listed = set(db_session.scalars(select(Paycode.code)))
    used = {code for code in db_session.scalars(select(Scheme.paycode)) if code}
    assert used
    assert used <= listed
    assert load_demo_paycodes(db_session, administrator_email=ADMINISTRATOR, icb_code="QXV") == 0

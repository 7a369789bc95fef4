"""Editing a tariff through the admin's real forms: corrected in place while the scheme is a
draft, a new dated tariff once it is published (the page says so), with warnings for a
tariff starting part-way through a claim period or back-dated over submitted claims."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

from claims_portal.claims.models import ClaimStatus
from claims_portal.db import utcnow
from claims_portal.schemes.models import SchemeStatus, Tariff
from tests.admin.helpers import post
from tests.factories.claims import ClaimFactory, claim_scene
from tests.factories.schemes import ready_scheme
from tests.helpers import sign_in


def _tariffs(db_session, component) -> list[tuple[Decimal, dt.date]]:
    db_session.expire_all()
    rows = db_session.query(Tariff).filter_by(component_id=component.id)
    return sorted((t.unit_value, t.effective_from) for t in rows)


def test_a_draft_schemes_tariff_is_corrected_in_place(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    component = scheme.components[0]
    tariff = component.tariffs[0]
    sign_in(client, ours.admin.email)
    page = client.get(f"/admin/tariffs/edit/?id={tariff.id}").get_data(as_text=True)
    assert "is a draft: saving changes this tariff" in page
    assert html.escape(f"{component.code} \u2013 {component.name}") in page
    assert 'name="component_id"' not in page
    response = post(
        client,
        f"/admin/tariffs/edit/?id={tariff.id}",
        {"unit_value": "26.00", "effective_from": scheme.start_date.isoformat()},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _tariffs(db_session, component) == [(Decimal("26.00"), scheme.start_date)]
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Failed to save" not in shown
    assert "Choose the component" not in shown


def test_a_published_schemes_tariff_edit_adds_a_new_dated_tariff(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    component = scheme.components[0]
    tariff = component.tariffs[0]
    later = scheme.windows[6].period_start  # a period's first day: no part-way warning
    sign_in(client, ours.admin.email)
    page = client.get(f"/admin/tariffs/edit/?id={tariff.id}").get_data(as_text=True)
    assert "is published: saving adds a new tariff" in page
    response = post(
        client,
        f"/admin/tariffs/edit/?id={tariff.id}",
        {"unit_value": "30.00", "effective_from": later.isoformat()},
        follow_redirects=True,
    )
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "a new tariff of £30.00 from" in text
    assert "kept as history" in text
    assert "part-way" not in text
    assert _tariffs(db_session, component) == [
        (Decimal("25.00"), scheme.start_date),
        (Decimal("30.00"), later),
    ]

    # Saving the same date again is refused with a reason, on the page, nothing changed.
    response = post(
        client,
        f"/admin/tariffs/edit/?id={tariff.id}",
        {"unit_value": "31.00", "effective_from": later.isoformat()},
    )
    assert "already has a tariff from" in html.unescape(response.get_data(as_text=True))
    assert len(_tariffs(db_session, component)) == 2


def test_a_tariff_starting_part_way_through_a_period_warns(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    component = scheme.components[0]
    window = scheme.windows[3]
    sign_in(client, ours.admin.email)
    response = post(
        client,
        "/admin/tariffs/new/",
        {
            "component_id": component.id,
            "unit_value": "28.00",
            "effective_from": (window.period_start + dt.timedelta(days=9)).isoformat(),
        },
        follow_redirects=True,
    )
    text = html.unescape(response.get_data(as_text=True))
    assert f"starts part-way through the period {window.period_label}" in text
    assert "prices claims from" in text
    assert "back-dated" not in text


def test_a_tariff_back_dated_over_submitted_claims_warns(client, db_session, ours):
    scene = claim_scene(icb=ours.icb)
    for status in (ClaimStatus.AWAITING_COMMISSIONER_REVIEW, ClaimStatus.APPROVED_FOR_PAYMENT):
        ClaimFactory(  # each of another practice (one live claim a period each)
            scheme=scene.scheme,
            window=scene.window,
            status=status,
            submitted_at=utcnow(),
            submitted_by=scene.user,
        )
    ClaimFactory(scheme=scene.scheme, window=scene.window)  # a draft: not counted
    component = scene.components[0]
    tariff_id = component.tariffs[0].id
    sign_in(client, ours.admin.email)
    response = post(
        client,
        f"/admin/tariffs/edit/?id={tariff_id}",
        {"unit_value": "27.00", "effective_from": scene.window.period_start.isoformat()},
        follow_redirects=True,
    )
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "is back-dated: 2 claims are already submitted or approved" in text
    assert "keep the values they were priced with" in text
    assert (Decimal("27.00"), scene.window.period_start) in _tariffs(db_session, component)

"""The audit trail's admin list names who acted, in which organisation, and on what.

An event stores ids (``object_type`` ``claim``, ``object_id`` ``10``); the list shows
"Claim CLM-000010", "Person Aisha Rahman", "Offer LES-HC-2627 to Millbrook Surgery (Y90002)".
The names of one page's events are loaded together (:func:`remember_names`, one query per
kind of object), so a page of 50 events is a handful of queries, not 150.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from flask import g
from sqlalchemy import select

from claims_portal.access.models import AccessRequest, AccessToken, Membership, User
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import BulkUpload, Claim
from claims_portal.extensions import db
from claims_portal.formatting import long_date
from claims_portal.inputs import parse_id
from claims_portal.national.models import (
    AchievementDate,
    AchievementLoad,
    DataSubmission,
    IndicatorGroup,
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceOffer,
    ServiceReference,
)
from claims_portal.organisations.models import NetworkMembership, OdsImport, Organisation
from claims_portal.payments.models import (
    IcbPaymentSettings,
    Paycode,
    Payment,
    PaymentFile,
    PaymentRecovery,
    PaymentRun,
    PaymentStatement,
)
from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Offer,
    Scheme,
    SchemeShare,
    SupplementaryQuestion,
    Tariff,
)

Namer = Callable[[Any], str]


def _service(service_id: int) -> str:
    service = db.session.get(QualityService, service_id)
    return str(service) if service is not None else f"service {service_id}"


#: object_type -> (what people call it, its model, its name). Types without a model (a bulk
#: approval names its step, not a row) show their label and the stored id.
KINDS: dict[str, tuple[str, type | None, Namer | None]] = {
    "user": ("Person", User, lambda u: u.full_name),
    "organisation": ("Organisation", Organisation, lambda o: o.display_name),
    "membership": (
        "Role",
        Membership,
        lambda m: f"{m.user.full_name}, {m.role} in {m.organisation.display_name}",
    ),
    "network_membership": (
        "PCN membership",
        NetworkMembership,
        lambda m: f"{m.practice.display_name} in {m.network.display_name}",
    ),
    "access_request": (
        "Access request",
        AccessRequest,
        lambda r: f"from {r.full_name}",
    ),
    "access_token": ("Link", AccessToken, lambda t: f"{t.purpose} for {t.user.full_name}"),
    "claim": ("Claim", Claim, lambda c: c.reference),
    "claim_bulk_upload": (
        "Bulk claims upload",
        BulkUpload,
        lambda u: u.filename,
    ),
    "claim_bulk_approval": ("Bulk approval", None, None),
    "scheme": ("Scheme", Scheme, lambda s: f"{s.code} - {s.name}"),
    "scheme_share": (
        "Scheme sharing",
        SchemeShare,
        lambda s: s.scheme.code,
    ),
    "scheme_component": (
        "Component",
        Component,
        lambda c: f"{c.scheme.code} / {c.code} - {c.name}",
    ),
    "scheme_tariff": (
        "Tariff",
        Tariff,
        lambda t: (
            f"{t.component.scheme.code} / {t.component.code} from {long_date(t.effective_from)}"
        ),
    ),
    "claim_window": ("Claim window", ClaimWindow, lambda w: f"{w.scheme.code} {w.period_label}"),
    "supplementary_question": (
        "Question",
        SupplementaryQuestion,
        lambda q: f"{q.scheme.code}: {q.text}",
    ),
    "scheme_offer": ("Offer", Offer, str),
    "paycode": ("Paycode", Paycode, lambda p: p.code),
    "icb_payment_settings": (
        "Payments settings",
        IcbPaymentSettings,
        lambda s: f"of {s.icb.display_name}",
    ),
    "payment_run": ("Payment run", PaymentRun, lambda r: f"{r.slot}"),
    "payment_file": ("Payment file", PaymentFile, lambda f: f.name),
    "payment": ("Payment", Payment, lambda p: p.reference),
    "payment_recovery": (
        "Recovery",
        PaymentRecovery,
        lambda r: f"of £{r.amount:,.2f} from CLM-{r.claim_id:06d}",
    ),
    "payment_statement": (
        "Statement",
        PaymentStatement,
        lambda s: f"{s.month:%B %Y} for {s.provider.display_name}",
    ),
    "national_offer": (
        "Offer of a national service",
        ServiceOffer,
        lambda o: f"{o.service} to {o.provider.display_name}",
    ),
    "quality_service": ("National service", QualityService, str),
    "achievement_date": (
        "Achievement date",
        AchievementDate,
        lambda d: f"{long_date(d.date)} of {_service(d.service_id)}",
    ),
    "indicator_group": (
        "Indicator group",
        IndicatorGroup,
        lambda i: f"{i.code} - {i.description} of {_service(i.service_id)}",
    ),
    "quality_indicator": (
        "Indicator",
        QualityIndicator,
        lambda i: f"{i.code} of {_service(i.service_id)}",
    ),
    "service_reference": (
        "Reference values",
        ServiceReference,
        lambda r: f"of {_service(r.service_id)}",
    ),
    "national_prevalence": (
        "National prevalence",
        NationalPrevalence,
        lambda p: f"{p.register} in {_service(p.service_id)}",
    ),
    "achievement_load": ("Extract", AchievementLoad, lambda a: a.filename),
    "data_submission": (
        "Achievement submission",
        DataSubmission,
        lambda d: (
            f"{_service(d.service_id)} for {d.provider.display_name},"
            f" {long_date(d.achievement_date)}"
        ),
    ),
    "ods_import": ("ODS import", OdsImport, lambda i: f"as of {long_date(i.as_of)}"),
}


def _kind(object_type: str) -> tuple[str, type | None, Namer | None]:
    return KINDS.get(object_type, (object_type.replace("_", " ").capitalize(), None, None))


def remember_names(events: Iterable[AuditEvent]) -> None:
    """Load the names of the objects these events refer to, one query per kind."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        key = parse_id(event.object_id)
        if key is not None and _kind(event.object_type)[1] is not None:
            wanted[event.object_type].add(key)
    names = g.setdefault("audit_object_names", {})
    for object_type, ids in wanted.items():
        _, model, namer = _kind(object_type)
        if model is None or namer is None:
            continue
        rows: Iterable[Any] = db.session.scalars(select(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
        for row in rows:
            names[(object_type, str(row.id))] = namer(row)


def object_name(event: AuditEvent) -> str:
    """``Claim CLM-000010``; the stored id when the object is gone or has no name."""
    label, model, namer = _kind(event.object_type)
    names = g.setdefault("audit_object_names", {})
    key = (event.object_type, event.object_id)
    if key not in names and model is not None and namer is not None:
        found = parse_id(event.object_id)
        row = db.session.get(model, found) if found is not None else None
        names[key] = namer(row) if row is not None else None
    name = names.get(key)
    return f"{label} {name}" if name else f"{label} {event.object_id}"


def actor_name(event: AuditEvent) -> str:
    """The person's name (as it is now), or what was recorded ("system")."""
    return event.actor.full_name if event.actor is not None else event.actor_label


def organisation_name(event: AuditEvent) -> str:
    return event.organisation.display_name if event.organisation is not None else ""


#: Flask-Admin column formatters for the audit list and details.
FORMATTERS: dict[str, Callable[..., str]] = {
    "actor": lambda v, c, m, p: actor_name(m),
    "organisation": lambda v, c, m, p: organisation_name(m),
    "object": lambda v, c, m, p: object_name(m),
}

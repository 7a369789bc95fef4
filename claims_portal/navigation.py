"""The header's links: one table, each link shown only to people its route lets in.

A link is shown when its endpoint's declared requirement (``routes.py``) is met by the person
in the current organisation, so nobody is shown a link that answers 403
(``tests/test_navigation.py`` follows every link as each demo person). Links with a count
(messages: unread ones; pending actions: everything waiting for the person, as the page lists
it) are also hidden while the count does not apply to the person. A link whose page asks more
than its route declares (``shown``) is hidden unless that is met too: national payment totals
are a national commissioner's, so national roles held in an ICB or a practice, whom the page
answers 403, are not shown the link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app, g, request
from flask_login import current_user

from claims_portal import kept_counts
from claims_portal.access import current
from claims_portal.access.models import Membership, User
from claims_portal.clock import now
from claims_portal.extensions import db
from claims_portal.formatting import how_many
from claims_portal.fragments import kept_url
from claims_portal.messages import services as message_services
from claims_portal.messages.services import waiting
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.routes import requirements


def _national_body(user: User, organisation: Organisation | None) -> bool:
    """National totals are a national commissioner's (the page answers others 403)."""
    return organisation is not None and organisation.kind is OrganisationKind.NATIONAL_COMMISSIONER


def _icb_side(user: User, organisation: Organisation | None) -> bool:
    """The payment files and accruals are an ICB's or its sub-location's (a national
    commissioner or a region sends no payment files; the pages answer them 404)."""
    return organisation is not None and organisation.kind in (
        OrganisationKind.ICB,
        OrganisationKind.ICB_SUB_LOCATION,
    )


#: The commissioner's payments pages, under the header's "Payments".
_COMMISSIONER_PAYMENT_PAGES = (
    "payments.files",
    "payments.payment_file",
    "payments.accruals",
    "payments.settings",
    "payments.start_run",
    "payments.withdraw_file",
    "payments.rejected",
    "payments.holds",
    "payments.manual_payments",
    "payments.recoveries_list",
    "payments.raise_recovery",
    "payments.recovery",
)
_PRACTICE_PAYMENT_PAGES = (
    "payments.practice_payments",
    "payments.statements",
    "payments.statement_download",
)

#: ``count(user, organisation)``: the number shown beside the label, or ``None`` to hide it.
Count = Callable[[User, Organisation | None], int | None]
#: ``shown(user, organisation)``: whether the page behind the link lets the person in, beyond
#: its route's declared requirement. From what is already loaded: no query of its own.
Shown = Callable[[User, Organisation | None], bool]


def _kept(name: str, organisation: Organisation | None) -> tuple[bool, int | None]:
    """A count kept for the person in this organisation and not yet too old
    (``HEADER_COUNTS_SECONDS``, by the app's clock)."""
    seconds = current_app.config.get("HEADER_COUNTS_SECONDS", 0)
    if not seconds:
        return False, None
    entry = _entry(organisation)
    if not entry or name not in entry:
        return False, None
    if not 0 <= now().timestamp() - float(entry.get("at", 0)) < seconds:
        return False, None
    value = entry[name]
    return True, value if value is None else int(value)


def _keep(name: str, organisation: Organisation | None, value: int | None) -> None:
    """Keep a count just made, with the moment it was made (a stale entry starts again)."""
    seconds = current_app.config.get("HEADER_COUNTS_SECONDS", 0)
    if not seconds:
        return
    organisation_id = organisation.id if organisation else None
    moment = now().timestamp()
    entry = _entry(organisation) or {}
    if not 0 <= moment - float(entry.get("at", 0)) < seconds:
        entry = {"at": moment}
    g.kept_counts = entry = {**entry, name: value}
    kept_counts.store().put(current_user.id, organisation_id, entry)


def _entry(organisation: Organisation | None) -> dict[str, Any] | None:
    """The person's kept counts for ``organisation``, read once a request."""
    if "kept_counts" not in g:
        organisation_id = organisation.id if organisation else None
        g.kept_counts = kept_counts.store().get(current_user.id, organisation_id)
    return cast(dict[str, Any] | None, g.kept_counts)


def forget_counts(response: Any) -> Any:
    """After a person's own change (any request but GET and HEAD), the header counts
    afresh: what they just did shows at once."""
    if (
        request.method not in ("GET", "HEAD")
        and current_app.config.get("HEADER_COUNTS_SECONDS", 0)
        and current_user.is_authenticated
    ):
        kept_counts.store().forget(current_user.id)
    return response


def unread_messages(user: User, organisation: Organisation | None) -> int | None:
    """Messages not yet read (claim outcomes and offer news); ``None`` for people who never
    have messages here."""
    if "messages_navigation" not in g:
        found, count = _kept("messages", organisation)
        if not found:
            count = None
            if organisation is not None and message_services.may_have_tasks(user, organisation):
                count = message_services.unread_count(db.session, user, organisation)
            _keep("messages", organisation, count)
        g.messages_navigation = count
    return cast(int | None, g.messages_navigation)


def pending_actions(user: User, organisation: Organisation | None) -> int | None:
    """Everything waiting for the person (claims, bulk uploads, offers, access requests:
    what the Pending actions page lists, or the number that page already counted into
    ``g.pending_actions_count``); ``None`` for people nothing can wait for."""
    if "pending_actions_count" in g:  # the Pending actions page counted them just now
        _keep("pending", organisation, g.pending_actions_count)
    else:
        found, count = _kept("pending", organisation)
        if not found:
            memberships: list[Membership] = g.get("memberships", [])
            count = waiting.pending_count(db.session, user, organisation, memberships)
            _keep("pending", organisation, count)
        g.pending_actions_count = count
    return cast(int | None, g.pending_actions_count)


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str
    #: Endpoints (or prefixes ending in ".") for which this link is the current section.
    current: tuple[str, ...] = ()
    count: Count | None = None
    shown: Shown | None = None

    def is_current(self, endpoint: str | None) -> bool:
        if not endpoint:
            return False
        return any(
            endpoint.startswith(c) if c.endswith(".") else endpoint == c for c in self.current
        )


#: The header navigation, in order.
NAVIGATION: tuple[Link, ...] = (
    Link("Home", "core.home", ("core.home",)),
    Link("Practices", "organisations.practices", ("organisations.",)),
    Link("Schemes", "schemes.index", ("schemes.",)),
    Link("Claims", "claims.index", ("claims.",)),
    Link("Messages", "messages.updates", ("messages.updates",), count=unread_messages),
    Link("Administration", "admin.index"),
    # A practice's payments and statements; the commissioner's payment files and reports.
    Link("Payments", "payments.practice_payments", _PRACTICE_PAYMENT_PAGES),
    Link("Payments", "payments.files", _COMMISSIONER_PAYMENT_PAGES, shown=_icb_side),
    Link("Payment totals", "payments.national", ("payments.national",), shown=_national_body),
    # National services: the offers a commissioner made; a provider's offers to answer.
    Link(
        "National services",
        "national.offers_made",
        ("national.offers_made", "national.offer_made", "national.offer_new"),
    ),
    Link(
        "National services",
        "national.offers_received",
        ("national.offers_received", "national.offer_received"),
    ),
    # National achievement: figures entered by hand, the summary, the extracts loaded.
    Link(
        "Achievement entry",
        "national.entry_start",
        (
            "national.entry_start",
            "national.entry_services",
            "national.entry_dates",
            "national.entry_groups",
            "national.entry_group",
            "national.entry_submit",
        ),
    ),
    Link(
        "Achievement",
        "national.achievement_index",
        (
            "national.achievement_index",
            "national.achievement_providers",
            "national.achievement_summary",
            "national.achievement_missing",
        ),
    ),
    Link(
        "Extracts",
        "national.extract_loads",
        (
            "national.extract_loads",
            "national.upload_extract",
            "national.extract_load",
            "national.load_valid_rows",
            "national.decline_load",
        ),
        shown=_national_body,
    ),
    Link(
        "Pending actions",
        "messages.index",
        ("messages.index", "access.pending_actions", "access.access_request"),
        count=pending_actions,
    ),
    Link("People", "access.people_list", ("access.people_list", "access.person", "access.invite")),
)


def links_for(user: Any, organisation: Organisation | None, app: Flask) -> list[dict[str, Any]]:
    """The header items (NHS header macro's shape) ``user`` sees acting for ``organisation``."""
    if not user.is_authenticated:
        return []
    declared = requirements(app)
    items = []
    for link in NAVIGATION:
        if not declared[link.endpoint].met_in(user, organisation):
            continue
        if link.shown is not None and not link.shown(user, organisation):
            continue
        text = link.label
        if link.count is not None:
            count = link.count(user, organisation)
            if count is None:
                continue
            text = f"{link.label} ({how_many(count, short=True)})"
        items.append(
            {
                "href": kept_url(link.endpoint),
                "text": text,
                "current": link.is_current(request.endpoint),
            }
        )
    return items


def _template_context() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {"navigation": []}
    organisation = g.get("current_organisation")
    user = current.person()
    return {"navigation": links_for(user, organisation, cast(Flask, current_app))}


def init_app(app: Flask) -> None:
    kept_counts.init_app(app)
    app.context_processor(_template_context)
    app.after_request(forget_counts)

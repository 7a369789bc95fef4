"""The header's links: one table, each link shown only to people its route lets in.

A link is shown when its endpoint's declared requirement (``routes.py``) is met by the person
in the current organisation, so nobody is shown a link that answers 403
(``tests/test_navigation.py`` follows every link as each demo person). Links with a count
(messages, pending actions) are also hidden while the count does not apply to the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user

from claims_portal.access import current
from claims_portal.access.models import Membership, User
from claims_portal.access.services import access_requests
from claims_portal.extensions import db
from claims_portal.messages import services as message_services
from claims_portal.organisations.models import Organisation
from claims_portal.routes import requirements

#: ``count(user, organisation)``: the number shown beside the label, or ``None`` to hide it.
Count = Callable[[User, Organisation | None], int | None]


def task_count(user: User, organisation: Organisation | None) -> int | None:
    """Claims waiting for the person (one ``COUNT``, or the number a page already read into
    ``g.messages_navigation``); ``None`` for people who never have tasks here."""
    if "messages_navigation" not in g:
        count = None
        if organisation is not None and message_services.may_have_tasks(user, organisation):
            count = message_services.task_count(db.session, user, organisation)
        g.messages_navigation = count
    return cast(int | None, g.messages_navigation)


def pending_access_requests(user: User, organisation: Organisation | None) -> int | None:
    """Access requests the person may decide; ``None`` for people holding no deciding role."""
    if "pending_actions_count" not in g:
        memberships: list[Membership] = g.get("memberships", [])
        count = None
        if access_requests.may_decide_any(user, memberships):
            count = len(access_requests.pending_for(db.session, user))
        g.pending_actions_count = count
    return cast(int | None, g.pending_actions_count)


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str
    #: Endpoints (or prefixes ending in ".") for which this link is the current section.
    current: tuple[str, ...] = ()
    count: Count | None = None

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
    Link("Messages", "messages.index", ("messages.",), count=task_count),
    Link("Administration", "admin.index"),
    Link(
        "Pending actions",
        "access.pending_actions",
        ("access.pending_actions", "access.access_request"),
        count=pending_access_requests,
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
        text = link.label
        if link.count is not None:
            count = link.count(user, organisation)
            if count is None:
                continue
            text = f"{link.label} ({count})"
        items.append(
            {
                "href": url_for(link.endpoint),
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
    return {
        "navigation": links_for(user, organisation, cast(Flask, current_app)),
        # The message centre's tasks page links to the pending access requests too.
        "pending_actions_count": pending_access_requests(user, organisation),
    }


def init_app(app: Flask) -> None:
    app.context_processor(_template_context)

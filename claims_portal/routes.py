"""What every route needs, declared on the view and enforced by the same declaration.

Each view carries exactly one of:

- ``@public``: anyone, signed in or not (sign-in pages, health probes, assets);
- ``@token_holder("SETTING")``: a machine presenting the bearer token configured in
  ``SETTING`` (the metrics scraper); the view checks the token, and is not there (404) when
  the setting is empty;
- ``@signed_in``: any signed-in person (signed-out people are sent to sign in);
- ``@requires(Capability.X, ...)``: one of the capabilities in the current organisation
  (403 otherwise);
- ``@requires_on(TARGET, Capability.X, ...)``: a capability on an object the declaration
  loads once (a claim, an offer, an access request, a person): 404 when the object does not
  exist or is not visible to the person, 403 when visible but not allowed. The view receives
  the object as a keyword argument (``claim=...``) beside the id from the URL.

The requirement is recorded on the view function (``view.requirement``); the admin declares
its Flask-Admin endpoints with :func:`declare` from its guarded base view. :func:`requirements`
is the registry keyed by endpoint: ``tests/test_conventions.py`` fails any route missing from
it and keeps ``docs/routes.md`` (``claims-portal routes-doc``) current, and the header
navigation (``core/navigation.py``) shows a link only to people its requirement lets in.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from flask import Flask, abort, current_app
from flask_login import current_user, login_required

from claims_portal.access import current
from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import current_organisation, has_capability
from claims_portal.extensions import login_manager
from claims_portal.organisations.models import Organisation

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_EXTENSION = "route_requirements"
_KEPT = "route_requirements_kept"


class Kind(enum.StrEnum):
    PUBLIC = "public"
    SIGNED_IN = "signed in"
    CAPABILITY = "capability"
    OBJECT = "capability on object"
    TOKEN = "token"  # noqa: S105 - the kind of requirement, not a secret


@dataclass(frozen=True)
class Requirement:
    """What a route needs; ``capabilities`` are alternatives (any one is enough)."""

    kind: Kind
    capabilities: tuple[Capability, ...] = ()
    #: The object a ``requires_on`` route loads ("claim"), and how its rule reads.
    subject: str | None = None
    note: str | None = None

    def describe(self) -> str:
        """As ``docs/routes.md`` shows it."""
        wanted = " or ".join(f"`{c.name}`" for c in self.capabilities)
        if self.kind is Kind.CAPABILITY:
            return f"{wanted} in the current organisation"
        if self.kind is Kind.OBJECT:
            rule = "; ".join(p for p in (wanted, self.note) if p) or "visible"
            return f"{self.subject}: {rule}"
        if self.kind is Kind.TOKEN:
            return f"the bearer token in `{self.note}` (404 when unset)"

        return str(self.kind)

    def met_in(self, user: Any, organisation: Organisation | None) -> bool:
        """Whether ``user`` acting for ``organisation`` gets past this requirement (what
        the header navigation asks before showing a link). Object routes have no answer
        without their object, so they never stand behind a link."""
        if self.kind is Kind.PUBLIC:
            return True
        if not user.is_authenticated:
            return False
        if self.kind is Kind.SIGNED_IN:
            return True
        if self.kind is Kind.TOKEN:
            return False  # for machines, never behind a link
        if self.kind is Kind.CAPABILITY:
            return organisation is not None and any(
                has_capability(user, c, organisation) for c in self.capabilities
            )
        raise ValueError(f"a link cannot lead to a route on one {self.subject}")


def _record(view: Any, requirement: Requirement) -> None:
    if getattr(view, "requirement", None) is not None:
        raise TypeError(f"{view.__name__} declares two requirements")
    view.requirement = requirement


def public(view: F) -> F:
    """Anyone may reach this route, signed in or not."""
    _record(view, Requirement(Kind.PUBLIC))
    return view


def token_holder(setting: str) -> Callable[[F], F]:
    """A machine presenting the bearer token configured in ``setting``; the view checks it
    (in constant time) and answers 404 when ``setting`` is empty."""

    def decorator(view: F) -> F:
        _record(view, Requirement(Kind.TOKEN, note=setting))
        return view

    return decorator


def signed_in(view: F) -> F:
    """Any signed-in person; others are sent to sign in (Flask-Login's ``login_required``)."""
    wrapped = cast(F, login_required(view))
    _record(wrapped, Requirement(Kind.SIGNED_IN))
    return wrapped


def requires(*capabilities: Capability) -> Callable[[F], F]:
    """One of ``capabilities`` in the current organisation; 403 otherwise."""
    if not capabilities:
        raise TypeError("requires() needs a capability")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            organisation = current_organisation()
            if organisation is None or not any(
                has_capability(current.person(), c, organisation) for c in capabilities
            ):
                abort(403)
            return view(*args, **kwargs)

        _record(wrapped, Requirement(Kind.CAPABILITY, tuple(capabilities)))
        return cast(F, wrapped)

    return decorator


@dataclass(frozen=True)
class Target(Generic[T]):
    """An object a route acts on, and how it is loaded from the URL.

    ``load(user, id)`` answers the object or ``None`` when it does not exist or the person may
    not know it exists (404). ``organisation`` is where the capability is checked; ``None``
    for objects found inside the current organisation (an offer to it), whose capability is
    checked there first, as ``requires`` does.
    """

    name: str
    argument: str
    parameter: str
    load: Callable[[User, int], T | None]
    organisation: Callable[[T], Organisation] | None = None


def requires_on(
    target: Target[T],
    *capabilities: Capability,
    allowed: Callable[[User, T], bool] | None = None,
    note: str | None = None,
) -> Callable[[F], F]:
    """One of ``capabilities`` on the object ``target`` loads (or ``allowed(user, object)``
    when the rule is more than a capability; ``note`` says how it reads in docs/routes.md).

    Signed-out people are sent to sign in; an object not found or not visible is a 404; one
    the person sees but may not act on is a 403. The view gets the object as
    ``target.parameter`` beside the id.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            user = current.person()
            if target.organisation is None and capabilities:
                organisation = current_organisation()
                if organisation is None or not any(
                    has_capability(user, c, organisation) for c in capabilities
                ):
                    abort(403)
            found = target.load(user, kwargs[target.argument])
            if found is None:
                abort(404)
            if allowed is not None:
                permitted = allowed(user, found)
            elif target.organisation is not None and capabilities:
                where = target.organisation(found)
                permitted = any(has_capability(user, c, where) for c in capabilities)
            else:
                permitted = True
            if not permitted:
                abort(403)
            kwargs[target.parameter] = found
            return view(*args, **kwargs)

        _record(wrapped, Requirement(Kind.OBJECT, tuple(capabilities), target.name, note))
        return cast(F, wrapped)

    return decorator


# --- The registry ----------------------------------------------------------------------------


def declare(app: Flask, endpoint: str, requirement: Requirement) -> None:
    """Declare a route whose view cannot carry the attribute (Flask-Admin's bound methods)."""
    app.extensions.setdefault(_EXTENSION, {})[endpoint] = requirement


def requirements(app: Flask | None = None) -> dict[str, Requirement]:
    """Every declared endpoint and what it needs; undeclared endpoints are absent.

    Built once per app and kept (the header's navigation asks on every page), and built
    again if a route or a declaration has been added since. Callers do not change it."""
    app = app or cast(Flask, current_app)
    declared = app.extensions.get(_EXTENSION, {})
    size = (len(app.view_functions), len(declared))
    kept = app.extensions.get(_KEPT)
    if kept is not None and kept[0] == size:
        return kept[1]  # type: ignore[no-any-return]
    found: dict[str, Requirement] = {}
    for endpoint, view in app.view_functions.items():
        requirement = getattr(view, "requirement", None)
        if isinstance(requirement, Requirement):
            found[endpoint] = requirement
    found.update(declared)
    app.extensions[_KEPT] = (size, found)
    return found


def requirement_of(endpoint: str, app: Flask | None = None) -> Requirement | None:
    return requirements(app).get(endpoint)


def routes_table(app: Flask) -> str:
    """``docs/routes.md``: every route, its methods and what it needs."""
    declared = requirements(app)
    lines = [
        "# Routes",
        "",
        "Generated by `claims-portal routes-doc > docs/routes.md` from the requirement each",
        "view declares (`claims_portal/routes.py`); `tests/test_conventions.py` fails when it",
        "is out of date or a route declares nothing.",
        "",
        "| path | methods | endpoint | requirement |",
        "|---|---|---|---|",
    ]
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    for rule in rules:
        methods = ", ".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        requirement = declared.get(rule.endpoint)
        text = requirement.describe() if requirement else "**undeclared**"
        lines.append(f"| `{rule.rule}` | {methods} | `{rule.endpoint}` | {text} |")
    return "\n".join(lines) + "\n"

"""The audit trail's admin list shows and filters actions by today's names: events recorded
under an older name (``claim.submit``) are never rewritten (the hash chain covers them), so
they are read through ``audit.actions``."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup, escape

from claims_portal.audit.actions import current_name, recorded_names
from claims_portal.audit.models import AuditEvent


def action_name(view: Any, context: Any, model: AuditEvent, name: str) -> str | Markup:
    """``claim.submitted``, with ``(recorded as claim.submit)`` for an older event."""
    now = current_name(model.action)
    if now == model.action:
        return now
    return Markup("{} <small>(recorded as {})</small>").format(escape(now), escape(model.action))


class ActionNameFilter(FilterEqual):
    """Action equals: today's name finds the events recorded under its older names too."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(AuditEvent.action.in_(recorded_names(str(value).strip())))


def action_filter() -> ActionNameFilter:
    return ActionNameFilter(AuditEvent.action, "Action")

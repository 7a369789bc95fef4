"""The one kind of rule error: a service refused, and says why.

Every domain's refusals derive from :class:`RuleError` (``ClaimError``, ``AccessError``,
``SchemeError``, ``OrganisationError`` and their conflict subclasses): a list of
:class:`Problem` (a message for the person and the id of the form field it is about, or None
for the page as a whole) and the HTTP status of a page or JSON problem that shows it. Pages
show the problems with the ``error_summary`` macro (``templates/macros/forms.html``); a rule
error no view catches is answered by ``errors.py`` as an error page or, for JSON clients, one
``application/problem+json`` whose ``errors`` list the problems. Flash messages are never
used for errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the message and the id of the field it is about (the error summary
    links to ``#field``; None for the page as a whole)."""

    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


class RuleError(Exception):
    """A rule refused the change; ``problems`` are for the person, nothing was changed.

    ``status_code`` is the HTTP status of the page (or JSON problem) showing it: 400 by
    default, 403 for a step the person may not take, 409 for a conflict (someone else acted
    first). The request's unit of work rolls back whatever the refused attempt wrote.
    """

    status_code = 400

    def __init__(
        self, problems: str | Problem | Sequence[str | Problem], *, field: str | None = None
    ) -> None:
        items = [problems] if isinstance(problems, str | Problem) else list(problems)
        self.problems = [p if isinstance(p, Problem) else Problem(p, field) for p in items]
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    @property
    def field(self) -> str | None:
        """The field of the first problem (most rule errors have one problem)."""
        return self.problems[0].field if self.problems else None

    def as_problem_json(self, title: str) -> dict[str, Any]:
        """RFC 9457 problem details, one entry of ``errors`` per problem."""
        return problem_json(title, self.status_code, self.problems)


def problem_json(title: str, status: int, problems: Iterable[Problem]) -> dict[str, Any]:
    listed = list(problems)
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if listed:
        body["detail"] = " ".join(p.message for p in listed)
        body["errors"] = [
            {"detail": p.message, **({"field": p.field} if p.field else {})} for p in listed
        ]
    return body


def put_on_form(form: Any, problems: Iterable[Problem]) -> None:
    """Show problems on a WTForms form: each on its field when the form has it (linked from
    the error summary), else on the form as a whole."""
    for problem in problems:
        form_field = getattr(form, problem.field, None) if problem.field else None
        if form_field is not None and hasattr(form_field, "errors"):
            form_field.errors = [*form_field.errors, problem.message]
        else:
            form.form_errors.append(problem.message)


def problems_of(source: Any) -> list[Problem]:
    """The problems to summarise: a list of problems (or messages), a rule error, or a
    WTForms form (each field's errors linked to the field, then the form's own)."""
    if not source:  # None, an empty list, or a name the template was not given
        return []
    if isinstance(source, RuleError):
        return list(source.problems)
    if hasattr(source, "form_errors") and hasattr(source, "_fields"):
        found: list[Problem] = []
        for form_field in source:
            found += [Problem(str(message), form_field.id) for message in form_field.errors]
        return found + [Problem(str(message)) for message in source.form_errors]
    return [p if isinstance(p, Problem) else Problem(str(p)) for p in source]

"""Supplementary questions providers answer on each claim."""

from __future__ import annotations

from typing import Any

from claims_portal.access.models import User
from claims_portal.db import DbSession
from claims_portal.schemes.models import (
    QuestionKind,
    Scheme,
    SupplementaryQuestion,
)
from claims_portal.schemes.services._common import (
    SchemeError,
    _audit,
    _changes,
    _ensure_draft,
    _ensure_not_closed,
    _snapshot,
    _text,
    ensure_can_configure,
)

QUESTION_FIELDS = ("text", "kind", "required", "help_text", "choices", "display_order")


def _clean_question_fields(values: dict[str, Any]) -> dict[str, Any]:
    problems = []
    text = _text(values.get("text"))
    if not text:
        problems.append("Enter the question")
    elif len(text) > 500:
        problems.append("The question must be 500 characters or fewer")
    kind = values.get("kind")
    if not isinstance(kind, QuestionKind):
        problems.append("Choose the kind of answer")
    choices = "\n".join(
        line.strip() for line in (values.get("choices") or "").splitlines() if line.strip()
    )
    if kind is QuestionKind.SINGLE_CHOICE and len(choices.splitlines()) < 2:
        problems.append("A single-choice question needs at least two choices, one per line")
    if kind is not QuestionKind.SINGLE_CHOICE:
        choices = ""
    order = values.get("display_order")
    if order is None:
        order = 0
    if not isinstance(order, int):
        problems.append("The order must be a whole number")
    if problems:
        raise SchemeError(problems)
    return {
        **values,
        "text": text,
        "required": bool(values.get("required")),
        "help_text": _text(values.get("help_text"))[:500],
        "choices": choices,
        "display_order": order,
    }


def add_question(
    session: DbSession, scheme: Scheme, *, actor: User, **fields: Any
) -> SupplementaryQuestion:
    """Add a supplementary question to a draft scheme (``fields``: :data:`QUESTION_FIELDS`)."""
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "questions can no longer be added")
    values = _clean_question_fields({name: fields.get(name) for name in QUESTION_FIELDS})
    question = SupplementaryQuestion(scheme=scheme, **values)
    session.add(question)
    session.flush()
    _audit(
        session,
        "supplementary_question.added",
        question,
        actor=actor,
        scheme=scheme,
        after={"scheme": scheme.code, **_snapshot(question, QUESTION_FIELDS)},
    )
    return question


def update_question(
    session: DbSession, question: SupplementaryQuestion, *, actor: User, **changes: Any
) -> bool:
    scheme = question.scheme
    ensure_can_configure(actor, scheme)
    _ensure_not_closed(scheme)
    unknown = set(changes) - set(QUESTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown question fields: {sorted(unknown)}")
    merged = {name: getattr(question, name) for name in QUESTION_FIELDS} | changes
    values = _clean_question_fields(merged)
    changed = _changes(question, QUESTION_FIELDS, values)
    if "kind" in changed and not scheme.is_draft:
        raise SchemeError(f"{scheme.code} is published: a question's kind can no longer change")
    if not changed:
        return False
    before = _snapshot(question, changed)
    for name in changed:
        setattr(question, name, values[name])
    session.flush()
    _audit(
        session,
        "supplementary_question.updated",
        question,
        actor=actor,
        scheme=scheme,
        before=before,
        after=_snapshot(question, changed),
    )
    return True


def remove_question(session: DbSession, question: SupplementaryQuestion, *, actor: User) -> None:
    scheme = question.scheme
    ensure_can_configure(actor, scheme)
    _ensure_draft(scheme, "questions can no longer be removed")
    before = {"scheme": scheme.code, **_snapshot(question, QUESTION_FIELDS)}
    _audit(
        session,
        "supplementary_question.removed",
        question,
        actor=actor,
        scheme=scheme,
        before=before,
    )
    session.delete(question)
    session.flush()
    session.refresh(scheme, ["questions"])

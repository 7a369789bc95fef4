"""What each person has read in the message centre, and a commissioner's inbox.

Messages are derived from claim history (``ClaimEvent``); only the reading position is
stored: events up to ``last_read_event_id`` are read. Event ids only grow, so one number per
person is enough and costs one small row.

A commissioner's claim messages (outcomes of claims they acted on, after their step) are
also kept as rows, ``ClaimMessage``: one per person and event, written by the database
itself (a trigger on ``claim_event``, migration 0015), so that every writer - the services,
bulk approvals, COPY loads - is covered and the message centre reads the person's rows by
primary key instead of walking their claims' histories on every view.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import UTCDateTime, utcnow
from claims_portal.extensions import db


class MessageReadPosition(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "message_read_position"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    last_read_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ClaimMessage(db.Model):  # type: ignore[name-defined,misc]
    """``claim_event_id`` (an outcome: returned, declined, approved for payment, paid) is a
    message to ``user_id``, who took an earlier step on the claim and did not take this one.

    Written only by the trigger ``claim_message_fan_out`` on ``claim_event`` (insert or
    ignore), never by the application: whichever way an event is inserted, each earlier
    actor of its claim gets the row. The primary key's order (person, newest event) is the
    order the message centre reads.
    """

    __tablename__ = "claim_message"
    __table_args__ = (
        # The claim in the key's leaves: a person's rows are read newest first from the
        # index alone (index-only), each claim looked up for the scope.
        PrimaryKeyConstraint("user_id", "claim_event_id", postgresql_include=["claim_id"]),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    claim_event_id: Mapped[int] = mapped_column(ForeignKey("claim_event.id"))
    #: The event's claim (kept here so the scope is checked without reading the event).
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))

"""What each person has read in the message centre.

Messages are derived from claim history (``ClaimEvent``); only the reading position is
stored: events up to ``last_read_event_id`` are read. Event ids only grow, so one number per
person is enough and costs one small row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import UTCDateTime, utcnow
from claims_portal.extensions import db


class MessageReadPosition(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "message_read_position"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    last_read_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Declarative base and the annotated column types every model shares.

Constraint names follow one convention so that Alembic migrations are stable and
``alembic check`` can compare models with the database on every dialect.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, TypeAlias

from sqlalchemy import DateTime, Enum, MetaData, Numeric, String, func
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, scoped_session
from sqlalchemy.types import TypeDecorator

from claims_portal import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every dialect.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored naive
    in UTC and given back their ``tzinfo`` on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC (``clock.now``; the only clock models use)."""
    return clock.now()


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    """The column type of a status or kind: the member names stored, the values shown.

    Names are stable identifiers (``VARCHAR(40)`` with no database enum type, so a new member
    needs no ``ALTER TYPE``); values are what users read and may be reworded freely.
    """
    return Enum(cls, name=name, native_enum=False, length=40, validate_strings=True)


#: Money: pounds and pence below ten billion, read as ``Decimal`` (computed only by
#: ``claims_portal.calculation``).
Money = Numeric(12, 2)

#: National services' exact figures (computed only by ``claims_portal.calculation``): points,
#: thresholds and achievement rates (thresholds are fractions: 0.40 is 40%) up to
#: 9,999.999999; a share such as the aspiration share (0.8000); a national prevalence
#: (0.0215000000); a ratio such as the contractor population index.
Points = Numeric(10, 6)
Share = Numeric(5, 4)
Prevalence = Numeric(12, 10)
Ratio = Numeric(12, 8)

#: What services accept: a session, or Flask-SQLAlchemy's scoped ``db.session`` proxy.
DbSession: TypeAlias = Session | scoped_session[Any]

intpk = Annotated[int, mapped_column(primary_key=True)]
str_short = Annotated[str, mapped_column(String(120))]
str_long = Annotated[str, mapped_column(String(255))]
created_at = Annotated[
    dt.datetime,
    mapped_column(UTCDateTime(), default=utcnow, server_default=func.current_timestamp()),
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

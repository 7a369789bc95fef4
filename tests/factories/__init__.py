"""factory_boy factories, one module per domain, all writing through the test session."""

from __future__ import annotations

import factory

from claims_portal.extensions import db


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - read at use, not import
        # Committing only releases the test's savepoint; requests then see the data, as they
        # would see rows another request had committed.
        sqlalchemy_session_persistence = "commit"

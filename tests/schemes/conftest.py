from __future__ import annotations

import pytest

from tests.admin.helpers import Tenant, make_tenant


@pytest.fixture
def ours(db_session) -> Tenant:
    return make_tenant()


@pytest.fixture
def theirs(db_session) -> Tenant:
    return make_tenant()

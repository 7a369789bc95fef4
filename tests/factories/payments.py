"""Payments reference data, built straight into the database (no rules applied)."""

from __future__ import annotations

import factory

from claims_portal.payments.models import Paycode
from tests.factories import BaseFactory


class PaycodeFactory(BaseFactory):
    class Meta:
        model = Paycode

    code = factory.Sequence(lambda n: f"PAY{n:04d}")
    description = factory.LazyAttribute(lambda o: f"Local scheme paid under {o.code}")
    subjective_code = "521100"
    applies_to_gms = True
    applies_to_pms = True
    applies_to_apms = False

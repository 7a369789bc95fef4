"""Schemes, components, tariffs, claim windows and questions: the rules (flush only).

This package re-exports every service; the modules group them by what they change.

Every function here checks the actor's capability (:class:`PermissionDenied`), refuses what
the rules forbid with :class:`SchemeError` (its messages are for the user) and records an
audit event with the fields before and after. The web pages and the ICB's admin both call
these functions, so neither can bypass a rule. Offers are in ``offers``, periods and windows'
states in ``schedule`` (both modules of this package: ``services.offers.accept_offer``).

What may change once a scheme is published (it is never deleted, only closed):

- the scheme's name, description, evidence setting, multi-service setting, window length
  and sharing; never its code, commissioner, year, dates, frequency, participation-only
  setting, paycode or payment route;
- components' names, unit labels, evidence flags and caps; components cannot be added or
  removed, nor their codes changed;
- tariffs: a new unit value is a new tariff from an effective date (it prices the periods
  from that date on; claims already submitted keep their values); existing tariffs are
  edited or removed only while the scheme is a draft;
- windows: opening and closing dates; missing periods can be generated; none removed;
- questions: wording, help, order, whether required and choices; not their kind; none
  added or removed.

A closed scheme changes no more.
"""

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.schemes.services import offers, schedule
from claims_portal.schemes.services._common import (
    COMMISSIONER_KINDS,
    PROVIDER_KINDS,
    SchemeConflict,
    SchemeError,
    commissioner_scope,
    ensure_can_configure,
    financial_year_dates,
    financial_year_of,
    parse_money,
    plain,
    providers_in_scope,
)
from claims_portal.schemes.services.components import (
    COMPONENT_FIELDS,
    add_component,
    add_tariff,
    component_terms,
    edit_tariff,
    remove_component,
    remove_tariff,
    tariff_for_period,
    tariff_used_by_submitted_claim,
    tariff_warnings,
    update_component,
    update_tariff,
)
from claims_portal.schemes.services.questions import (
    QUESTION_FIELDS,
    add_question,
    remove_question,
    update_question,
)
from claims_portal.schemes.services.schemes import (
    LOCKED_WHEN_PUBLISHED,
    NOT_A_LISTED_PAYCODE,
    SCHEME_FIELDS,
    close_scheme,
    create_scheme,
    delete_scheme,
    paycode_listed,
    publication_problems,
    publish_scheme,
    update_scheme,
)
from claims_portal.schemes.services.windows import (
    add_window,
    generate_windows,
    remove_window,
    update_window,
)

__all__ = [
    "COMMISSIONER_KINDS",
    "COMPONENT_FIELDS",
    "LOCKED_WHEN_PUBLISHED",
    "NOT_A_LISTED_PAYCODE",
    "PROVIDER_KINDS",
    "QUESTION_FIELDS",
    "SCHEME_FIELDS",
    "PermissionDenied",
    "SchemeConflict",
    "SchemeError",
    "add_component",
    "add_question",
    "add_tariff",
    "add_window",
    "close_scheme",
    "commissioner_scope",
    "component_terms",
    "create_scheme",
    "delete_scheme",
    "edit_tariff",
    "ensure_can_configure",
    "financial_year_dates",
    "financial_year_of",
    "generate_windows",
    "offers",
    "parse_money",
    "paycode_listed",
    "plain",
    "providers_in_scope",
    "publication_problems",
    "publish_scheme",
    "remove_component",
    "remove_question",
    "remove_tariff",
    "remove_window",
    "schedule",
    "tariff_for_period",
    "tariff_used_by_submitted_claim",
    "tariff_warnings",
    "update_component",
    "update_question",
    "update_scheme",
    "update_tariff",
    "update_window",
]

"""The history the collector effect is estimated from, read from the store: cases each
collector worked (a contact logged) in the lookback, by bucket, and how many of them paid."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from cuishou.allocation.repository import history
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Contact, ContactPoint
from tests.factories import NOW, make_payment
from tests.web.factories import make_case, make_team, make_user


def test_history_counts_cases_worked_and_paid_per_collector_and_bucket(engine: Engine) -> None:
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        one = make_user(session, username="one", team=team)
        two = make_user(session, username="two", team=team)
        paying = make_case(session, bucket="M1")
        silent = make_case(session, bucket="M1")
        other = make_case(session, bucket="M3")
        for case, user, days_ago in [
            (paying, one, 5), (paying, one, 4),  # one case worked twice counts once
            (silent, one, 3), (other, two, 2), (silent, two, 200),  # too old
        ]:  # fmt: skip
            point = session.scalar(
                select(ContactPoint).where(ContactPoint.debtor_id == case.debtor_id)
            )
            assert point is not None
            at = NOW - timedelta(days=days_ago)
            session.add(Contact(case_id=case.id, contact_point_id=point.id, user_id=user.id,
                                channel="call", party="debtor", outcome="connected_debtor",
                                at=at, created_at=at))  # fmt: skip
        account = session.scalar(select(Account).where(Account.case_id == paying.id))
        assert account is not None
        make_payment(session, account=account, amount_fen=10_000, paid_at=NOW - timedelta(days=1))
        ids = (one.id, two.id)
    with transaction(engine) as session:
        rows = history(session, since=NOW - timedelta(days=90)).rows()
    assert rows == [(ids[0], "M1", 2, 1), (ids[1], "M3", 1, 0)]

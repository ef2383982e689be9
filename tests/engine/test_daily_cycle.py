"""The daily cycle on real stores (SQLite and PostgreSQL): DPD, buckets, movements,
cases, alerts, idempotent re-runs and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cuishou.engine.runner import CycleResult, run_daily_cycle
from cuishou.kit.errors import Conflict
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Alert, BucketHistory, Case, CycleRun, Event
from tests.factories import make_account, make_creditor, make_debtor, make_payment

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SNAPSHOT = date(2026, 11, 1)


def run(engine: Engine, day: date) -> CycleResult:
    return run_daily_cycle(engine, day, now=NOW)


def accounts_by_no(engine: Engine) -> dict[str, Account]:
    with transaction(engine) as session:
        return {a.account_no: a for a in session.scalars(select(Account))}


def table_dump(engine: Engine) -> dict[str, Any]:
    """Everything the cycle writes, minus ids and timestamps."""
    with transaction(engine) as session:
        return {
            "accounts": sorted(
                session.execute(
                    select(
                        Account.account_no,
                        Account.dpd,
                        Account.bucket,
                        Account.amount_tier,
                        Account.status,
                        Account.cycle_as_of,
                        Account.case_id,
                    )
                ).all()
            ),
            "history": sorted(
                session.execute(
                    select(
                        BucketHistory.account_id,
                        BucketHistory.as_of,
                        BucketHistory.dpd,
                        BucketHistory.bucket,
                        BucketHistory.prev_bucket,
                        BucketHistory.movement,
                        BucketHistory.status,
                    )
                ).all()
            ),
            "cases": sorted(
                session.execute(
                    select(
                        Case.id,
                        Case.status,
                        Case.accounts,
                        Case.due_fen,
                        Case.dpd,
                        Case.bucket,
                        Case.amount_tier,
                        Case.opened_on,
                        Case.closed_on,
                    )
                ).all()
            ),
            "alerts": sorted(
                session.execute(select(Alert.case_id, Alert.kind, Alert.raised_on)).all()
            ),
            "events": sorted(
                session.execute(
                    select(Event.type, Event.entity_id, func.count())
                    # one per run: cycle.completed, then cycle.rerun for each re-run
                    .where(Event.type.not_in(("cycle.completed", "cycle.rerun")))
                    .group_by(Event.type, Event.entity_id)
                ).all()
            ),
        }


def seed_aging_mix(session: Session) -> None:
    """Accounts whose DPD on 2026-11-01 is hand-computed in the account number."""
    creditor = make_creditor(session)
    make_account(session, creditor=creditor, account_no="DPD1", overdue_since=date(2026, 10, 31))
    make_account(session, creditor=creditor, account_no="DPD61", overdue_since=date(2026, 9, 1))
    make_account(session, creditor=creditor, account_no="DPD90", overdue_since=date(2026, 8, 3))
    make_account(session, creditor=creditor, account_no="DPD91", overdue_since=date(2026, 8, 2))
    make_account(session, creditor=creditor, account_no="DPD214", overdue_since=date(2026, 4, 1))
    make_account(
        session, creditor=creditor, account_no="PAIDUP", principal_fen=0, overdue_since=None
    )
    make_account(
        session,
        creditor=creditor,
        account_no="LATER",
        overdue_since=date(2026, 9, 1),
        snapshot_date=date(2026, 11, 20),
    )


def test_a_run_computes_dpd_buckets_and_tiers_as_hand_computed(engine: Engine) -> None:
    # given accounts of known age on the snapshot date
    with transaction(engine) as session:
        seed_aging_mix(session)
    # when the cycle runs for the snapshot date
    result = run(engine, SNAPSHOT)
    # then each account's DPD and bucket are as computed by hand
    got = {no: (a.dpd, a.bucket, a.status) for no, a in accounts_by_no(engine).items()}
    assert got["DPD1"] == (1, "M1", "open")
    assert got["DPD61"] == (61, "M3", "open")
    assert got["DPD90"] == (90, "M3", "open")
    assert got["DPD91"] == (91, "M4", "open")
    assert got["DPD214"] == (214, "M7+", "open")
    assert got["PAIDUP"] == (0, "M0", "settled")
    assert got["LATER"] == (0, "M0", "open")  # not yet in force: untouched
    assert accounts_by_no(engine)["DPD1"].amount_tier == "medium"  # ¥10,000.00
    assert result.accounts == 6
    assert result.excluded_not_yet_placed == 1
    assert result.buckets == {
        "M0": 1,
        "M1": 1,
        "M2": 0,
        "M3": 2,
        "M4": 1,
        "M5": 0,
        "M6": 0,
        "M7+": 1,
    }
    assert sum(result.buckets.values()) == result.accounts
    assert result.movements["new"] == 6
    assert result.cases == 6 and result.cases_opened == 6
    # and the account not yet in force gets no case, no history
    later = accounts_by_no(engine)["LATER"]
    assert later.case_id is None and later.cycle_as_of is None
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(BucketHistory)) == 6
        run_row = session.scalars(select(CycleRun)).one()
        assert run_row.as_of == SNAPSHOT and run_row.accounts == 6
        assert session.scalar(select(func.count()).where(Event.type == "cycle.completed")) == 1


def test_result_json_has_the_interface_keys(engine: Engine) -> None:
    with transaction(engine) as session:
        seed_aging_mix(session)
    data = run(engine, SNAPSHOT).to_json()
    assert data["as_of"] == "2026-11-01"
    assert {"as_of", "accounts", "cases", "buckets", "steps"} <= data.keys()
    assert [s["name"] for s in data["steps"]] == [
        "load",
        "agreements",
        "balances",
        "aging",
        "movements",
        "cases",
        "promises",
        "alerts",
        "write",
    ]
    assert all(set(s) == {"name", "rows", "seconds"} for s in data["steps"])
    assert sum(data["buckets"].values()) == data["accounts"]


def test_rerunning_the_same_date_changes_nothing_and_duplicates_nothing(engine: Engine) -> None:
    # given a store that has been cycled twice (so there is a previous state)
    with transaction(engine) as session:
        seed_aging_mix(session)
    run(engine, SNAPSHOT)
    first = run(engine, date(2026, 11, 2))
    before = table_dump(engine)
    # when the latest date is run again
    again = run(engine, date(2026, 11, 2))
    # then the decisions, counts and stored rows are identical
    assert table_dump(engine) == before
    assert again.buckets == first.buckets
    assert again.movements == first.movements
    assert again.cases_opened == first.cases_opened
    assert again.accounts_written == 0  # nothing differs from what is stored
    # and the re-run says it is one and raises nothing twice
    assert (first.rerun, again.rerun) == (False, True)
    assert set(again.alerts_raised.values()) == {0}
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(CycleRun)) == 2
        kinds = session.scalars(
            select(Event.type).where(Event.type.like("cycle.%")).order_by(Event.id)
        ).all()
        assert kinds == ["cycle.completed", "cycle.completed", "cycle.rerun"]


def test_a_later_date_rolls_forward_and_raises_entered_m4_plus(engine: Engine) -> None:
    # given an account at 90 DPD (M3) on the snapshot date
    with transaction(engine) as session:
        seed_aging_mix(session)
    run(engine, SNAPSHOT)
    # when the next day is cycled (91 DPD)
    result = run(engine, date(2026, 11, 2))
    # then it rolled forward into M4 and its case got an entered_m4_plus alert
    account = accounts_by_no(engine)["DPD90"]
    assert (account.dpd, account.bucket) == (91, "M4")
    with transaction(engine) as session:
        moves = session.execute(
            select(BucketHistory.as_of, BucketHistory.movement, BucketHistory.prev_bucket)
            .where(BucketHistory.account_id == account.id)
            .order_by(BucketHistory.as_of)
        ).all()
        assert moves == [(SNAPSHOT, "new", None), (date(2026, 11, 2), "roll_forward", "M3")]
        alerts = session.execute(
            select(Alert.case_id, Alert.kind, Alert.raised_on, Alert.details).where(
                Alert.kind == "entered_m4_plus", Alert.raised_on == date(2026, 11, 2)
            )
        ).all()
        assert [a[:3] for a in alerts] == [(account.case_id, "entered_m4_plus", date(2026, 11, 2))]
        assert alerts[0].details["reason"] == "rolled"
        raised = session.scalar(
            select(func.count()).where(
                Event.type == "alert.raised", Event.case_id == account.case_id
            )
        )
        assert raised == 1
        # and the accounts placed already in M4+ raised it on first sight, saying so
        placed = session.execute(
            select(Alert.raised_on, Alert.details).where(Alert.kind == "entered_m4_plus")
        ).all()
        first_sight = [d for on, d in placed if on == SNAPSHOT]
        assert len(first_sight) == 2 and {d["reason"] for d in first_sight} == {"placed"}
    assert result.alerts_raised["entered_m4_plus"] == 1
    # and the M1 account (1 → 2 DPD) stayed: no history row for it on 11-02
    assert result.movements["roll_forward"] == 1
    assert result.movements["same"] == 5


def test_legal_review_candidate_is_raised_once(engine: Engine) -> None:
    with transaction(engine) as session:
        seed_aging_mix(session)
    first = run(engine, SNAPSHOT)
    second = run(engine, date(2026, 11, 2))
    assert first.alerts_raised["legal_review_candidate"] == 1
    assert second.alerts_raised["legal_review_candidate"] == 0
    with transaction(engine) as session:
        rows = session.execute(
            select(Alert.kind, Alert.raised_on).where(Alert.kind == "legal_review_candidate")
        ).all()
        assert rows == [("legal_review_candidate", SNAPSHOT)]


def test_an_acknowledged_legal_review_alert_is_not_raised_again(engine: Engine) -> None:
    # given a legal review alert the team lead has acknowledged (still being handled)
    with transaction(engine) as session:
        seed_aging_mix(session)
    run(engine, SNAPSHOT)
    with transaction(engine) as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "legal_review_candidate")).one()
        alert.status = "acknowledged"
    # when the next day is cycled, then no second alert is raised
    second = run(engine, date(2026, 11, 2))
    assert second.alerts_raised["legal_review_candidate"] == 0


def test_payments_move_dpd_through_installments_in_the_creditors_zone(engine: Engine) -> None:
    # given an installment account: 3 × ¥1,000.00 unpaid, oldest due 2026-08-31
    with transaction(engine) as session:
        account = make_account(
            session,
            account_no="INST",
            principal_fen=300_000,
            installment_fen=100_000,
            overdue_since=date(2026, 8, 31),
        )
        # paid 2026-11-02 01:00 in Shanghai (still 11-01 in UTC)
        make_payment(
            session,
            account=account,
            amount_fen=100_000,
            paid_at=datetime(2026, 11, 1, 17, 0, tzinfo=UTC),
        )
        # paid on the snapshot date itself: already in the snapshot, never counted
        make_payment(
            session,
            account=account,
            amount_fen=50_000,
            paid_at=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        )
    run(engine, SNAPSHOT)
    assert accounts_by_no(engine)["INST"].dpd == 62  # 08-31 → 11-01
    # when the day of the payment is cycled: the oldest unpaid is now 2026-09-30 (clamped)
    result = run(engine, date(2026, 11, 2))
    got = accounts_by_no(engine)["INST"]
    assert (got.dpd, got.bucket) == (33, "M2")
    assert result.movements["roll_back"] == 1


def test_paying_off_every_account_closes_the_case(engine: Engine) -> None:
    # given one debtor with two accounts (共债) in one case
    with transaction(engine) as session:
        creditor = make_creditor(session)
        debtor = make_debtor(session)
        a = make_account(session, creditor=creditor, debtor=debtor, account_no="A1")
        b = make_account(
            session, creditor=creditor, debtor=debtor, account_no="A2", principal_fen=200_000
        )
        a_id, b_id = a.id, b.id
    first = run(engine, SNAPSHOT)
    assert first.cases == 1
    case_id = accounts_by_no(engine)["A1"].case_id
    assert case_id is not None and accounts_by_no(engine)["A2"].case_id == case_id
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.accounts, case.due_fen, case.dpd, case.bucket) == (2, 1_200_000, 61, "M3")
        for account_id, amount in ((a_id, 1_000_000), (b_id, 200_000)):
            make_payment(
                session,
                account=session.get(Account, account_id),
                amount_fen=amount,
                paid_at=datetime(2026, 11, 3, 2, 0, tzinfo=UTC),
            )
    # when the day after the payments is cycled
    result = run(engine, date(2026, 11, 4))
    # then the case is closed with a case.closed event and history says settled
    assert result.cases_closed == 1
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.status, case.closed_on, case.due_fen, case.dpd) == (
            "closed",
            date(2026, 11, 4),
            0,
            0,
        )
        closed = session.scalars(
            select(Event.type).where(
                Event.entity_type == "case",
                Event.entity_id == case_id,
                ~Event.type.startswith("case.label_"),  # its customer labels (scoring)
            )
        ).all()
        assert sorted(closed) == ["case.closed", "case.opened"]
        movements = session.scalars(
            select(BucketHistory.movement).where(BucketHistory.as_of == date(2026, 11, 4))
        ).all()
        assert movements == ["settled", "settled"]
    # and re-running the date adds no second case.closed
    run(engine, date(2026, 11, 4))
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).where(Event.type == "case.closed")) == 1


def test_an_earlier_date_than_the_last_run_is_refused_and_writes_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        seed_aging_mix(session)
    run(engine, date(2026, 11, 5))
    before = table_dump(engine)
    with pytest.raises(Conflict, match="2026-11-05"):
        run(engine, date(2026, 11, 4))
    assert table_dump(engine) == before


def test_an_empty_store_reports_zero_and_writes_nothing(engine: Engine) -> None:
    result = run(engine, SNAPSHOT)
    assert result.accounts == 0 and result.note is not None
    assert set(result.buckets) == {"M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"}
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(CycleRun)) == 0


def test_new_cases_take_fresh_ids_and_link_events_and_alerts_to_their_own_case(
    engine: Engine,
) -> None:
    # given a case already in the store that the cycle did not create (ids taken),
    # and two new debtors, one of them 200 days past due
    with transaction(engine) as session:
        creditor = make_creditor(session)
        other = make_debtor(session, name="王芳")
        session.add(
            Case(
                creditor_id=creditor.id,
                debtor_id=other.id,
                status="open",
                opened_on=date(2026, 10, 1),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        taken = session.scalars(select(Case.id)).all()
        make_account(session, creditor=creditor, account_no="LATE", overdue_since=date(2026, 4, 15))
        make_account(session, creditor=creditor, account_no="EARLY")
    # when the cycle sees them first
    run(engine, SNAPSHOT)
    # then each account's case is new, distinct, and holds that debtor
    got = accounts_by_no(engine)
    late, early = got["LATE"].case_id, got["EARLY"].case_id
    assert late is not None and early is not None
    assert late != early and late not in taken and early not in taken
    with transaction(engine) as session:
        for account in got.values():
            case = session.get(Case, account.case_id)
            assert case is not None and case.debtor_id == account.debtor_id
        # and the opening events and the legal-review alert point at the right case
        opened = session.execute(
            select(Event.entity_id, Event.case_id).where(Event.type == "case.opened")
        ).all()
        assert sorted(opened) == sorted([(late, late), (early, early)])
        alerts = session.execute(select(Alert.case_id, Alert.kind)).all()
        assert sorted(alerts) == [(late, "entered_m4_plus"), (late, "legal_review_candidate")]

"""Importing a dialer's call results on real stores: mapping, party, quarantine, idempotency,
compliance judged across the store and the file, and the same effects as logging one by one."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cuishou.auth.rules import Principal
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import log_contact
from cuishou.promises.schemas import PromiseIn
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Alert,
    Contact,
    ContactPoint,
    Event,
    ImportFile,
    Promise,
    Task,
    User,
)
from tests.contact.dialer_files import (
    DEBTOR_NUMBER,
    THIRD_NUMBER,
    call_row,
    contacts_of,
    effects,
    local,
    make_world,
    run,
    write_csv,
    write_xlsx,
)
from tests.factories import NOW


def quarantine(path: Path) -> dict[int, tuple[str, str]]:
    target = path.with_name(path.name + ".quarantine.csv")
    with target.open(encoding="utf-8-sig") as handle:
        return {int(r["row"]): (r["reason"], r["reason_zh"]) for r in csv.DictReader(handle)}


def table_counts(engine: Engine) -> dict[str, int]:
    with transaction(engine) as session:
        return {
            table.__name__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Contact, Event, Alert, Promise, Task, ImportFile)
        }


def test_a_gbk_csv_and_a_workbook_are_read(engine: Engine, tmp_path: Path) -> None:
    # given two cases and the same kind of calls in a GBK CSV and in an XLSX workbook
    _, (one, two) = make_world(engine, cases=2)
    first = call_row(one.account_no, "G1", "2026-11-01 09:00:00", "无人接听")
    gbk = write_csv(tmp_path / "话单.csv", [first], encoding="gbk")
    book = write_xlsx(
        tmp_path / "calls.xlsx", [call_row(two.account_no, "X1", "2026-11-01 09:05:00", "关机")]
    )
    # when both are imported
    result = run(engine, gbk, book)
    # then each call is a contact with its mapped outcome
    assert (result.rows, result.accepted, result.quarantined, result.errors) == (2, 2, 0, [])
    assert [f.encoding for f in result.files] == ["gb18030", "xlsx"]
    with transaction(engine) as session:
        assert [c.outcome for c in contacts_of(session, one.case_id)] == ["no_answer"]
        assert [c.outcome for c in contacts_of(session, two.case_id)] == ["powered_off"]


def test_result_codes_map_to_outcomes_and_the_number_tells_who_was_reached(
    engine: Engine, tmp_path: Path
) -> None:
    _, (ref,) = make_world(engine)
    rows = [
        call_row(ref.account_no, "M1", "2026-11-01 09:00:00", "ANSWERED"),
        call_row(ref.account_no, "M2", "2026-11-01 09:01:00", " answered ", number=THIRD_NUMBER),
        call_row(ref.account_no, "M3", "2026-11-01 09:02:00", "拒绝还款"),
        call_row(ref.account_no, "M4", "2026-11-01 09:03:00", "refused", number=THIRD_NUMBER),
        call_row(ref.account_no, "M5", "2026-11-01 09:04:00", "空号", number="+86 138-1234-1234",
                 duration=""),
    ]  # fmt: skip
    result = run(engine, write_csv(tmp_path / "calls.csv", rows))
    assert result.accepted == 5
    with transaction(engine) as session:
        got = [(c.external_id, c.outcome, c.party, c.duration_seconds)
               for c in contacts_of(session, ref.case_id)]  # fmt: skip
        point = session.scalar(
            select(ContactPoint).where(ContactPoint.debtor_id == ref.debtor_id,
                                       ContactPoint.value == DEBTOR_NUMBER)
        )  # fmt: skip
        assert point is not None and point.status == "invalid"
    assert got == [
        ("M1", "connected_debtor", "debtor", 30),
        ("M2", "connected_third_party", "third_party", 30),
        ("M3", "refused", "debtor", 30),
        ("M4", "refused", "third_party", 30),
        ("M5", "invalid_number", "none", None),
    ]
    assert result.alerts.get("refusal") == 1


def test_bad_rows_are_quarantined_with_their_reasons(engine: Engine, tmp_path: Path) -> None:
    _, (ref,) = make_world(engine)
    no = ref.account_no
    rows = [
        call_row(no, "OK1", "2026-11-01 09:00:00", "NO_ANSWER"),  # row 2: fine
        call_row("NOPE", "Q1", "2026-11-01 09:00:00", "NO_ANSWER"),  # 3 unknown account
        call_row(no, "Q2", "2026-11-01 09:00:00", "NO_ANSWER", agent="ghost"),  # 4
        call_row(no, "Q3", "2026-11-01 09:00:00", "BEEP"),  # 5 unknown code
        call_row(no, "Q4", "yesterday-ish", "NO_ANSWER"),  # 6 bad time
        call_row(no, "Q5", "2026-11-01 10:06:00", "NO_ANSWER"),  # 7 beyond the clock skew
        call_row(no, "", "2026-11-01 09:00:00", "NO_ANSWER"),  # 8 no call id
        call_row(no, "Q7", "2026-11-01 09:00:00", "PTP", amount="100.00"),  # 9 no date
        call_row(no, "Q8", "2026-11-01 09:00:00", "NO_ANSWER", amount="1.00"),  # 10
        call_row(no, "Q9", "2026-11-01 09:00:00", "NO_ANSWER", number="13700000000"),  # 11
        call_row(no, "OK1", "2026-11-01 09:00:00", "NO_ANSWER"),  # 12 duplicate
        call_row(no, "Q10", "2026-11-01 09:00:00", "NO_ANSWER", duration="1m"),  # 13
        call_row(no, "Q11", "2026-11-01 09:00:00", "PTP", amount="99999999.00",
                 due="2026-11-05"),  # 14 more than the case owes
    ]  # fmt: skip
    path = write_csv(tmp_path / "calls.csv", rows)
    result = run(engine, path)
    assert (result.rows, result.accepted, result.quarantined) == (13, 1, 12)
    reasons = quarantine(path)
    expected = {
        3: ("unknown account", "未知借据"),
        4: ("unknown agent", "未知坐席"),
        5: ("unknown result code BEEP", "未知的呼叫结果代码"),
        6: ("is not a date and time", "不是有效时间"),
        7: ("cannot be logged in the future", "不能晚于当前时间"),
        8: ("call_id (话单号) is missing", "缺少call_id"),
        9: ("promise_date (承诺日期) is missing", "缺少promise_date"),
        10: ("is given but result NO_ANSWER is not a promise", "不是承诺还款"),
        11: ("not a phone of the debtor", "不是借据"),
        12: ("duplicate call_id (话单号) OK1: first given in row 2", "重复"),
        13: ("is not a whole number of seconds", "不是整数秒"),
        14: ("more than the case's total due", "承诺还款不能记录"),
    }
    assert set(reasons) == set(expected)
    for row, (en, zh) in expected.items():
        assert en in reasons[row][0] and zh in reasons[row][1], (row, reasons[row])
    with transaction(engine) as session:
        assert [c.external_id for c in contacts_of(session, ref.case_id)] == ["OK1"]


def test_importing_the_same_file_again_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    _, (ref,) = make_world(engine)
    rows = [
        call_row(ref.account_no, "R1", "2026-11-01 07:30:00", "NO_ANSWER"),  # a violation
        call_row(ref.account_no, "R2", "2026-11-01 08:30:00", "NO_ANSWER"),
        call_row(ref.account_no, "R3", "2026-11-01 08:40:00", "NO_ANSWER"),  # three failed
        call_row(ref.account_no, "R4", "2026-11-01 09:30:00", "PTP", amount="100.00",
                 due="2026-11-05"),
        call_row(ref.account_no, "R5", "2026-11-01 09:30:00", "BEEP"),  # quarantined
    ]  # fmt: skip
    path = write_csv(tmp_path / "calls.csv", rows)
    first = run(engine, path)
    assert (first.created, first.unchanged, first.quarantined, first.violations) == (4, 0, 1, 1)
    assert first.promises == 1
    before = table_counts(engine)
    second = run(engine, path, now=NOW + timedelta(hours=1))
    assert (second.created, second.unchanged, second.quarantined) == (0, 4, 1)
    assert (second.violations, second.promises, second.alerts) == (0, 0, {})
    assert table_counts(engine) == before
    # the same calls under another source name are other calls
    third = run(engine, path, source="dialer-2")
    assert third.created == 4


def test_a_call_the_gate_would_refuse_is_recorded_as_a_violation_and_alerted(
    engine: Engine, tmp_path: Path
) -> None:
    _, (ref,) = make_world(engine)
    rows = [
        call_row(ref.account_no, "V1", "2026-11-01 07:30:00", "NO_ANSWER"),  # before 08:00
        call_row(ref.account_no, "V2", "2026-11-01 09:00:00", "ANSWERED", number=THIRD_NUMBER),
        call_row(ref.account_no, "V3", "2026-11-01 09:10:00", "NO_ANSWER"),
    ]  # fmt: skip
    result = run(engine, write_csv(tmp_path / "calls.csv", rows))
    # judged, not refused: every call is a contact
    assert (result.created, result.violations) == (3, 2)
    with transaction(engine) as session:
        ids = {c.external_id: c.id for c in contacts_of(session, ref.case_id)}
        violations = {
            e.entity_id: e.payload["rules"]
            for e in session.scalars(select(Event).where(Event.type == "compliance.violation"))
        }
        alerts = list(session.scalars(select(Alert).where(Alert.case_id == ref.case_id)))
    # outside hours (CN-01); a third party while the debtor was not yet unreachable (CN-08)
    assert violations == {ids["V1"]: ["CN-01"], ids["V2"]: ["CN-08"]}
    # one open violation alert per case, naming the first violation
    assert [(a.kind, a.details["contact_id"]) for a in alerts] == [
        ("compliance_violation", ids["V1"])
    ]


def test_frequency_counts_the_stored_contacts_and_the_earlier_rows_of_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    # given four unanswered calls on the debtor's number today, logged on the workbench
    world, (ref,) = make_world(engine)
    col_a = world.users["col_a"]
    principal = Principal(col_a.id, col_a.username, col_a.role, col_a.team_id, col_a.agency_id)
    with transaction(engine) as session:
        point = session.scalar(
            select(ContactPoint.id).where(
                ContactPoint.debtor_id == ref.debtor_id, ContactPoint.value == DEBTOR_NUMBER
            )
        )
        assert point is not None
        for minute in range(4):
            log_contact(session, principal, ref.case_id, ContactIn(
                contact_point_id=point, channel="call", outcome="no_answer",
                at=local(f"08:0{minute}")), now=NOW)  # fmt: skip
    # when a file brings three more (the cap is 6 unanswered a day on a number, CN-03)
    rows = [
        call_row(ref.account_no, f"F{n}", f"2026-11-01 09:0{n}:00", "NO_ANSWER") for n in range(3)
    ]
    result = run(engine, write_csv(tmp_path / "calls.csv", rows))
    # then only the seventh of the day breaks it: 4 stored + 2 earlier rows before it
    assert result.violations == 1
    with transaction(engine) as session:
        ids = {c.external_id: c.id for c in contacts_of(session, ref.case_id)}
        flagged = {
            e.entity_id: e.payload["rules"]
            for e in session.scalars(select(Event).where(Event.type == "compliance.violation"))
        }
    assert flagged == {ids["F2"]: ["CN-03"]}


#: scenarios: (number, outcome, local time, promise) in time order
SCENARIOS = {
    "three failed, then a relative, then a refusal": [
        ("debtor", "no_answer", "08:10", None),
        ("debtor", "powered_off", "08:20", None),
        ("debtor", "rejected", "08:30", None),
        ("third", "connected_third_party", "08:40", None),
        ("debtor", "refused", "09:00", None),
    ],
    "outside hours and over the daily cap": [
        ("debtor", "no_answer", "07:30", None),
        *[("debtor", "no_answer", f"08:{10 + n}", None) for n in range(7)],
    ],
    "a promise, then 空号, then the relative": [
        ("debtor", "promise", "08:05", ("250.00", date(2026, 11, 6))),
        ("debtor", "invalid_number", "08:15", None),
        ("third", "no_answer", "08:25", None),
        ("third", "connected_third_party", "08:35", None),
        ("third", "negotiating", "08:45", None),
    ],
    "a third party first, the debtor reachable": [
        ("third", "connected_third_party", "09:00", None),
        ("debtor", "connected_debtor", "09:10", None),
        ("debtor", "complaint", "09:20", None),
        ("debtor", "lost_contact", "09:30", None),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_an_imported_call_has_the_effects_of_the_same_call_logged_on_the_workbench(
    engine: Engine, tmp_path: Path, name: str
) -> None:
    # given two identical cases
    world, (logged, imported) = make_world(engine, cases=2)
    col_a = world.users["col_a"]
    principal = Principal(col_a.id, col_a.username, col_a.role, col_a.team_id, col_a.agency_id)
    calls = SCENARIOS[name]
    # when one case's calls are logged one by one through contact.service …
    with transaction(engine) as session:
        points = {
            p.owner: p.id
            for p in session.scalars(
                select(ContactPoint).where(ContactPoint.debtor_id == logged.debtor_id)
            )
        }
        for number, outcome, hhmm, promise in calls:
            log_contact(session, principal, logged.case_id, ContactIn(
                contact_point_id=points["debtor" if number == "debtor" else "third_party"],
                channel="call", outcome=outcome, at=local(hhmm),
                promise=PromiseIn(amount=promise[0], due_date=promise[1]) if promise else None,
            ), now=NOW)  # fmt: skip
    # … and the other's come in a dialer file
    rows = [
        call_row(imported.account_no, f"E{i}", f"2026-11-01 {hhmm}:00", outcome,
                 number=DEBTOR_NUMBER if number == "debtor" else THIRD_NUMBER,
                 amount=promise[0] if promise else "",
                 due=promise[1].isoformat() if promise else "")
        for i, (number, outcome, hhmm, promise) in enumerate(calls)
    ]  # fmt: skip
    result = run(engine, write_csv(tmp_path / "calls.csv", rows))
    assert result.accepted == len(calls)
    # then both cases have the same contacts, events, alerts, promises, tasks and numbers
    with transaction(engine) as session:
        assert session.scalar(select(User.id).where(User.username == "col_a")) == col_a.id
        expected = effects(session, logged.case_id)
        got = effects(session, imported.case_id)
    for part in expected:
        assert got[part] == expected[part], part

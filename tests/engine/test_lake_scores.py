"""Scores, grades, labels and segments made off the store (a lake on one machine, and Spark
``local[2]``) are the store's own, row for row (ADR 0035).

A store is cycled once with the starter champion and the shipped default strategy in force,
a day of payments, a contact, a hold and a new debtor is added, the store is exported, and
the next day is run three ways: on the store (``run_daily_cycle``: cycle, then scoring and
planning), on the lake on one machine, and on the lake on Spark. Cases new that day have no
id in a lake run: they are matched by their key (creditor, debtor).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select

from cuishou.engine.after import NO_MODELS, NO_STRATEGY, OFF_STORE
from cuishou.engine.lake import export_lake, read_after, run_lake_cycle
from cuishou.engine.runner import run_daily_cycle
from cuishou.ledger import service as ledger
from cuishou.ledger.repository import ENTRY_SCHEMA
from cuishou.scoring.service import install_starter
from cuishou.store.bulk import BulkStore
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Account,
    Agreement,
    AgreementInstallment,
    Case,
    Contact,
    ContactHold,
    Creditor,
    StrategyVersion,
)
from cuishou.strategy.definition import text_sha256
from tests.engine.test_spark import DAY1, DAY2, add_day_two, seed, spark  # noqa: F401
from tests.factories import make_account, make_debtor, make_payment
from tests.web.factories import make_contact_point, make_user

NOW = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
PACK = Path(__file__).parents[2] / "src/cuishou/strategy/packs/default.yaml"


def _strategy(session: Any) -> None:
    body = PACK.read_text(encoding="utf-8")
    session.add(
        StrategyVersion(
            code="default", version=1, zh="默认", en="Default", body=body,
            sha256=text_sha256(body), status="active", note="", author="ann",
            created_at=NOW, approved_by="bob", approved_at=NOW, effective_from=DAY1,
            activated_by="bob", activated_at=NOW,
        )
    )  # fmt: skip


def _world(engine: Engine) -> None:
    """The store of ``test_spark.seed``, cycled on DAY1 with a champion and a strategy, then
    DAY2's payments and promise, a contact with a hardship note, a dispute hold, contact
    points, and a debtor placed for DAY2 (a case new that day)."""
    seed(engine)
    with transaction(engine) as session:
        install_starter(session, actor="test", now=NOW)
        _strategy(session)
        # people in debt with both creditors (共债): their cases meet in one partition
        bank, far = session.scalars(select(Creditor).order_by(Creditor.id)).all()
        for index in range(8):
            person = make_debtor(session)
            for creditor in (bank, far)[: 1 + index % 2]:
                make_account(
                    session, creditor=creditor, debtor=person,
                    principal_fen=50_000 * (index + 1) + 7_000 * creditor.id,
                    installment_fen=10_000 * (index % 3),
                    overdue_since=date.fromordinal(DAY1.toordinal() - 10 - 23 * index),
                )  # fmt: skip
    run_daily_cycle(engine, DAY1, now=NOW)
    add_day_two(engine)
    with transaction(engine) as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        user = make_user(session, username="agent")
        for case in cases[:3]:
            make_contact_point(session, debtor_id=case.debtor_id)
        point = make_contact_point(session, debtor_id=cases[1].debtor_id, kind="mobile")
        session.flush()
        session.add(
            Contact(
                case_id=cases[1].id, contact_point_id=point.id, user_id=user.id,
                channel="call", party="debtor", outcome="refused",
                notes="失业了，没钱还 lost my job", at=datetime(2026, 11, 15, 3, tzinfo=UTC),
                created_at=datetime(2026, 11, 15, 3, tzinfo=UTC),
            )
        )  # fmt: skip
        session.add(
            ContactHold(
                debtor_id=cases[2].debtor_id, case_id=cases[2].id, kind="dispute",
                reason="disputes the amount", opened_at=datetime(2026, 11, 12, 2, tzinfo=UTC),
                opened_by=user.username,
            )
        )  # fmt: skip
        # a plan on a case of two accounts, paid in full on the 6th: completed on DAY2, what
        # remains written off by the import (the ledger moves at D)
        planned = cases[3]
        _plan(session, planned.id, user.id, amount_fen=30_000)
        paying = session.scalars(
            select(Account).where(Account.case_id == planned.id).order_by(Account.id)
        ).first()
        assert paying is not None
        make_payment(
            session, account=paying, amount_fen=30_000,
            paid_at=datetime(2026, 11, 6, 2, tzinfo=UTC),
        )  # fmt: skip
        # a plan with a waiver, its instalment missed: broken on DAY2, the waiver put back
        broken = _plan(session, cases[4].id, user.id, amount_fen=50_000)
        waived = session.scalars(
            select(Account.id).where(Account.case_id == cases[4].id).order_by(Account.id)
        ).first()
        home = session.get(Creditor, cases[0].creditor_id)
        assert home is not None
        newcomer = make_debtor(session)
        make_account(
            session, creditor=home, debtor=newcomer, principal_fen=300_000,
            overdue_since=date(2026, 10, 1), snapshot_date=DAY2,
        )  # fmt: skip
    assert waived is not None
    with BulkStore(engine).write() as bulk:
        ledger.post(
            bulk,
            pl.DataFrame(
                [(waived, "waiver", 0, 0, 0, -20_000, 0, date(2026, 11, 2), "agreement",
                  broken, None, "bob", "plan waiver")],
                schema=ENTRY_SCHEMA, orient="row",
            ),
            now=NOW,
        )  # fmt: skip


def _plan(session: Any, case_id: int, user_id: int, *, amount_fen: int) -> int:
    """A running plan of one instalment due on the 8th, broken 5 days after a miss."""
    plan = Agreement(
        case_id=case_id, kind="instalment", status="approved", owed_fen=100_000,
        agreed_fen=amount_fen, required_level="collector", terms={}, requested_by=user_id,
        requested_at=datetime(2026, 11, 2, 2, tzinfo=UTC), decided_by=user_id,
        decided_at=datetime(2026, 11, 2, 3, tzinfo=UTC), break_after_days=5,
        reinstate_on_break=True,
    )  # fmt: skip
    session.add(plan)
    session.flush()
    session.add(
        AgreementInstallment(
            agreement_id=plan.id, seq=1, due_date=date(2026, 11, 8), amount_fen=amount_fen
        )
    )
    return int(plan.id)


def _keys(engine: Engine) -> dict[int, tuple[int, int]]:
    with BulkStore(engine).read() as bulk:
        frame = bulk.fetch(
            "SELECT id, creditor_id, debtor_id FROM cases",
            {"id": pl.Int64(), "creditor_id": pl.Int64(), "debtor_id": pl.Int64()},
        )
    return {int(i): (int(c), int(d)) for i, c, d in frame.rows()}


def _stored(engine: Engine, day: date) -> dict[str, set[tuple[Any, ...]]]:
    """The store's scores, grades, labels and segments by case key (a segment's row only
    where ``day`` changed it)."""
    keys = _keys(engine)
    with BulkStore(engine).read() as bulk:
        scores = bulk.fetch(
            "SELECT case_id, target, version, score FROM case_scores",
            {"case_id": pl.Int64(), "target": pl.String(), "version": pl.String(),
             "score": pl.Int64()},
        )  # fmt: skip
        grades = bulk.fetch(
            "SELECT id AS case_id, risk_grade FROM cases WHERE status = 'open'",
            {"case_id": pl.Int64(), "risk_grade": pl.String()},
        )
        labels = bulk.fetch(
            "SELECT case_id, code FROM case_labels", {"case_id": pl.Int64(), "code": pl.String()}
        )
        # the row that put a case in its segment is rewritten only when the segment changes
        segments = bulk.fetch(
            """SELECT case_id, segment, CASE WHEN updated_on = :day THEN rule_no END AS rule_no,
                since, version_id FROM case_segments""",
            {"case_id": pl.Int64(), "segment": pl.String(), "rule_no": pl.Int64(),
             "since": pl.Date(), "version_id": pl.Int64()},
            day=day,
        )  # fmt: skip
    return {
        "scores": {(keys[c], t, v, s) for c, t, v, s in scores.rows()},
        "grades": {(keys[c], g) for c, g in grades.rows() if g},
        "labels": {(keys[c], code) for c, code in labels.rows()},
        "segments": {(keys[c], s, r, d, v) for c, s, r, d, v in segments.rows()},
    }


def _decided(root: Path) -> dict[str, set[tuple[Any, ...]]]:
    """A lake run's scores, grades, labels and segments by case key."""
    after = read_after(root)

    def key(row: dict[str, Any]) -> tuple[int, int]:
        return (row["creditor_id"], row["debtor_id"])

    scores = after["scores"].to_dicts()
    return {
        "scores": {(key(r), r["target"], r["version"], r["score"]) for r in scores},
        "grades": {(key(r), r["risk_grade"]) for r in scores if r["risk_grade"]},
        "labels": {(key(r), r["code"]) for r in after["labels"].to_dicts()},
        "segments": {_segment_row(r) for r in after["segments"].to_dicts()},
    }


def _segment_row(row: dict[str, Any]) -> tuple[Any, ...]:
    """A lake segment as the store keeps it: the rule row only when the segment changed."""
    rule = row["rule_no"] if row["changed"] else None
    key = (row["creditor_id"], row["debtor_id"])
    return (key, row["segment"], rule, row["since"], row["version_id"])


def _no_rules(found: dict[str, set[tuple[Any, ...]]]) -> dict[str, set[tuple[Any, ...]]]:
    return {**found, "segments": {(k, s, d, v) for k, s, _, d, v in found["segments"]}}


def _store_case_ids(root: Path) -> set[Any]:
    return set(read_after(root)["scores"].get_column("case_id").to_list())


@pytest.fixture
def lake(engine: Engine, tmp_path: Path) -> dict[str, Any]:
    """The world exported before DAY2, then DAY2 run on the store."""
    _world(engine)
    export_lake(engine, tmp_path / "lake", strategy_day=DAY2)
    result = run_daily_cycle(engine, DAY2, now=NOW, allocation=False)
    return {"root": tmp_path / "lake", "store": _stored(engine, DAY2), "result": result}


def test_one_machine_on_a_lake_scores_and_segments_as_the_store(
    lake: dict[str, Any], tmp_path: Path
) -> None:
    # when DAY2 is run on the exported lake on one machine
    result = run_lake_cycle(lake["root"], tmp_path / "one", DAY2, _config())
    decided = _decided(tmp_path / "one")
    stored = lake["store"]
    # then every score, grade, label and segment is the store's, case for case
    assert decided == stored
    # and the day exercised them: grades of several kinds, labels, segments, a new case
    assert len({g for _, g in stored["grades"]}) >= 3
    assert {code for _, code in stored["labels"]} >= {"hardship", "dispute"}
    assert len({s for _, s, *_ in stored["segments"]}) >= 3
    assert None in _store_case_ids(tmp_path / "one")  # a new case, keyed by (creditor, debtor)
    assert result.agreements_judged == {"completed": 1, "broken": 1}
    features = read_after(tmp_path / "one")["labels"]
    assert features.height == len(stored["labels"])
    # and the run's summary says what was scored and segmented, as the store's does
    store = lake["result"]
    assert result.scoring is not None and result.strategy is not None
    assert set(store.scoring["drift"]) == {"pay_30d-scorecard-starter"}
    for key in ("cases", "scored", "grades", "grades_changed", "labels", "labels_given",
                "labels_removed", "drift"):  # fmt: skip
        assert result.scoring[key] == store.scoring[key], key
    for key in ("strategy", "cases", "unsegmented", "conflicts", "segments", "segments_changed"):
        assert result.strategy[key] == store.strategy[key], key
    run = json.loads((tmp_path / "one" / "run.json").read_text())
    assert run["scoring"]["grades"] == store.scoring["grades"]


@pytest.mark.parametrize("layout", ["bucketed", "shuffled"])
def test_spark_scores_and_segments_as_the_store(
    spark: Any,  # noqa: F811
    lake: dict[str, Any],
    tmp_path: Path,
    layout: str,
) -> None:
    from cuishou.engine.spark import run_spark_cycle

    # given the exported lake in 5 buckets by debtor, or as a data platform writes it
    root = tmp_path / layout
    _relayout(lake["root"], root, buckets=5 if layout == "bucketed" else None)
    # when DAY2 is run on it on Spark, three tasks
    result, _ = run_spark_cycle(root, tmp_path / "spark", DAY2, partitions=3)
    # then the grades (cut by share across the partitions) and everything else are the store's
    assert _decided(tmp_path / "spark") == lake["store"]
    store = lake["result"]
    assert result.scoring is not None and result.strategy is not None
    assert result.scoring["grades"] == store.scoring["grades"]
    assert result.scoring["drift"] == store.scoring["drift"]  # PSI of the partitions' counts
    assert result.strategy["segments"] == store.strategy["segments"]


def _relayout(source: Path, target: Path, *, buckets: int | None) -> None:
    """The lake at ``source`` written again at ``target``: in ``buckets`` by debtor, or
    one folder a table (no bucket manifest), with its models and strategy."""
    from cuishou.engine.after import AFTER_TABLES, MODELS_DIR, SCORING_FILE, STRATEGY_FILE
    from cuishou.engine.lake import LAKE_TABLES, read_table, write_tables

    schemas = {**LAKE_TABLES, **AFTER_TABLES}
    write_tables(target, {n: read_table(source, n, s) for n, s in schemas.items()}, buckets=buckets)
    shutil.copytree(source / MODELS_DIR, target / MODELS_DIR)
    for name in (SCORING_FILE, STRATEGY_FILE):
        shutil.copy(source / name, target / name)


def test_a_lake_without_models_runs_the_cycle_and_says_it_scored_nothing(
    lake: dict[str, Any], tmp_path: Path
) -> None:
    # given a lake as a data platform writes it: the cycle's tables only
    root = lake["root"]
    for extra in ("scoring.json", "strategy.json"):
        (root / extra).unlink()
    # when a day is run on it
    result = run_lake_cycle(root, tmp_path / "bare", DAY2, _config())
    # then the cycle ran, nothing was scored or segmented, and the summary says why
    assert result.accounts > 0
    assert result.scoring is not None and result.scoring["note"] == NO_MODELS
    assert result.scoring["grades"] == {}
    assert result.strategy is not None and result.strategy["note"] == NO_STRATEGY
    assert all(frame.height == 0 for frame in read_after(tmp_path / "bare").values())


def _config() -> Any:
    from cuishou.engine.config import DEFAULT_CONFIG

    return DEFAULT_CONFIG


def test_experiment_arms_of_stored_cases_are_the_stores_and_a_new_case_waits_for_its_id(
    engine: Engine, tmp_path: Path
) -> None:
    from cuishou.experiments.service import start_experiment
    from cuishou.store.tables import ExperimentCase

    # given the world with a challenger of the default strategy on half of every segment
    _world(engine)
    body = PACK.read_text(encoding="utf-8").replace(
        "Disputes are answered before", "Disputes are always answered before"
    )
    with transaction(engine) as session:
        session.add(
            StrategyVersion(
                code="default", version=2, zh="挑战者", en="Challenger", body=body,
                sha256=text_sha256(body), status="approved", note="", author="ann",
                created_at=NOW, approved_by="bob", approved_at=NOW,
            )
        )  # fmt: skip
        session.flush()
        start_experiment(
            session, None, name="tone", champion="default@1", challenger="default@2",
            share_pct=50, actor="ann", day=DAY1, now=NOW,
        )  # fmt: skip
    export_lake(engine, tmp_path / "lake", strategy_day=DAY2)
    run_daily_cycle(engine, DAY2, now=NOW, allocation=False)
    keys = _keys(engine)
    with transaction(engine) as session:
        arms = {
            keys[c]: arm
            for c, arm in session.execute(select(ExperimentCase.case_id, ExperimentCase.arm))
        }
    stored = _stored(engine, DAY2)["segments"]
    # when the lake is run on one machine
    run_lake_cycle(tmp_path / "lake", tmp_path / "one", DAY2, _config())
    segments = read_after(tmp_path / "one")["segments"]
    lake_arms = {
        (r["creditor_id"], r["debtor_id"]): r["arm"]
        for r in segments.filter(pl.col("case_id").is_not_null()).to_dicts()
    }
    # then the stored cases hold the store's arms and segments (the challenger's version)
    assert lake_arms == {k: v for k, v in arms.items() if k in lake_arms}
    assert set(lake_arms.values()) == {"champion", "challenger"}
    new = segments.filter(pl.col("case_id").is_null())
    decided = {_segment_row(r) for r in segments.filter(pl.col("case_id").is_not_null()).to_dicts()}
    assert decided == {row for row in stored if row[0] in lake_arms}
    # and the case new today is segmented by the champion, its arm left to the store
    assert new.height == 1 and new.item(0, "arm") is None
    assert new.item(0, "version_id") == min(v for *_, v in stored)


def test_the_command_line_exports_models_and_prints_the_lake_runs_scoring(
    store_env: str, tmp_path: Path
) -> None:
    from cuishou.store.db import make_engine
    from tests.engine.test_spark import invoke

    engine = make_engine(store_env)
    try:
        _world(engine)
        lake = str(tmp_path / "lake")
        exported = invoke("lake", "export", "--out", lake, "--as-of", DAY2.isoformat(),
                          engine=engine)  # fmt: skip
        assert exported["tables"]["contacts"] == 1 and exported["tables"]["debtors"] == 14
        day = invoke("daily", "--input", lake, "--output", str(tmp_path / "one"),
                     "--as-of", DAY2.isoformat(), engine=engine)  # fmt: skip
        assert set(day["scoring"]["grades"]) == {"A", "B", "C", "D"}
        assert day["strategy"]["strategy"] == "default@1" and day["strategy"]["segments"]
        assert "lake import" in day["scoring"]["note"]
    finally:
        engine.dispose()


def test_a_rerun_of_the_last_day_scores_and_segments_as_the_store(
    engine: Engine, tmp_path: Path
) -> None:
    # given the world exported after DAY1's cycle, DAY2's facts already in
    _world(engine)
    export_lake(engine, tmp_path / "lake", strategy_day=DAY1)
    # when DAY1 is run again on the store and on the lake
    run_daily_cycle(engine, DAY1, now=NOW, allocation=False)
    result = run_lake_cycle(tmp_path / "lake", tmp_path / "one", DAY1, _config())
    # then it is a re-run on both, with the same scores, grades, labels and segments
    assert result.rerun
    # (the segments' rows were written by DAY1's first run: a re-run changes none)
    assert _no_rules(_decided(tmp_path / "one")) == _no_rules(_stored(engine, DAY1))
    assert result.strategy is not None and result.strategy["note"] == OFF_STORE


def test_a_lake_with_models_but_not_their_tables_is_a_clear_error(
    lake: dict[str, Any], tmp_path: Path
) -> None:
    from cuishou.kit.errors import InvalidInput

    shutil.rmtree(lake["root"] / "contacts")
    with pytest.raises(InvalidInput, match="contacts"):
        run_lake_cycle(lake["root"], tmp_path / "out", DAY2, _config())
    assert not (tmp_path / "out").exists()  # nothing half-written

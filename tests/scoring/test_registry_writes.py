"""The daily bulk writes rewrite only what changed: a case whose score (version, probability,
score, reasons) is what it already has keeps its row and its ``scored_on``; a changed or new
one is written with today's date; a case not scored today loses its score. Label facts are
rewritten only where they changed (a label given keeps its ``since``)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from sqlalchemy import Engine, select

from cuishou.scoring import registry
from cuishou.store.bulk import BulkStore
from cuishou.store.db import transaction
from cuishou.store.tables import Case, CaseLabel, CaseScore
from tests.factories import NOW, make_creditor, make_debtor

D = date(2027, 1, 10)
LATER = D + timedelta(days=1)


def _cases(engine: Engine, n: int) -> list[int]:
    with transaction(engine) as session:
        creditor = make_creditor(session)
        ids = []
        for _ in range(n):
            debtor = make_debtor(session)
            case = Case(creditor_id=creditor.id, debtor_id=debtor.id, opened_on=D,
                        created_at=NOW, updated_at=NOW)  # fmt: skip
            session.add(case)
            session.flush()
            ids.append(case.id)
    return ids


def _scores(rows: list[tuple[int, float, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=registry.SCORES_SCHEMA, orient="row")


def _stored(engine: Engine) -> dict[int, tuple[str, float, int, list[str], date]]:
    with transaction(engine) as session:
        return {
            s.case_id: (s.version, s.probability, s.score, s.reasons, s.scored_on)
            for s in session.scalars(select(CaseScore).where(CaseScore.target == "pay_30d"))
        }


def _write(engine: Engine, frame: pl.DataFrame, version: str, day: date) -> None:
    with BulkStore(engine).write() as bulk:
        registry.write_scores(bulk, frame, target="pay_30d", version=version, as_of=day)


def test_only_changed_scores_are_rewritten(engine: Engine) -> None:
    a, b, c, d = _cases(engine, 4)
    _write(engine, _scores([(a, 0.25, 610, '["dpd"]'), (b, 0.5, 580, '["dpd","age"]'),
                            (c, 0.125, 640, "[]")]), "v1", D)  # fmt: skip
    assert _stored(engine) == {
        a: ("v1", 0.25, 610, ["dpd"], D),
        b: ("v1", 0.5, 580, ["dpd", "age"], D),
        c: ("v1", 0.125, 640, [], D),
    }
    # the next day: a unchanged, b's reasons changed, c closed, d new
    _write(engine, _scores([(a, 0.25, 610, '["dpd"]'), (b, 0.5, 580, '["age","dpd"]'),
                            (d, 0.75, 550, '["age"]')]), "v1", LATER)  # fmt: skip
    assert _stored(engine) == {
        a: ("v1", 0.25, 610, ["dpd"], D),  # kept: scored so since D
        b: ("v1", 0.5, 580, ["age", "dpd"], LATER),
        d: ("v1", 0.75, 550, ["age"], LATER),
    }
    # a new champion rescores every case, even with the same figures
    _write(engine, _scores([(a, 0.25, 610, '["dpd"]')]), "v2", LATER)
    assert _stored(engine) == {a: ("v2", 0.25, 610, ["dpd"], LATER)}
    # a probability that moved under an unchanged score is written too
    _write(engine, _scores([(a, 0.2500001, 610, '["dpd"]')]), "v2", LATER + timedelta(days=1))
    assert _stored(engine)[a][1:] == (0.2500001, 610, ["dpd"], LATER + timedelta(days=1))


def test_a_day_with_the_same_cases_rewrites_only_the_changed_scores(engine: Engine) -> None:
    # given three cases scored yesterday (written in another order than today's)
    a, b, c = _cases(engine, 3)
    _write(engine, _scores([(c, 0.125, 640, "[]"), (a, 0.25, 610, '["dpd"]'),
                            (b, 0.5, 580, '["dpd","age"]')]), "v1", D)  # fmt: skip
    # when today the same cases are scored and only c's reasons and b's score move
    _write(engine, _scores([(a, 0.25, 610, '["dpd"]'), (b, 0.5, 581, '["dpd","age"]'),
                            (c, 0.125, 640, '["age"]')]), "v1", LATER)  # fmt: skip
    # then those two are rewritten today and a keeps its row from yesterday
    assert _stored(engine) == {
        a: ("v1", 0.25, 610, ["dpd"], D),
        b: ("v1", 0.5, 581, ["dpd", "age"], LATER),
        c: ("v1", 0.125, 640, ["age"], LATER),
    }


def test_label_facts_are_refreshed_where_they_changed(engine: Engine) -> None:
    a, b = _cases(engine, 2)
    schema = registry.LABELS_SCHEMA
    labels = pl.DataFrame([(a, "cooperative", '{"n": 1}'), (b, "cooperative", '{"n": 2}')],
                          schema=schema, orient="row")  # fmt: skip
    given = labels.with_columns(pl.lit("given").alias("change")).select(
        *registry.LABEL_CHANGES_SCHEMA
    )
    with BulkStore(engine).write() as bulk:
        registry.write_labels(bulk, labels, given, as_of=D, now=NOW)
    later = pl.DataFrame([(a, "cooperative", '{"n": 1}'), (b, "cooperative", '{"n": 3}')],
                         schema=schema, orient="row")  # fmt: skip
    with BulkStore(engine).write() as bulk:
        registry.write_labels(
            bulk, later, pl.DataFrame(schema=registry.LABEL_CHANGES_SCHEMA), as_of=LATER, now=NOW
        )
    with transaction(engine) as session:
        rows = {r.case_id: (r.facts, r.since) for r in session.scalars(select(CaseLabel))}
    assert rows == {a: ({"n": 1}, D), b: ({"n": 3}, D)}


def _grades(engine: Engine) -> dict[int, str | None]:
    with transaction(engine) as session:
        return {c.id: c.risk_grade for c in session.scalars(select(Case))}


def _write_grades(engine: Engine, rows: list[tuple[int, str]]) -> int:
    frame = pl.DataFrame(rows, schema=registry.GRADES_SCHEMA, orient="row")
    with BulkStore(engine).write() as bulk:
        return registry.write_grades(bulk, frame)


def test_grades_are_written_where_they_changed_and_cleared_where_none_was_given(
    engine: Engine,
) -> None:
    # given four cases, three graded yesterday
    a, b, c, d = _cases(engine, 4)
    assert _write_grades(engine, [(a, "A"), (b, "B"), (c, "C")]) == 3
    # when today a keeps its grade, b moves, c gets none (closed) and d gets its first
    changed = _write_grades(engine, [(a, "A"), (b, "D"), (d, "B")])
    # then the two changes are counted, c's grade is cleared and a's is untouched
    assert changed == 2
    assert _grades(engine) == {a: "A", b: "D", c: None, d: "B"}
    # and a day with nothing new changes nothing
    assert _write_grades(engine, [(a, "A"), (b, "D"), (d, "B")]) == 0
    # and a day with the same cases where one grade moves rewrites that one only
    assert _write_grades(engine, [(a, "A"), (b, "C"), (d, "B")]) == 1
    assert _grades(engine) == {a: "A", b: "C", c: None, d: "B"}

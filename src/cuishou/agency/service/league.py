"""The agency league table (委外机构排名): recovery rate, violations and complaints per agency
over a period — a slice of the KPI layer, not a second computation.

The period's facts come from :func:`cuishou.kpis.service.period_facts`; each agency's cases
are cut to the days it held them — from placement (or the period's start) by
:func:`cuishou.kpis.rules.of_members`, up to the period's end or the day before recall
here — and :func:`cuishou.kpis.rules.compute` counts them with the agency as the slice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
from sqlalchemy.orm import Session

from cuishou.agency import repository as repo
from cuishou.agency.schemas import LeagueOut, LeagueRow
from cuishou.agency.service.common import reading_scope
from cuishou.auth.rules import CaseScope, Principal
from cuishou.kit.money import format_yuan
from cuishou.kpis.rules import Facts, compute, of_members, ranks, rounded, with_rates
from cuishou.kpis.service import check_request, period_facts

#: the slice column the members frame adds to the KPI facts' cases
SLICE = "placed_with"
MEMBERS_SCHEMA = {"case_id": pl.Int64, "since": pl.Date, "until": pl.Date, SLICE: pl.String}


def members_of(
    windows: list[tuple[int, date, date | None, date, str]], start: date, end: date
) -> pl.DataFrame:
    """Per placed case in ``[start, end]``: the first and last day its agency held it (in the
    period) and the agency's code; a case placed twice in the period keeps its last placement."""
    rows: dict[int, tuple[int, date, date, str]] = {}
    for case_id, placed_on, recalled_on, ends_on, code in windows:
        last = min(end, ends_on, (recalled_on or ends_on + timedelta(days=1)) - timedelta(days=1))
        first = max(start, placed_on)
        if first <= last:
            rows[case_id] = (case_id, first, last, code)
    return pl.DataFrame(list(rows.values()), schema=MEMBERS_SCHEMA, orient="row")


def _until(facts: Facts, members: pl.DataFrame) -> Facts:
    """The daily facts of each case up to the last day its agency held it."""
    until = members.select("case_id", "until")

    def upto(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.join(until, on="case_id", how="inner")
            .filter(pl.col("day") <= pl.col("until"))
            .drop("until")
        )

    return replace(
        facts,
        cash=upto(facts.cash),
        contacts=upto(facts.contacts),
        promises=upto(facts.promises),
        violations=upto(facts.violations),
    )


def league(
    session: Session, start: date, end: date, *, principal: Principal | None = None
) -> LeagueOut:
    """Each agency's figures over ``[start, end]`` for the cases it held, best recovery rate
    first (an agency user: its own row)."""
    check_request(start, end, None)
    own = reading_scope(principal)
    members = members_of(repo.placement_windows(session, start, end), start, end)
    if own is not None:
        code = repo.agency_codes(session).get(own)
        members = members.filter(pl.col(SLICE) == code)
    facts = period_facts(session, CaseScope("all"), start, end, owners=False)
    cohort = _until(of_members(facts, members.drop("until")), members)
    counted = with_rates(compute(cohort, by=SLICE, start=start, end=end))
    held = members.group_by(SLICE).len("cases")
    table = held.join(counted, left_on=SLICE, right_on="key", how="left").sort(SLICE)
    rates = [None if r is None else float(r) for r in table["recovery_rate"]]
    order = ranks(rates)
    rows = [
        LeagueRow(
            agency=str(row[SLICE]), cases=int(row["cases"]),
            due_at_start=format_yuan(int(row["due_start_fen"] or 0)),
            recovered=format_yuan(int(row["recovered_fen"] or 0)),
            recovery_rate=rounded(row["recovery_rate"]), payments=int(row["payments"] or 0),
            violations=int(row["violations"] or 0), complaints=int(row["complaints"] or 0),
            rank=order[i],
        )
        for i, row in enumerate(table.iter_rows(named=True))
    ]  # fmt: skip
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.agency))
    return LeagueOut(from_=start, to=end, rows=rows)

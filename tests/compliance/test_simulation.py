"""A month of randomly proposed contacts through the gate, checked by an independent judge.

2,000 debtors, 30 days across China's National Day holidays, proposals by 30 collectors in
three in-house teams and two agencies on calls, SMS, WeChat and field visits, to debtors'
numbers and to named and unnamed third parties, with disputes, complaints and cease
requests coming and going. Every proposal goes through the scalar gate; allowed ones are
"made" with a random outcome and become history.

The judge is written differently: plain SQL over the contact log in an in-memory SQLite
database, with local time from each debtor's fixed UTC offset, not from ``zoneinfo``, and
counting by window functions and correlated subqueries, not by the gate's loops. It finds
zero violations among allowed contacts, and for every denial it confirms that each rule
cited really applied at that moment.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from cuishou.compliance.pack import load_pack
from cuishou.compliance.rules import Attempt, CaseState, PastContact, check

PACK = load_pack("cn")
DEBTORS = 2_000
DAYS = 30
FIRST_DAY = date(2026, 9, 28)
#: debtor zones with fixed offsets (no DST since 1991), so SQL can add hours
ZONES = {"Asia/Shanghai": 8, "Asia/Urumqi": 6}
COLLECTORS = [f"team{t}:c{i}" for t in range(3) for i in range(8)] + [
    f"agency:{a}:c{i}" for a in ("HX", "BJ") for i in range(3)
]
CALL_OUTCOMES = [
    ("no_answer", 30), ("connected_debtor", 22), ("powered_off", 10), ("rejected", 10),
    ("negotiating", 8), ("promise", 6), ("refused", 5), ("invalid_number", 4),
    ("lost_contact", 3), ("complaint", 2),
]  # fmt: skip


@dataclass
class Debtor:
    id: int
    zone: str
    points: list[int]  # the debtor's own numbers
    third: dict[int, bool]  # third-party point -> named
    holds: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    invalid: set[int] = field(default_factory=set)
    history: list[PastContact] = field(default_factory=list)


def build(rng: random.Random) -> list[Debtor]:
    debtors = []
    point = 0
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
    for i in range(DEBTORS):
        own = [point + 1, point + 2]
        third = {point + 3: True, point + 4: rng.random() < 0.6}
        point += 4
        debtor = Debtor(i + 1, rng.choice(list(ZONES)), own, third)
        if rng.random() < 0.08:
            opened = start + timedelta(hours=rng.randrange(0, DAYS * 24))
            lifted = opened + timedelta(hours=rng.randrange(12, 10 * 24))
            debtor.holds.append((rng.choice(["dispute", "complaint", "cease"]), opened, lifted))
        debtors.append(debtor)
    return debtors


def proposals_for_day(rng: random.Random, debtor: Debtor, day: date) -> list[Attempt]:
    offset = ZONES[debtor.zone]
    out = []
    for _ in range(rng.choice([0, 1, 2, 3, 4, 6, 9])):
        local_minute = rng.randrange(6 * 60, 23 * 60 + 30)
        at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
            minutes=local_minute - offset * 60, seconds=rng.randrange(60)
        )
        channel = rng.choices(["call", "sms", "wechat", "visit"], weights=[75, 12, 8, 5])[0]
        to_third = rng.random() < 0.2 and channel != "visit"
        point = rng.choice(list(debtor.third)) if to_third else rng.choice(debtor.points)
        out.append(
            Attempt(
                at=at,
                channel=channel,
                contact_point_id=point,
                party="third_party" if to_third else "debtor",
                zones=(debtor.zone,),
                third_party_named=debtor.third.get(point, True),
                collectors=rng.choice([1, 2, 2]),
            )
        )
    if rng.random() < 0.04:  # a dialer hammering one number through the working day
        number = rng.choice(debtor.points)
        for step in range(9):
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
                minutes=(9 - offset) * 60 + step * 50, seconds=rng.randrange(60)
            )
            out.append(Attempt(at=at, channel="call", contact_point_id=number,
                               zones=(debtor.zone,)))  # fmt: skip
    return sorted(out, key=lambda a: a.at)


def state_at(debtor: Debtor, at: datetime) -> CaseState:
    return CaseState(
        suspended=frozenset(kind for kind, opened, lifted in debtor.holds if opened <= at < lifted),
        debtor_numbers_invalid=all(p in debtor.invalid for p in debtor.points),
    )


def outcome_for(rng: random.Random, attempt: Attempt) -> str:
    if attempt.channel != "call":
        return rng.choice(["connected_debtor", "no_answer"])
    names, weights = zip(*CALL_OUTCOMES, strict=True)
    outcome = rng.choices(names, weights=weights)[0]
    reached = ("connected_debtor", "negotiating", "promise", "refused", "complaint")
    if attempt.party == "third_party" and outcome in reached:
        return "connected_third_party"
    return outcome


@dataclass
class Run:
    debtors: list[Debtor]
    proposals: list[tuple[int, Attempt, bool, tuple[str, ...]]]  # debtor, attempt, allowed, rules
    log: list[tuple[int, PastContact]]


def simulate(seed: int = 20261128) -> Run:
    rng = random.Random(seed)
    debtors = build(rng)
    proposals = []
    log = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        for debtor in debtors:
            for attempt in proposals_for_day(rng, debtor, day):
                state = state_at(debtor, attempt.at)
                recent = [h for h in debtor.history if h.at > attempt.at - timedelta(days=31)]
                decision = check(PACK, attempt, state, recent)
                proposals.append((debtor.id, attempt, decision.allowed, decision.rule_ids))
                if not decision.allowed:
                    continue
                made = PastContact(
                    at=attempt.at,
                    channel=attempt.channel,
                    contact_point_id=attempt.contact_point_id,
                    party=attempt.party,
                    outcome=outcome_for(rng, attempt),
                    by=rng.choice(COLLECTORS),
                )
                debtor.history.append(made)
                log.append((debtor.id, made))
                if made.outcome == "invalid_number" and attempt.party == "debtor":
                    debtor.invalid.add(attempt.contact_point_id)
    return Run(debtors, proposals, log)


# ------------------------------------------------------------------ the independent judge

SCHEMA = """
CREATE TABLE debtors (id INTEGER PRIMARY KEY, utc_offset INTEGER NOT NULL);
CREATE TABLE points (id INTEGER PRIMARY KEY, debtor_id INTEGER, owner TEXT, named INTEGER);
CREATE TABLE holds (debtor_id INTEGER, kind TEXT, opened TEXT, lifted TEXT);
CREATE TABLE holidays (day TEXT PRIMARY KEY);
CREATE TABLE log (id INTEGER PRIMARY KEY, debtor_id INTEGER, at TEXT, channel TEXT,
                  point_id INTEGER, party TEXT, outcome TEXT, by TEXT);
CREATE TABLE proposals (id INTEGER PRIMARY KEY, debtor_id INTEGER, at TEXT, channel TEXT,
                        point_id INTEGER, party TEXT, named INTEGER, collectors INTEGER,
                        allowed INTEGER);
CREATE TABLE cited (proposal_id INTEGER, rule_id TEXT);
CREATE INDEX log_debtor_at ON log (debtor_id, at);
CREATE INDEX log_point ON log (point_id, outcome, at);
CREATE INDEX cited_proposal ON cited (proposal_id, rule_id);
"""


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def local_sql(column: str) -> str:
    return f"datetime({column}, printf('%+d hours', d.utc_offset))"


LOCAL = local_sql("p.at")
MINUTE = (
    f"(CAST(strftime('%H', {LOCAL}) AS INTEGER) * 60 + CAST(strftime('%M', {LOCAL}) AS INTEGER))"
)
LOCAL_DAY = f"date({LOCAL})"
HOLIDAY = f"EXISTS (SELECT 1 FROM holidays h WHERE h.day = {LOCAL_DAY})"
UNANSWERED = "('no_answer','powered_off','invalid_number','rejected','lost_contact')"
REACHED = "('connected_debtor','promise','refused','negotiating','complaint')"


def earlier_today(condition: str) -> str:
    """Contacts in the log before the proposal, on the same local day, meeting ``condition``."""
    return f"""(SELECT COUNT(*) FROM log l WHERE l.debtor_id = p.debtor_id AND l.at < p.at
        AND date({local_sql("l.at")}) = {LOCAL_DAY} AND {condition})"""


#: rule id -> SQL that is true when the rule applies to proposal ``p`` (debtor ``d``)
APPLIES = {
    "CN-01": f"""(p.channel IN ('call','sms','wechat','email')
                  AND ({MINUTE} < CASE WHEN {HOLIDAY} THEN 540 ELSE 480 END
                       OR {MINUTE} >= CASE WHEN {HOLIDAY} THEN 1200 ELSE 1260 END))
             OR (p.channel = 'visit' AND ({MINUTE} >= 1200
                  OR {MINUTE} < CASE WHEN {HOLIDAY} THEN 540 ELSE 480 END))""",
    "CN-X-HOLIDAY": f"p.channel = 'visit' AND {HOLIDAY}",
    "CN-14": "p.channel = 'visit' AND p.collectors < 2",
    "CN-03": f"""p.channel = 'call' AND {
        earlier_today(
            f"l.point_id = p.point_id AND l.channel = 'call' AND l.outcome IN {UNANSWERED}"
        )
    } >= 6""",
    "CN-04": f"""p.channel = 'call' AND p.party = 'debtor' AND {
        earlier_today(f"l.channel = 'call' AND l.party = 'debtor' AND l.outcome IN {REACHED}")
    } >= 3""",
    "CN-09": "p.party = 'third_party' AND p.named = 0",
    # the debtor is reachable: a number of theirs not found invalid (空号), and not all of
    # the last three calls to the debtor failed
    "CN-08": f"""p.party = 'third_party' AND EXISTS (SELECT 1 FROM points q
          WHERE q.debtor_id = p.debtor_id AND q.owner = 'debtor' AND NOT EXISTS (
            SELECT 1 FROM log v WHERE v.point_id = q.id AND v.outcome = 'invalid_number'
              AND v.at <= p.at))
        AND (SELECT COUNT(*) FROM (SELECT l.outcome FROM log l WHERE l.debtor_id = p.debtor_id
              AND l.at < p.at AND l.channel = 'call' AND l.party = 'debtor'
              ORDER BY l.at DESC LIMIT 3) WHERE outcome IN {UNANSWERED}) < 3""",
    "CN-06": f"p.party = 'third_party' AND {earlier_today('l.point_id = p.point_id')} >= 2",
    "CN-X-SUSPEND": """EXISTS (SELECT 1 FROM holds k WHERE k.debtor_id = p.debtor_id
                        AND k.opened <= p.at AND p.at < k.lifted)""",
}


def judge(run: Run) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    db.executemany(
        "INSERT INTO debtors VALUES (?, ?)", [(d.id, ZONES[d.zone]) for d in run.debtors]
    )
    db.executemany(
        "INSERT INTO points VALUES (?, ?, ?, ?)",
        [(p, d.id, "debtor", 1) for d in run.debtors for p in d.points]
        + [(p, d.id, "third_party", int(n)) for d in run.debtors for p, n in d.third.items()],
    )
    db.executemany(
        "INSERT INTO holds VALUES (?, ?, ?, ?)",
        [(d.id, k, stamp(o), stamp(li)) for d in run.debtors for k, o, li in d.holds],
    )
    assert PACK.holidays is not None
    db.executemany(
        "INSERT INTO holidays VALUES (?)", [(h.isoformat(),) for h in PACK.holidays.dates]
    )
    db.executemany(
        "INSERT INTO log (debtor_id, at, channel, point_id, party, outcome, by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(i, stamp(c.at), c.channel, c.contact_point_id, c.party, c.outcome, c.by)
         for i, c in run.log],
    )  # fmt: skip
    cited = []
    rows = []
    for index, (debtor_id, a, allowed, rule_ids) in enumerate(run.proposals):
        rows.append(
            (index, debtor_id, stamp(a.at), a.channel, a.contact_point_id, a.party,
             int(a.third_party_named), a.collectors, int(allowed))
        )  # fmt: skip
        cited.extend((index, rule) for rule in rule_ids)
    db.executemany("INSERT INTO proposals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO cited VALUES (?, ?)", cited)
    return db


@pytest.fixture(scope="module")
def judged() -> tuple[Run, sqlite3.Connection]:
    run = simulate()
    return run, judge(run)


def test_the_simulation_is_big_and_varied(judged: tuple[Run, sqlite3.Connection]) -> None:
    run, db = judged
    assert len(run.proposals) > 100_000
    cited = dict(db.execute("SELECT rule_id, COUNT(*) FROM cited GROUP BY rule_id").fetchall())
    # every rule of the pack was exercised, and many contacts were allowed
    assert set(cited) == set(APPLIES), cited
    assert min(cited.values()) >= 20, cited
    allowed = db.execute("SELECT COUNT(*) FROM proposals WHERE allowed = 1").fetchone()[0]
    assert allowed > 20_000
    collectors = db.execute("SELECT COUNT(DISTINCT by) FROM log").fetchone()[0]
    assert collectors == len(COLLECTORS)


@pytest.mark.parametrize("rule_id", sorted(APPLIES))
def test_no_allowed_contact_breaks_a_rule(
    judged: tuple[Run, sqlite3.Connection], rule_id: str
) -> None:
    _, db = judged
    sql = f"""SELECT p.id, p.at, p.channel FROM proposals p JOIN debtors d ON d.id = p.debtor_id
              WHERE p.allowed = 1 AND ({APPLIES[rule_id]}) LIMIT 5"""
    assert db.execute(sql).fetchall() == []


@pytest.mark.parametrize("rule_id", sorted(APPLIES))
def test_every_denial_cites_a_rule_that_really_applied(
    judged: tuple[Run, sqlite3.Connection], rule_id: str
) -> None:
    _, db = judged
    sql = f"""SELECT p.id, p.at, p.channel FROM cited c JOIN proposals p ON p.id = c.proposal_id
              JOIN debtors d ON d.id = p.debtor_id
              WHERE c.rule_id = ? AND NOT ({APPLIES[rule_id]}) LIMIT 5"""
    assert db.execute(sql, (rule_id,)).fetchall() == []


def test_every_denial_cites_a_rule(judged: tuple[Run, sqlite3.Connection]) -> None:
    _, db = judged
    uncited = db.execute(
        "SELECT COUNT(*) FROM proposals p WHERE p.allowed = 0 "
        "AND NOT EXISTS (SELECT 1 FROM cited c WHERE c.proposal_id = p.id)"
    ).fetchone()[0]
    assert uncited == 0


def test_caps_sum_across_collectors_and_agencies(judged: tuple[Run, sqlite3.Connection]) -> None:
    # days on which the debtor was reached 3 times by more than one organisation, and the
    # gate then refused a 4th call: the cap is per debtor, not per collector
    _, db = judged
    mixed = db.execute(
        f"""SELECT COUNT(*) FROM (SELECT l.debtor_id, date(l.at) FROM log l
            WHERE l.channel = 'call' AND l.party = 'debtor' AND l.outcome IN {REACHED}
            GROUP BY l.debtor_id, date(l.at)
            HAVING COUNT(DISTINCT substr(l.by, 1, 5)) > 1 AND COUNT(*) = 3)"""
    ).fetchone()[0]
    assert mixed > 0
    refused_fourth = db.execute("SELECT COUNT(*) FROM cited WHERE rule_id = 'CN-04'").fetchone()[0]
    assert refused_fourth > 0

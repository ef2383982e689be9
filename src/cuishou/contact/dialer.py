"""Importing a dialer's call results (外呼系统话单导入): each call becomes a contact.

:func:`import_call_results` is the use case (``cuishou contacts import`` calls it, and so may
any program): every file is read by the import reader (CSV UTF-8/GBK, XLSX, Parquet, with
its limits), checked row by row (bad rows quarantined with reasons in English and Chinese,
beside the file, as for accounts and payments files) and written in **one transaction per
file**, set-based — no per-row service call:

* each accepted call is a contact (channel ``call``) with the outcome its result code maps
  to (:mod:`cuishou.contact.dialer_codes`) and the party that follows from the outcome and
  from whose number was dialled (:func:`cuishou.contact.rules.party_expr`);
* it has the effects one contact logged through :func:`cuishou.contact.service.log_contact`
  has: a ``contact.logged`` event; a 空号 (``invalid_number``) marks the number invalid with
  a ``contact_point.invalidated`` event; a promise (``promise``) is taken with its reminder
  task and ``promise.created`` event; refusals and runs of three failed attempts raise
  their alerts (:func:`cuishou.contact.rules.contact_alerts_frame`);
* it is **judged, not refused**, by the compliance gate's bulk form
  (:func:`cuishou.compliance.logged.judge_logged_calls`) against the stored history and the
  earlier calls of the same file: a call the gate would have refused is recorded all the same,
  with a ``compliance.violation`` event and a ``compliance_violation`` alert;
* alerts are raised by the alerts domain only (:func:`cuishou.alerts.service.raise_staged`).

A call is identified by the source name (``--source``, default ``dialer``) and the dialer's
call id: a call already imported is ``unchanged``, so importing a file again changes nothing.
The file is judged as if its calls had been logged one by one in time order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.alerts.service import raise_staged
from cuishou.audit.events import append_events
from cuishou.auth.rules import ROLES, can
from cuishou.compliance.logged import judge_logged_calls, pack_of, violation_details
from cuishou.compliance.service import creditor_pack
from cuishou.contact import repository as repo
from cuishou.contact.dialer_codes import ResultCodes, load_codes
from cuishou.contact.rules import (
    ANSWERED,
    OUTCOMES,
    TIME_REASONS,
    answered_outcome_expr,
    contact_alerts_frame,
    party_expr,
    timing_problem_expr,
)
from cuishou.contact.schemas import CallFileResult, CallImportResult
from cuishou.kit.clock import CHINA_TZ, business_day_in
from cuishou.kit.clock import zone as zone_of
from cuishou.kit.errors import Conflict, InvalidInput, UnreadableFile
from cuishou.placement.columns import CALL_COLUMNS
from cuishou.placement.limits import DEFAULT_LIMITS, ImportLimits
from cuishou.placement.reader import CALLS, SourceTable, read_source
from cuishou.placement.rules import apply_scalar, normalize_phone_expr, parse_paid_at
from cuishou.placement.schemas import FileError
from cuishou.placement.service import FileOutcome, ImportOptions, tune_for_bulk, write_quarantine
from cuishou.placement.service.common import (
    Issues,
    checked_amount,
    checked_date,
    choose_creditor,
    column_label,
    common_checks,
    event,
    file_payload,
    record_file,
)
from cuishou.promises.rules import DEFAULT_POLICY, PromisePolicy, promise_problem
from cuishou.promises.service import take_promises
from cuishou.store.bulk import SessionBulk
from cuishou.store.db import transaction

#: source names: what a stored contact says it came from (``workbench`` is the pages and API)
WORKBENCH = "workbench"
MAX_SOURCE = 32
#: longest cells of a calls file (the store's column widths)
CALL_LENGTHS = {"call_id": 100, "number": 32, "agent": 64, "result": 64}
_FAST_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_SECONDS = r"^[0-9]{1,6}(\.0+)?$"
_NOT_FAILED = sorted(code for code, o in OUTCOMES.items() if not o.failed)
TAIL_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "outcome": pl.String(),
}


@dataclass(frozen=True)
class DialerOptions:
    """How to import call results.

    ``now``: the time of the import (events, the future-time check; any zone, kept in UTC);
    its business day in the creditor's zone is the import's "today" (promises' due dates);
    ``source``: the dialer's name, with each call id the idempotency key; ``creditor_code``:
    the creditor (else the file's ``creditor_code`` column); ``codes``: the result-code table
    (default: the shipped one); ``limits``: the largest file read; ``actor``: who imports
    (the ``import.file_imported`` event; each call's events are its collector's).
    """

    now: datetime
    source: str = "dialer"
    creditor_code: str | None = None
    codes: ResultCodes | None = None
    limits: ImportLimits = DEFAULT_LIMITS
    actor: str = "import"
    promise_policy: PromisePolicy = DEFAULT_POLICY
    zone: ZoneInfo = CHINA_TZ
    _codes: ResultCodes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        name = self.source.strip()
        if not name or len(name) > MAX_SOURCE or name == WORKBENCH:
            raise InvalidInput(
                f"--source: a dialer's name of 1 to {MAX_SOURCE} characters, not {WORKBENCH!r}",
                field="source",
            )
        if self.now.tzinfo is None:
            raise ValueError("DialerOptions.now must be aware")
        # one instant, compared with the calls' UTC times: an aware time in any zone is fine
        object.__setattr__(self, "now", self.now.astimezone(UTC))
        object.__setattr__(self, "source", name)
        object.__setattr__(self, "_codes", self.codes or load_codes())

    @property
    def result_codes(self) -> ResultCodes:
        return self._codes


def import_call_results(
    engine: Engine, paths: Sequence[Path], options: DialerOptions
) -> CallImportResult:
    """Import dialer result files (外呼话单), each in its own transaction.

    Each file: CSV (UTF-8 or GBK), XLSX or Parquet with the columns of
    :data:`cuishou.placement.columns.CALL_COLUMNS` (``docs/import-format.md``). Accepted
    calls become contacts with every effect of a contact logged one by one, judged (not
    refused) by the compliance gate against the store and the earlier calls of the file;
    rejected rows are written to ``<file>.quarantine.csv`` after the file's transaction
    commits. Importing a file again changes nothing (its calls are ``unchanged``).

    A file that cannot be read (or is beyond ``options.limits``) is reported in ``errors``
    and changes nothing; the other files are imported all the same. Nothing here commits
    half a file: an error while writing leaves nothing of it.
    """
    results: list[CallFileResult] = []
    errors: list[FileError] = []
    for path in paths:
        started = time.perf_counter()
        try:
            source = read_source(Path(path), options.limits, kinds=(CALLS,))
            with transaction(engine) as session:
                outcome = import_calls(session, source, options)
        except UnreadableFile as exc:
            errors.append(FileError(path=str(path), code=exc.code, message=exc.message))
            continue
        try:
            write_quarantine(outcome)
        except UnreadableFile as exc:
            errors.append(FileError(path=str(path), code=exc.code, message=exc.message))
        result = outcome.result
        assert isinstance(result, CallFileResult)
        result.seconds = round(time.perf_counter() - started, 3)
        results.append(result)
    return CallImportResult.of(results, errors)


# ------------------------------------------------------------------ checks without the store


def _parse_times(source: SourceTable, issues: Issues, zone: ZoneInfo) -> pl.Series:
    """``started_at`` as aware UTC: ``YYYY-MM-DD HH:MM:SS`` in Polars, any other spelling
    by the payments' rule (:func:`cuishou.placement.rules.parse_paid_at`)."""
    frame = source.frame
    text = pl.col("started_at")
    fast = frame.select(
        pl.when(text.str.contains(_FAST_TIME))
        .then(
            text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
            .dt.replace_time_zone(str(zone), ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        .alias("v")
    )["v"]
    needs = frame["started_at"].is_not_null() & fast.is_null()
    if not needs.any():
        return fast
    label = column_label(source, "started_at")
    subset = frame.select("_row", "started_at").filter(needs)
    values, en, zh = apply_scalar(
        subset["started_at"],
        lambda t: parse_paid_at(t, zone=zone, field=label),
        dtype=pl.Datetime("us", "UTC"),
    )
    issues.add_reasons(subset, en, zh)
    return fast.scatter(needs.arg_true(), values)


def check_calls(
    source: SourceTable, *, creditor: str, zone: ZoneInfo, options: DialerOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed values of every call row and every problem found without the store."""
    frame = source.frame
    issues = Issues()
    common_checks(source, issues, creditor, CALL_COLUMNS, "call_id")
    for name, limit in CALL_LENGTHS.items():
        label = column_label(source, name)
        issues.add(
            frame.select("_row", name).filter(pl.col(name).str.len_chars() > limit),
            f"{label} is longer than {limit} characters",
            f"{label}超过{limit}个字符",
        )
    at = _parse_times(source, issues, zone)
    label = column_label(source, "started_at")
    timed = (
        frame.select("_row")
        .with_columns(at.alias("at"))
        .with_columns(timing_problem_expr(pl.col("at"), now=options.now).alias("_t"))
    )
    for code, (en, zh) in TIME_REASONS.items():
        issues.add(
            timed.filter(pl.col("_t") == code),
            pl.format(en.replace("{field}", label).replace("{year}", "{}"), pl.col("at").dt.year())
            if code == "year"
            else en.format(field=label),
            pl.format(zh.replace("{field}", label).replace("{year}", "{}"), pl.col("at").dt.year())
            if code == "year"
            else zh.format(field=label),
        )
    label = column_label(source, "duration")
    bad_duration = frame.select("_row", "duration").filter(
        pl.col("duration").is_not_null() & ~pl.col("duration").str.contains(_SECONDS)
    )
    issues.add(
        bad_duration,
        pl.format("{} {} is not a whole number of seconds", pl.lit(label), pl.col("duration")),
        pl.format("{}「{}」不是整数秒", pl.lit(label), pl.col("duration")),
    )
    mapped = frame.select(options.result_codes.outcome_expr(pl.col("result")).alias("m"))["m"]
    label = column_label(source, "result")
    issues.add(
        frame.select("_row", "result").filter(
            pl.col("result").is_not_null() & mapped.is_null()
        ),
        pl.format("{}: unknown result code {} (map it in the dialer codes table, --codes)",
                  pl.lit(label), pl.col("result")),
        pl.format("{}：未知的呼叫结果代码「{}」（请在结果代码映射表中配置，--codes）",
                  pl.lit(label), pl.col("result")),
    )  # fmt: skip
    amount = checked_amount(source, issues, "promise_amount", positive=True)
    due = checked_date(source, issues, "promise_date")
    promised = mapped == "promise"
    for name in ("promise_amount", "promise_date"):
        label = column_label(source, name)
        issues.add(
            frame.select("_row", "result", name).filter(promised & pl.col(name).is_null()),
            pl.format("{} is missing: result {} is a promise to pay", pl.lit(label),
                      pl.col("result")),
            pl.format("缺少{}：呼叫结果{}为承诺还款", pl.lit(label), pl.col("result")),
        )  # fmt: skip
        issues.add(
            frame.select("_row", "result", name).filter(
                mapped.is_not_null() & ~promised & pl.col(name).is_not_null()
            ),
            pl.format("{} is given but result {} is not a promise to pay", pl.lit(label),
                      pl.col("result")),
            pl.format("{}有值，但呼叫结果{}不是承诺还款", pl.lit(label), pl.col("result")),
        )  # fmt: skip
    seconds = frame.select(
        pl.col("duration").str.replace(r"\.0+$", "").cast(pl.Int64, strict=False).alias("s")
    )["s"]
    typed = frame.select(
        "_row", "account_no", "call_id", "agent", "result",
        pl.lit(at).alias("at"),
        normalize_phone_expr(pl.col("number")).alias("number"),
        pl.lit(seconds).alias("duration_seconds"),
        pl.lit(mapped).alias("mapped"),
        pl.lit(amount).alias("promise_fen"),
        pl.lit(due).alias("promise_due"),
    )  # fmt: skip
    return typed, issues.frame()


# ------------------------------------------------------------------ the store's part


def _store_problems(
    good: pl.DataFrame, source: SourceTable, *, creditor: str, today: date, options: DialerOptions
) -> pl.DataFrame:
    """Problems only the store can tell (``good`` has the lookups joined)."""
    account = column_label(source, "account_no")
    agent = column_label(source, "agent")
    number = column_label(source, "number")
    may_log = pl.col("role").is_in([role for role in ROLES if can(role, "contact.create")])
    checks: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = [
        (
            pl.col("account_id").is_null(),
            pl.format("unknown account: {} {} is not stored for creditor {}", pl.lit(account),
                      pl.col("account_no"), pl.lit(creditor)),
            pl.format("未知借据：委托方{}下没有借据号{}", pl.lit(creditor), pl.col("account_no")),
        ),
        (
            pl.col("account_id").is_not_null() & pl.col("case_id").is_null(),
            pl.format("account {} is not in a case yet (run cuishou daily first)",
                      pl.col("account_no")),
            pl.format("借据{}尚未归入案件（请先运行 cuishou daily）", pl.col("account_no")),
        ),
        (
            pl.col("user_id").is_null(),
            pl.format("unknown agent: {} {} is not a user", pl.lit(agent), pl.col("agent")),
            pl.format("未知坐席：{}「{}」不是系统用户", pl.lit(agent), pl.col("agent")),
        ),
        (
            pl.col("user_id").is_not_null() & (~pl.col("active") | ~may_log),
            pl.format("agent {} may not log contacts (inactive, or role {})", pl.col("agent"),
                      pl.col("role")),
            pl.format("坐席{}不能记录催记（已停用或角色{}无此权限）", pl.col("agent"),
                      pl.col("role")),
        ),
        (
            pl.col("case_id").is_not_null() & pl.col("contact_point_id").is_null(),
            pl.format("{}: the number dialled is not a phone of the debtor of account {} nor "
                      "of their named contacts", pl.lit(number), pl.col("account_no")),
            pl.format("{}：所拨号码不是借据{}债务人本人或其联系人的电话", pl.lit(number),
                      pl.col("account_no")),
        ),
    ]  # fmt: skip
    parts = [
        good.filter(when).select(
            "_row",
            pl.lit(900 + i, dtype=pl.Int64).alias("_order"),
            en.alias("en"),
            zh.alias("zh"),
        )
        for i, (when, en, zh) in enumerate(checks)
    ]
    # a promise the workbench would refuse (closed case, more than owed, due date …)
    promises = good.filter(
        (pl.col("mapped") == "promise") & pl.col("case_id").is_not_null()
    ).select("_row", "promise_fen", "promise_due", "case_due_fen", "case_status")
    rows: list[tuple[int, str, str]] = []
    for row, fen, due, owed, status in promises.iter_rows():
        problem = promise_problem(amount_fen=fen, due_date=due, today=today,
                                  case_due_fen=owed or 0, case_status=status or "",
                                  policy=options.promise_policy)  # fmt: skip
        if problem:
            rows.append((row, f"promise: {problem}", f"承诺还款不能记录：{problem}"))
    if rows:
        parts.append(
            pl.DataFrame(rows, schema={"_row": pl.Int64, "en": pl.String, "zh": pl.String},
                         orient="row")
            .with_columns(pl.lit(950, dtype=pl.Int64).alias("_order"))
            .select("_row", "_order", "en", "zh")
        )  # fmt: skip
    return pl.concat(parts)


def _lookups(
    session: Session, bulk: SessionBulk, good: pl.DataFrame, *, creditor_id: int, source: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The calls not imported before (``good`` less those), with account, case, agent and
    contact point joined; the calls imported before (unchanged: not looked up again); the
    stored contacts a failed run may reach back to."""
    keys = repo.stage_call_keys(bulk, good.select("account_no", "call_id", "at"))
    imported = repo.imported_call_ids(bulk, keys, source=source)
    stored = good.filter(pl.col("call_id").is_in(imported.implode()))
    if stored.height:
        good = good.filter(~pl.col("call_id").is_in(imported.implode()))
        if good.height == 0:  # a file imported again: nothing to look up
            return good, stored, pl.DataFrame(schema=TAIL_SCHEMA)
        keys = repo.stage_call_keys(bulk, good.select("account_no", "call_id", "at"))
    accounts = repo.accounts_of_calls(bulk, keys, creditor_id=creditor_id)
    phones = repo.phones_of_calls(bulk, keys, creditor_id=creditor_id)
    tails = repo.case_tails(bulk, keys, creditor_id=creditor_id, not_failed=_NOT_FAILED)
    # a number may be stored for the debtor and a contact person: the debtor's comes first
    points = (
        phones.with_columns(normalize_phone_expr(pl.col("value")).alias("number"))
        .sort(pl.col("owner") != "debtor", "contact_point_id")
        .unique(["debtor_id", "number"], keep="first", maintain_order=True)
        .drop("value")
    )
    users = repo.users_by_name(session)
    joined = (
        good.join(accounts, on="account_no", how="left", maintain_order="left")
        .join(points, on=["debtor_id", "number"], how="left", maintain_order="left")
        .with_columns(pl.col("agent").str.strip_chars().str.to_lowercase().alias("_key"))
        .join(users.rename({"key": "_key"}), on="_key", how="left", maintain_order="left")
        .drop("_key")
    )
    return joined, stored, tails


def import_calls(session: Session, source: SourceTable, options: DialerOptions) -> FileOutcome:
    """Check a calls file and write its new calls as contacts (inside the caller's
    transaction); see :mod:`cuishou.contact.dialer`."""
    tune_for_bulk(session)
    bulk = SessionBulk(session)
    if bulk.sqlite:  # take the write lock before ids are reserved and facts read
        bulk.execute("UPDATE contacts SET id = id WHERE 1 = 0")
    creditor_code = choose_creditor(
        source, ImportOptions(as_of=date.min, now=options.now, creditor_code=options.creditor_code)
    )
    creditor = repo.creditor_by_code(session, creditor_code)
    local = zone_of(creditor.timezone) if creditor is not None else options.zone
    # the import's "today": its business day in the creditor's zone (营业日)
    today = business_day_in(options.now, local.key)
    base = ImportOptions(
        as_of=today, now=options.now, creditor_code=creditor_code, actor=options.actor,
        zone=local,
    )  # fmt: skip
    typed, problems = check_calls(source, creditor=creditor_code, zone=local, options=options)
    good = typed.filter(~pl.col("_row").is_in(problems["_row"].unique().implode()))
    result = CallFileResult(
        path=str(source.path), kind=CALLS, encoding=source.encoding, rows=source.rows,
        ignored_columns=source.ignored_columns, creditor=creditor_code, source=options.source,
    )  # fmt: skip
    if creditor is None or good.height == 0:
        if creditor is None and good.height:
            label = column_label(source, "account_no")
            problems = pl.concat([problems, good.select(
                "_row", pl.lit(900, dtype=pl.Int64).alias("_order"),
                pl.format("unknown account: {} {} is not stored for creditor {}", pl.lit(label),
                          pl.col("account_no"), pl.lit(creditor_code)).alias("en"),
                pl.format("未知借据：委托方{}下没有借据号{}", pl.lit(creditor_code),
                          pl.col("account_no")).alias("zh"),
            )])  # fmt: skip
        result.quarantined = source.rows
        return FileOutcome(result=result, source=source, problems=problems)

    fresh, stored, tails = _lookups(
        session, bulk, good, creditor_id=creditor.id, source=options.source
    )
    if fresh.height:
        problems = pl.concat(
            [
                problems,
                _store_problems(
                    fresh, source, creditor=creditor_code, today=today, options=options
                ),
            ]
        )
        fresh = fresh.filter(~pl.col("_row").is_in(problems["_row"].unique().implode()))
    result.accepted = fresh.height + stored.height
    result.quarantined = source.rows - result.accepted
    result.created = fresh.height
    result.unchanged = stored.height
    if fresh.height:
        file_id = record_file(session, source, base, creditor.id, result)
        result.import_file_id = file_id
        _write(session, bulk, fresh, tails, result, creditor_id=creditor.id, today=today,
               options=options)  # fmt: skip
        append_events(
            session,
            [event(base, "import.file_imported", "import_file", file_id,
                   {**file_payload(result), "source": options.source,
                    "violations": result.violations})],
        )  # fmt: skip
    return FileOutcome(result=result, source=source, problems=problems)


def _write(
    session: Session,
    bulk: SessionBulk,
    fresh: pl.DataFrame,
    tails: pl.DataFrame,
    result: CallFileResult,
    *,
    creditor_id: int,
    today: date,
    options: DialerOptions,
) -> None:
    """Write the new calls and everything they cause, set-based (``today``: the import's
    business day in the creditor's zone)."""
    now = options.now
    calls = (
        fresh.sort("at", "_row")
        .with_columns(
            bulk.reserve_ids("contacts", fresh.height).alias("contact_id"),
            pl.when(pl.col("mapped") == ANSWERED)
            .then(answered_outcome_expr(pl.col("owner")))
            .otherwise(pl.col("mapped"))
            .alias("outcome"),
            pl.lit("call").alias("channel"),
        )
        .with_columns(party_expr(pl.col("outcome"), pl.col("owner")).alias("party"))
    )
    # judged against the store as it was before them, and the earlier calls of the file
    pack_name = creditor_pack(session, creditor_id)
    judged = judge_logged_calls(bulk, calls, pack_name=pack_name)
    inserted = repo.insert_contacts(
        bulk,
        calls.select(
            pl.col("contact_id").alias("id"), "case_id", "contact_point_id", "user_id",
            "channel", "party", "outcome", "at", pl.col("call_id").alias("external_id"),
            "duration_seconds",
        ),
        source=options.source,
        now=now,
    )  # fmt: skip
    if inserted != calls.height:
        raise Conflict(
            "some of these calls were imported by someone else while this file was being "
            "imported; nothing was written — run it again (imported calls are skipped)"
        )
    violations = violation_details(judged, pack_id=pack_of(pack_name)).join(
        calls.select("contact_id", "case_id", pl.col("username").alias("actor")),
        on="contact_id",
    )
    result.violations = violations.height

    # the outcome sequences of the calls' cases: the stored contacts, then the new ones
    sequence = pl.concat(
        [
            tails.select("case_id", pl.col("id").alias("contact_id"), "at", "outcome",
                         pl.lit(False).alias("new")),
            calls.select("case_id", "contact_id", "at", "outcome", pl.lit(True).alias("new")),
        ]
    ).sort("case_id", "at", "contact_id").with_row_index("seq")  # fmt: skip
    contact_alerts = contact_alerts_frame(sequence).join(
        sequence.select("case_id", "seq", "contact_id"), on=["case_id", "seq"]
    )
    contact_alerts = contact_alerts.join(
        calls.select("contact_id", "outcome", pl.col("username").alias("actor")), on="contact_id"
    ).select(
        "case_id", "kind", "contact_id", "actor",
        pl.struct(pl.col("kind"), pl.col("contact_id"), pl.col("outcome"))
        .struct.json_encode().alias("details"),
    )  # fmt: skip

    first_invalid = (
        calls.filter((pl.col("outcome") == "invalid_number") & (pl.col("status") != "invalid"))
        .sort("contact_id")
        .unique("contact_point_id", keep="first", maintain_order=True)
    )
    events = pl.concat(
        [
            calls.select(
                pl.col("username").alias("actor"),
                pl.lit("contact.logged").alias("type"),
                pl.lit("contact").alias("entity_type"),
                pl.col("contact_id").alias("entity_id"),
                "case_id",
                pl.struct(
                    "channel", "outcome", "contact_point_id",
                    pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00").alias("at"),
                    pl.lit(None, dtype=pl.String).alias("callback_at"),
                    pl.lit(options.source).alias("source"),
                    "call_id",
                ).struct.json_encode().alias("payload"),
            ),
            violations.select(
                "actor",
                pl.lit("compliance.violation").alias("type"),
                pl.lit("contact").alias("entity_type"),
                pl.col("contact_id").alias("entity_id"),
                "case_id",
                "payload",
            ),
            first_invalid.select(
                pl.col("username").alias("actor"),
                pl.lit("contact_point.invalidated").alias("type"),
                pl.lit("contact_point").alias("entity_type"),
                pl.col("contact_point_id").alias("entity_id"),
                "case_id",
                pl.struct("contact_id").struct.json_encode().alias("payload"),
            ),
        ]
    )  # fmt: skip
    repo.insert_events(bulk, events, now=now)
    repo.mark_points_invalid(bulk, first_invalid["contact_point_id"])

    result.promises = take_promises(
        bulk,
        calls.filter(pl.col("outcome") == "promise").select(
            "case_id", "contact_id", pl.col("promise_fen").alias("amount_fen"),
            pl.col("promise_due").alias("due_date"), pl.lit(today).alias("today"),
            pl.col("user_id").alias("created_by"), pl.col("username").alias("actor"),
            "assigned_user_id",
        ),
        now=now,
    )  # fmt: skip

    alerts = (
        pl.concat(
            [
                violations.select(
                    "case_id",
                    pl.lit("compliance_violation").alias("kind"),
                    "contact_id",
                    "actor",
                    pl.col("payload").alias("details"),
                ),
                contact_alerts,
            ]
        )
        .sort("contact_id")
        .unique(["case_id", "kind"], keep="first", maintain_order=True)
    )
    if alerts.height:
        staged = bulk.stage(
            "call_alerts",
            alerts.select("case_id", "kind", "details", "actor"),
            schema={"case_id": pl.Int64(), "kind": pl.String(), "details": pl.String(),
                    "actor": pl.String()},
        )  # fmt: skip
        result.alerts = raise_staged(
            bulk,
            staged,
            business_date=today,
            now=now,
            actor=None,
        )

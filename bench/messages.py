"""Benchmark: a day's SMS batch rendered, screened, gated and queued; then sent.

    python -m bench.messages [--rows 100000] [--send 2000] [--postgres URL]

* queue — ``--rows`` open cases, each with a debtor mobile, on a fresh store (SQLite file,
  or a PostgreSQL database given by ``--postgres``, whose ``public`` schema is replaced):
  the candidates as the strategy's plan gives them (one SMS_REMINDER each), then
  ``messaging.service.queue_candidates``: render (the Polars twin), screen the rendered
  text again (the bulk prefilter ``compliance.screening.may_have_findings``, then
  ``screen`` on the texts it marks), gate in bulk
  (``compliance.planned.judge_planned``) and insert the outbox rows — seconds per phase.
* send — ``--send`` of those cases on the next day, sent through the Aliyun-style adapter to
  a local contract server (a threading ``http.server`` in this process, answering ``OK``):
  each message gated at send time, claimed, sent, recorded with its contact. Messages per
  second, throttle off.

Target (issue 15): the queue of 100,000 ≤ 10 s. Prints a table (stderr) and JSON (stdout).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from sqlalchemy import Engine, text

from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.gateways import AliyunSmsGateway
from cuishou.messaging.schemas import Selection
from cuishou.messaging.service import SendOptions, queue_candidates, send_due, system_principal
from cuishou.store.bulk import SessionBulk
from cuishou.store.db import make_engine, transaction, upgrade

console = Console(stderr=True)
DAY = date(2026, 11, 4)  # a Wednesday
MORNING = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def seed(engine: Engine, rows: int) -> None:
    """``rows`` debtors, each with one open case and one mobile, by bulk insert."""
    ids = pl.int_range(1, rows + 1, eager=True)
    with transaction(engine) as session:
        bulk = SessionBulk(session)
        session.execute(
            text(
                "INSERT INTO creditors (code, name, timezone, created_at) "
                "VALUES ('BENCH', '测试银行', 'Asia/Shanghai', :now)"
            ),
            {"now": MORNING.replace(tzinfo=None) if bulk.sqlite else MORNING},
        )
        debtors = pl.DataFrame(
            {
                "id": ids,
                "id_number": ids.map_elements(lambda n: f"1101011990{n:08d}", pl.String),
                "name": ids.map_elements(lambda n: SURNAMES[n % 20] + "伟", pl.String),
            }
        )
        staged = bulk.stage("bench_debtors", debtors)
        bulk.execute(
            f"""INSERT INTO debtors (id, id_number, name, gender, birth_date, timezone,
                created_at, updated_at)
            SELECT id, id_number, name, 'M', :born, 'Asia/Shanghai', :now, :now
            FROM {staged}""",
            born=date(1990, 1, 1),
            now=MORNING,
        )
        bulk.execute(
            f"""INSERT INTO cases (id, creditor_id, debtor_id, status, opened_on, accounts,
                due_fen, dpd, bucket, amount_tier, created_at, updated_at)
            SELECT id, (SELECT id FROM creditors WHERE code = 'BENCH'), id, 'open', :opened,
                1, 100000 + id * 37 % 900000, 20, 'M1', 'small', :now, :now
            FROM {staged}""",
            opened=date(2026, 10, 1),
            now=MORNING,
        )
        bulk.execute(
            f"""INSERT INTO contact_points (id, debtor_id, kind, value, label, owner,
                owner_name, status, source, created_at, verification)
            SELECT id, id, 'mobile', '139' || substr('00000000' || id, -8, 8), '', 'debtor',
                '', 'active', 'placement', :now, 'new'
            FROM {staged}""",
            now=MORNING,
        )


def candidates(engine: Engine) -> pl.DataFrame:
    with transaction(engine) as session:
        return SessionBulk(session).fetch(
            """SELECT c.id AS case_id, c.debtor_id, c.creditor_id, p.id AS contact_point_id,
                'sms' AS channel, 'SMS_REMINDER' AS template_code, d.name AS debtor_name,
                cr.name AS creditor_name, c.due_fen, NULL AS window_start
            FROM cases c JOIN debtors d ON d.id = c.debtor_id
            JOIN creditors cr ON cr.id = c.creditor_id
            JOIN contact_points p ON p.debtor_id = c.debtor_id ORDER BY c.id""",
            {
                "case_id": pl.Int64(), "debtor_id": pl.Int64(), "creditor_id": pl.Int64(),
                "contact_point_id": pl.Int64(), "channel": pl.String(),
                "template_code": pl.String(), "debtor_name": pl.String(),
                "creditor_name": pl.String(), "due_fen": pl.Int64(),
                "window_start": pl.Datetime("us", "UTC"),
            },
        )  # fmt: skip


@contextmanager
def sms_server() -> Iterator[tuple[str, list[int]]]:
    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                count[0] += 1
                n = count[0]
            body = json.dumps({"Code": "OK", "Message": "OK", "BizId": f"B{n}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", count
    finally:
        httpd.shutdown()
        httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=2_000)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            admin = make_engine(args.postgres)
            with admin.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            admin.dispose()
            url = args.postgres
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        seed(engine, args.rows)
        seeded = time.perf_counter() - started
        frame = candidates(engine)
        settings = MessagingSettings(per_second={"sms": 0.0})
        started = time.perf_counter()
        with transaction(engine) as session:
            principal = system_principal(session, now=MORNING)
            queued = queue_candidates(
                session, frame, principal, settings, day=DAY, now=MORNING, source="strategy"
            )
        queue_seconds = time.perf_counter() - started
        # sending: the first --send cases on the next day, through the local contract server
        next_day = DAY + timedelta(days=1)
        clock_now = [MORNING + timedelta(days=1)]
        picked = [
            Selection(case_id=c, contact_point_id=p, channel="sms", template_code="SMS_REMINDER")
            for c, p in frame.head(args.send).select("case_id", "contact_point_id").iter_rows()
        ]
        with sms_server() as (server_url, received):
            gateway = AliyunSmsGateway(
                endpoint=server_url, access_key_id="BENCH", access_key_secret="SECRET",
                sign_name="催收服务", clock=lambda: clock_now[0],
            )  # fmt: skip
            started = time.perf_counter()
            sent = send_due(
                engine, {"sms": gateway}, settings,
                SendOptions(day=next_day, channels=("sms",), clock=lambda: clock_now[0],
                            sleep=lambda s: None, selection=picked),
            )  # fmt: skip
            send_seconds = time.perf_counter() - started
        engine.dispose()
    result = {
        "store": "postgresql" if args.postgres else "sqlite",
        "rows": args.rows,
        "seed_seconds": round(seeded, 2),
        "queue_seconds": round(queue_seconds, 2),
        "queue_phases": {k: round(v, 2) for k, v in queued.seconds.items()},
        "queued": queued.queued,
        "blocked": queued.blocked,
        "send": args.send,
        "sent": sent.sent,
        "received": received[0],
        "send_seconds": round(send_seconds, 2),
        "sent_per_second": round(sent.sent / send_seconds, 1) if send_seconds else None,
    }
    console.print(
        f"queue {args.rows:,}: {queue_seconds:.2f} s "
        f"({', '.join(f'{k} {v:.2f} s' for k, v in queued.seconds.items())}); "
        f"send {sent.sent:,}: {send_seconds:.2f} s ({result['sent_per_second']}/s)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

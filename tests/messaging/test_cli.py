"""``cuishou messages send|receipts`` on both stores: the counts as JSON, receipts files
with their rejected rows kept. (No assertion here depends on the wall-clock hour.)"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.messaging.service import send_due
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Message, MessageJob
from tests.messaging.servers import contract_server
from tests.messaging.world import (
    FakeClock,
    make_cases,
    options,
    settings,
    sms_gateway,
    sms_selection,
)

runner = CliRunner()


def test_send_prints_the_counts_and_what_is_not_configured(
    store_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with contract_server() as server:
        monkeypatch.setenv("CUISHOU_SMS_URL", server.url)
        monkeypatch.setenv("CUISHOU_SMS_ACCESS_KEY_ID", "KEY")
        monkeypatch.setenv("CUISHOU_SMS_ACCESS_KEY_SECRET", "SECRET")
        result = runner.invoke(app, ["messages", "send", "--as-of", "2026-11-04", "--json"])
        text = runner.invoke(app, ["messages", "send", "--as-of", "2026-11-04", "--channel", "sms"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {"queued", "sent", "blocked", "blocked_by_rule", "failed", "dead"} <= set(body)
    assert body["not_configured"] == ["email", "wechat", "letter"]
    assert text.exit_code == 0 and "queued 0, sent 0, blocked 0, failed 0" in text.output
    engine = make_engine(store_env)
    with transaction(engine) as session:
        assert [j.status for j in session.scalars(select(MessageJob))] == ["done", "done"]
    engine.dispose()


def test_send_refuses_a_bad_date_or_channel(store_env: str) -> None:
    bad_date = runner.invoke(app, ["messages", "send", "--as-of", "04/11/2026"])
    bad_channel = runner.invoke(
        app, ["messages", "send", "--as-of", "2026-11-04", "--channel", "fax"]
    )
    assert bad_date.exit_code == 2 and "--as-of" in bad_date.output
    assert bad_channel.exit_code == 2 and "fax" in bad_channel.output
    assert "Traceback" not in bad_date.output + bad_channel.output


def test_a_receipts_file_applies_good_rows_and_keeps_rejected_ones(
    store_env: str, tmp_path: Path
) -> None:
    engine = make_engine(store_env)
    cases = make_cases(engine, 2)
    clock = FakeClock()
    with contract_server() as server:
        send_due(
            engine,
            {"sms": sms_gateway(server.url, clock)},
            settings(),
            options(clock, ("sms",), sms_selection(cases)),
        )
    with transaction(engine) as session:
        first, second = session.scalars(select(Message).order_by(Message.id)).all()
        keys = (first.key, second.provider_id)
    path = tmp_path / "receipts.csv"
    path.write_text(
        "out_id,biz_id,success,err_code\n"
        f"{keys[0]},,true,DELIVERED\n"
        f",{keys[1]},false,MOBILE_OFF\n"
        "9:NOPE:2026-11-04,,true,DELIVERED\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["messages", "receipts", str(path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["rows"], body["applied"], body["rejected"]) == (3, 2, 1)
    text = Path(body["rejected_file"]).read_text(encoding="utf-8-sig")
    rejected = list(csv.DictReader(text.splitlines()))
    assert rejected[0]["out_id"] == "9:NOPE:2026-11-04" and "no message" in rejected[0]["reason"]
    with transaction(engine) as session:
        statuses = [m.status for m in session.scalars(select(Message).order_by(Message.id))]
    assert statuses == ["delivered", "failed"]
    engine.dispose()

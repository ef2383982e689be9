"""Message rules: the render twins agree, keys, backoff, throttle, opt-outs, signatures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from cuishou.messaging.rules import (
    VARIABLES,
    RetryPolicy,
    Throttle,
    after_failure,
    is_opt_out,
    message_key,
    receipt_signature,
    render,
    render_frame,
    signature_ok,
    unknown_variables,
)

NOW = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
pieces = st.sampled_from([*(f"{{{v}}}" for v in VARIABLES), "{nope}", "您好", "，", "元", "{", "}"])
values = st.text(alphabet="张李*0123456789.{}-ab/:", max_size=12)


@given(
    bodies=st.lists(st.lists(pieces, max_size=12).map("".join), min_size=1, max_size=8),
    data=st.data(),
)
def test_the_frame_renders_what_the_scalar_renders(bodies: list[str], data: st.DataObject) -> None:
    rows = [{v: data.draw(values) for v in VARIABLES} for _ in bodies]
    frame = pl.DataFrame({"body": bodies, **{v: [r[v] for r in rows] for v in VARIABLES}})
    rendered = frame.select(render_frame(pl.col("body"), {v: pl.col(v) for v in VARIABLES}))
    assert rendered.to_series().to_list() == [
        render(b, r) for b, r in zip(bodies, rows, strict=True)
    ]


def test_render_fills_every_variable_and_names_unknown_ones() -> None:
    variables = dict.fromkeys(VARIABLES, "X") | {"name": "张*", "amount": "12.30"}
    assert render("{name}应还{amount}元{nope}", variables) == "张*应还12.30元{nope}"
    assert unknown_variables("{name}{nope}{amount}{nope}") == ["nope"]


def test_one_key_per_case_template_and_day() -> None:
    assert message_key(7, "SMS_REMINDER", date(2026, 11, 4)) == "7:SMS_REMINDER:2026-11-04"
    assert message_key(7, "SMS_REMINDER", date(2026, 11, 5)) != message_key(
        7, "SMS_REMINDER", date(2026, 11, 4)
    )


@given(attempts=st.integers(min_value=1, max_value=20))
def test_backoff_doubles_up_to_the_ceiling_and_ends_in_dead(attempts: int) -> None:
    policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=30), ceiling=timedelta(minutes=5))
    status, at = after_failure(attempts, retryable=True, policy=policy, now=NOW)
    if attempts >= 5:
        assert (status, at) == ("dead", None)
    else:
        assert status == "failed" and at is not None
        assert at - NOW == min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(minutes=5))
    assert after_failure(1, retryable=False, policy=policy, now=NOW) == ("dead", None)


def test_the_throttle_spaces_sends_and_forgets_idle_time() -> None:
    throttle = Throttle(per_second=4)
    assert throttle.wait(NOW) == 0
    assert throttle.wait(NOW) == 0.25
    assert throttle.wait(NOW) == 0.5
    assert throttle.wait(NOW + timedelta(seconds=10)) == 0
    assert Throttle(per_second=0).wait(NOW) == 0


def test_opt_out_replies() -> None:
    assert all(is_opt_out(r) for r in ("退订", "TD", " td ", "T", "STOP", "stop!", "取消订阅"))
    assert not any(
        is_opt_out(r) for r in ("我已还款", "TD明天还", "please stop calling me at work")
    )


def test_receipt_signatures() -> None:
    body = b'[{"out_id": "1:X:2026-11-04"}]'
    signature = receipt_signature(body, "s")
    assert signature_ok(body, signature, "s")
    assert not signature_ok(body + b" ", signature, "s")
    assert not signature_ok(body, signature, "")  # no secret configured: nothing is accepted

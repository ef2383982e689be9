"""The work-queue order (工作队列排序) as a pure key."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from cuishou.cases.rules import QueueFacts, queue_priority_key

facts = st.builds(
    QueueFacts,
    case_id=st.integers(min_value=1, max_value=10_000),
    callback_due=st.booleans(),
    promise_due=st.booleans(),
    bucket_rank=st.integers(min_value=-1, max_value=7),
    due_fen=st.integers(min_value=0, max_value=10**10),
    call_priority=st.sampled_from([1, 2, 5, 9, 99]),
)


@given(st.lists(facts, max_size=30, unique_by=lambda f: f.case_id))
def test_queue_order_is_call_priority_then_callbacks_then_promises_then_bucket_then_amount(
    items: list[QueueFacts],
) -> None:
    ordered = sorted(items, key=queue_priority_key)
    for first, second in itertools.pairwise(ordered):
        assert first.call_priority <= second.call_priority
        if first.call_priority != second.call_priority:
            continue
        assert first.callback_due >= second.callback_due
        if first.callback_due == second.callback_due:
            assert first.promise_due >= second.promise_due
            if first.promise_due == second.promise_due:
                assert first.bucket_rank >= second.bucket_rank
                if first.bucket_rank == second.bucket_rank:
                    assert first.due_fen >= second.due_fen


@given(st.lists(facts, max_size=30, unique_by=lambda f: f.case_id))
def test_queue_order_is_total_and_independent_of_input_order(items: list[QueueFacts]) -> None:
    assert sorted(items, key=queue_priority_key) == sorted(reversed(items), key=queue_priority_key)


def test_a_callback_due_beats_a_bigger_worse_case() -> None:
    small_callback = QueueFacts(1, True, False, 1, 100)
    big_bad = QueueFacts(2, False, True, 7, 10**9)
    assert sorted([big_bad, small_callback], key=queue_priority_key)[0] is small_callback

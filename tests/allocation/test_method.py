"""``solver.method: greedy`` applies the documented round-robin-by-amount baseline instead of
the min-cost flow (the simulator's comparison runs both through the real service)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings

from cuishou.allocation.config import AllocationSettings
from cuishou.allocation.rules import Collector, Policy, plan
from cuishou.allocation.service import policy_of
from tests.allocation.test_rules import AS_OF, NO_EFFECTS, POLICY, instances


@settings(max_examples=60)
@given(instances())
def test_the_greedy_method_applies_the_baseline(
    instance: tuple[pl.DataFrame, list[Collector]],
) -> None:
    cases, collectors = instance
    effects = pl.DataFrame(
        [(c.user_id, b, 0.6 + 0.3 * i + 0.1 * j) for i, c in enumerate(collectors)
         for j, b in enumerate(["M1", "M2", "M3"])],
        schema={"user_id": pl.Int64, "bucket": pl.String, "effect": pl.Float64},
        orient="row",
    )  # fmt: skip
    exact = Policy(**{**POLICY.__dict__, "exact_up_to": 10_000})
    flow = plan(cases, collectors, effects, exact, AS_OF)
    greedy = plan(cases, collectors, effects, Policy(**{**exact.__dict__, "method": "greedy"}),
                  AS_OF)  # fmt: skip
    # the same pool, the same figures; what is applied is the baseline's assignment
    assert greedy.moves["case_id"].to_list() == flow.moves["case_id"].to_list()
    assert greedy.objective == greedy.greedy_objective == flow.greedy_objective
    assert greedy.bound == flow.bound
    # exact (every case its own block): the optimum is never below the baseline
    assert flow.objective >= greedy.objective - 1e-6 * max(1.0, abs(greedy.objective)) - 1.0
    # each move's recorded gain is that of the assignment applied
    for result in (flow, greedy):
        total = float(result.moves["gain"].sum()) if result.moves.height else 0.0
        assert abs(total - result.objective) <= 1e-6 * max(1.0, abs(result.objective))
    # no effects at all: the method changes nothing about which cases are left
    plain = plan(cases, collectors, NO_EFFECTS, Policy(**{**POLICY.__dict__, "method": "greedy"}),
                 AS_OF)  # fmt: skip
    assert plain.moves["case_id"].to_list() == flow.moves["case_id"].to_list()


def test_the_setting_reaches_the_policy() -> None:
    settings_ = AllocationSettings.model_validate({"solver": {"method": "greedy"}})
    assert policy_of(settings_, []).method == "greedy"
    assert policy_of(AllocationSettings(), []).method == "min_cost_flow"

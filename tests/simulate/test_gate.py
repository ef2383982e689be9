"""The simulated calls go through the dialer import and the compliance gate: no contact
is outside what the gate allowed unless it is logged as a violation (property of the run)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from cuishou.compliance.service import decide_contact
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import DIALER_SOURCE, SimulationOptions, simulate
from cuishou.store.db import transaction
from cuishou.store.tables import Alert, Case, Contact, ContactPoint, Event
from tests.factories import NOW


def test_every_contact_the_gate_refuses_is_logged_as_a_violation(
    engine: Engine, tmp_path: Path
) -> None:
    # given a careless workforce: calls from 06:00 to 23:00 (CN-01) and third parties after
    # one failed call (CN-08), so the gate has something to refuse
    config = load_model_config()
    careless = config.workforce.model_copy(
        update={"start": "06:00", "end": "23:00", "third_party_after_failed": 1,
                "calls_per_day": 40}
    )  # fmt: skip
    config = config.model_copy(update={"workforce": careless})
    options = SimulationOptions(
        days=2, accounts=120, seed=11, collectors=2, directory=tmp_path,
        truth_path=tmp_path / "truth.parquet",
    )  # fmt: skip

    # when two days are simulated
    result = simulate(engine, options, config, clock=lambda: NOW)

    # then every stored call came from the simulated dialer file, and each call the gate
    # (its scalar form, against the history before the call) refuses has its violation
    with transaction(engine) as session:
        contacts = session.execute(
            select(Contact, Case, ContactPoint)
            .join(Case, Case.id == Contact.case_id)
            .join(ContactPoint, ContactPoint.id == Contact.contact_point_id)
            .order_by(Contact.id)
        ).all()
        flagged = {
            event.entity_id: event.payload
            for event in session.scalars(select(Event).where(Event.type == "compliance.violation"))
        }
        alerted = set(
            session.scalars(select(Alert.case_id).where(Alert.kind == "compliance_violation"))
        )
        refused: dict[int, tuple[str, ...]] = {}
        for contact, case, point in contacts:
            decision, _pack = decide_contact(
                session, case, point, channel=contact.channel, at=contact.at
            )
            if not decision.allowed:
                refused[contact.id] = decision.rule_ids
    assert len(contacts) == result.total.calls
    assert {contact.source for contact, _case, _point in contacts} == {DIALER_SOURCE}
    assert refused, "the careless workforce broke no rule: the property was not exercised"
    missing = sorted(set(refused) - set(flagged))
    assert not missing, f"contacts refused by the gate but not logged as violations: {missing}"
    for contact_id, rules in refused.items():
        assert set(flagged[contact_id]["rules"]) == set(rules)
    assert result.total.violations == len(flagged)
    cases = {case.id for contact, case, _point in contacts if contact.id in flagged}
    assert cases == alerted  # each case with a violation has its alert

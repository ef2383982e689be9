"""A world for visit tests: team A's case with a Shenzhen address, the pages' clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from cuishou.store.db import transaction
from tests.factories import NOW as FACTORY_NOW
from tests.web.factories import make_contact_point
from tests.web.world import World, build_world

#: 2026-11-01 10:00 in Beijing (the world's tokens are issued then, for 8 hours); the
#: visits go the same afternoon
NOW = FACTORY_NOW
VISIT_DAY = "2026-11-01"
ADDRESS = "广东省深圳市南山区人民路12号阳光花园3栋1单元502室"


@dataclass
class VisitWorld:
    world: World
    case_id: int
    address_id: int

    def token(self, name: str) -> str:
        return self.world.tokens[name]


def visit_world(engine: Engine, *, address: str = ADDRESS) -> VisitWorld:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        point = make_contact_point(session, debtor_id=case.debtor_id, kind="address", value=address)
        return VisitWorld(world, case.id, point.id)

"""Rule packs: shipped packs load; a bad pack is refused naming the wrong field."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from cuishou.compliance import pack as pack_module
from cuishou.compliance.pack import (
    UNIVERSAL_CHECKS,
    RulePackError,
    load_pack,
    load_pack_file,
    shipped_packs,
)

PACKS_DIR = Path(pack_module.__file__).parent / "packs"


def cn_raw() -> dict[str, Any]:
    raw = yaml.safe_load((PACKS_DIR / "cn.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def write(tmp_path: Path, raw: Any) -> Path:
    path = tmp_path / "my.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_packs_load_with_their_parameters() -> None:
    assert set(shipped_packs()) >= {"cn", "us-regf"}
    cn = load_pack("cn")
    assert (cn.contact_hours.start, cn.contact_hours.end) == (time(8), time(21))
    assert cn.limits.unanswered_per_number_per_day == 6
    assert cn.limits.connected_calls_per_debtor_per_day == 3
    assert cn.visit_min_collectors == 2
    assert cn.holidays is not None and date(2026, 10, 1) in cn.holidays.dates
    us = load_pack("us-regf")
    assert us.limits.calls_per_7_days == 7 and us.limits.quiet_days_after_conversation == 7
    assert us.electronic_opt_out and us.suspend_on == {"dispute", "cease"}
    assert (cn.retention_years, us.retention_years) == (5, 3)


def test_a_pack_file_with_a_changed_parameter_is_used_as_written(tmp_path: Path) -> None:
    raw = cn_raw()
    raw["limits"]["unanswered_per_number_per_day"] = 4
    raw["contact_hours"]["end"] = "20:00"
    pack = load_pack_file(write(tmp_path, raw))
    assert pack.limits.unanswered_per_number_per_day == 4
    assert pack.contact_hours.end == time(20)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["contact_hours"].update(start="07:00"),
            "contact_hours: 07:00–21:00 goes outside the regulation's 08:00–22:00",
        ),
        (
            lambda r: r["limits"].update(unanswered_per_number_per_day=0),
            "limits.unanswered_per_number_per_day: Input should be greater than or equal to 1",
        ),
        (
            lambda r: r["rule_ids"].pop("connected"),
            "rule_ids has no id for the check(s) connected",
        ),
        (
            lambda r: r.update(default_timezone="Asia/Beijing"),
            "default_timezone: unknown time zone 'Asia/Beijing'",
        ),
        (
            lambda r: r["limits"].update(unanswerd_per_day=5),
            "limits.unanswerd_per_day: Extra inputs are not permitted",
        ),
        (
            lambda r: r["visit_hours"].update(start="21:00"),
            "visit_hours: start 21:00 must be before end 20:00",
        ),
        (
            lambda r: r.update(suspend_on=["dispute", "holiday"]),
            "suspend_on.1: Input should be 'dispute', 'complaint' or 'cease'",
        ),
        # an opt-out is honoured under every pack: it cannot be forgotten, switched off
        # or overridden
        (
            lambda r: r["rule_ids"].pop("opt_out"),
            "rule_ids has no id for the check(s) opt_out",
        ),
        (
            lambda r: r.update(electronic_opt_out=False),
            "electronic_opt_out: opt-outs cannot be switched off",
        ),
        (
            lambda r: r.update(overridable=["CN-01", "CN-X-OPTOUT"]),
            "overridable names CN-X-OPTOUT, the opt-out rule: an opt-out is final",
        ),
    ],
)
def test_a_bad_pack_is_refused_naming_the_field(tmp_path: Path, change: Any, message: str) -> None:
    raw = cn_raw()
    change(raw)
    with pytest.raises(RulePackError) as caught:
        load_pack_file(write(tmp_path, raw))
    assert message in caught.value.message
    assert str(tmp_path / "my.yaml") in caught.value.message


def test_every_pack_makes_the_universal_checks(tmp_path: Path) -> None:
    # a pack that switches on nothing of its own still judges hours, third parties, opt-outs
    raw = cn_raw()
    for key in ("holidays", "limits", "third_parties", "suspend_on", "overridable"):
        raw.pop(key)
    raw["visit_min_collectors"] = 1
    raw["rule_ids"] = {check: "X-1" for check in UNIVERSAL_CHECKS}
    minimal = load_pack_file(write(tmp_path, raw))
    assert minimal.checks() == UNIVERSAL_CHECKS == {
        "hours", "visit_hours", "third_party_named", "third_party_unreachable", "opt_out",
    }  # fmt: skip
    for name in shipped_packs():
        assert load_pack(name).checks() >= UNIVERSAL_CHECKS
    # older pack files that switched opt-outs on still load
    raw["electronic_opt_out"] = True
    assert load_pack_file(write(tmp_path, raw)).checks() == UNIVERSAL_CHECKS


def test_not_a_pack_at_all(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="expected a mapping"):
        load_pack_file(write(tmp_path, ["a", "list"]))
    broken = tmp_path / "broken.yaml"
    broken.write_text("contact_hours: [unclosed", encoding="utf-8")
    with pytest.raises(RulePackError, match="cannot read rule pack"):
        load_pack_file(broken)
    with pytest.raises(RulePackError, match="no rule pack 'xx'; shipped packs: cn, us-regf"):
        load_pack("xx")

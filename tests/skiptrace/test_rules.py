"""Contact-point values (联系方式) and review rules: pure, with properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cuishou.contact.rules import (
    POINT_KINDS,
    NewPoint,
    new_point,
    point_value,
    verification_problem,
)
from cuishou.placement.rules import Reason, normalize_phone
from cuishou.scoring.service import default_label_pack
from cuishou.skiptrace.rules import UNREACHABLE, point_row, request_row


def test_values_are_normalised_as_the_placement_import_does() -> None:
    assert point_value("mobile", "+86 138-1234-1234") == "13812341234"
    assert point_value("phone", "(0755)12345678") == normalize_phone("(0755)12345678")
    assert point_value("phone", "13812341234") == "13812341234"  # a mobile is a phone too
    assert point_value("email", " Zhang.San@Example.COM ") == "Zhang.San@example.com"
    assert point_value("wechat", "zhang_san88") == "zhang_san88"
    assert point_value("wechat", "138 1234 1234") == "13812341234"
    assert point_value("address", " 北京市  朝阳区 建国路88号 ") == "北京市 朝阳区 建国路88号"
    for kind, bad in [("mobile", "0755-12345678"), ("email", "a@b"), ("wechat", "9abcdef"),
                      ("address", "北京"), ("fax", "123")]:  # fmt: skip
        assert isinstance(point_value(kind, bad), Reason), (kind, bad)


@given(st.sampled_from(POINT_KINDS), st.text(max_size=40))
def test_a_stored_value_is_a_fixed_point_of_normalisation(kind: str, text: str) -> None:
    stored = point_value(kind, text)
    if not isinstance(stored, Reason):
        assert point_value(kind, stored) == stored


def test_a_third_party_needs_a_name_and_a_relation_is_coded() -> None:
    unnamed = new_point(kind="mobile", value="13900001111", owner="third_party", source="debtor")
    assert isinstance(unnamed, Reason) and "name" in unnamed.en
    spouse = new_point(kind="mobile", value="13900001111", owner="third_party",
                       source="debtor", owner_name=" 李  娜 ", relation="配偶")  # fmt: skip
    assert spouse == NewPoint("mobile", "13900001111", "third_party", "李 娜", "spouse", "debtor")
    own = new_point(kind="MOBILE", value="13900001111", owner="debtor", source="debtor",
                    owner_name="ignored", relation="配偶")  # fmt: skip
    assert isinstance(own, NewPoint) and (own.kind, own.owner_name, own.relation) == (
        "mobile", "", None
    )  # fmt: skip
    assert isinstance(new_point(kind="mobile", value="13900001111", owner="debtor",
                                source="placement"), Reason)  # fmt: skip


def test_review_rules() -> None:
    assert verification_problem("new", "verified", "") is None
    assert verification_problem("new", "invalid", "空号") is None
    assert "reason" in (verification_problem("new", "invalid", "  ") or "")
    assert "already" in (verification_problem("invalid", "invalid", "空号") or "")
    assert verification_problem("new", "new", "x") is not None


def test_the_queue_label_is_the_shared_label_of_the_shipped_pack() -> None:
    assert UNREACHABLE in {rule.code for rule in default_label_pack().labels}


def test_a_request_row_is_masked_and_a_result_row_decided() -> None:
    row = request_row(case_id=7, name="张三丰", id_number="110101199003071234",
                      province="北京市", city=None, requested_on="2026-11-01")  # fmt: skip
    assert row["debtor_name"] == "张**" and row["id_number"] == "110***********1234"
    assert row["city"] == ""
    taken = point_row({"case_id": "7", "kind": "mobile", "value": "13655556666", "owner": "本人"},
                      default_source="repair_vendor")  # fmt: skip
    assert not isinstance(taken, Reason) and taken.case_id == 7
    assert taken.point.source == "repair_vendor" and taken.point.owner == "debtor"
    assert isinstance(point_row({"case_id": "x7"}, default_source="repair_vendor"), Reason)

"""Each adapter against its local server: the exact requests, the signature, what arrived."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pypdf import PdfReader

from cuishou.messaging.gateways import (
    AliyunSmsGateway,
    LetterPrinter,
    Outbound,
    SmtpGateway,
    WechatTemplateGateway,
    aliyun_signature,
    percent_encode,
)
from tests.messaging.servers import contract_server, smtp_server

AT = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
PARAMS = {
    "name": "张*",
    "amount": "12345.67",
    "due_date": "2026-11-11",
    "creditor": "测试银行",
    "pay_link": "https://pay.example.com/p/abc",
    "case_ref": "abc",
}


def outbound(channel: str, to: str, *, message_id: int = 1, body: str = "您好 测试") -> Outbound:
    return Outbound(
        message_id=message_id,
        key=f"{message_id}:T:2026-11-04",
        channel=channel,
        to=to,
        body=body,
        template_code="SMS_REMINDER",
        params=PARAMS,
        recipient_name="张*",
    )


def test_the_sms_request_is_aliyun_sendsms_signed_over_the_canonical_query() -> None:
    with contract_server() as server:
        gateway = AliyunSmsGateway(
            endpoint=server.url + "/",
            access_key_id="KEYID",
            access_key_secret="SECRET",
            sign_name="催收服务",
            clock=lambda: AT,
            template_codes={"SMS_REMINDER": "SMS_1234"},
        )

        results = gateway.send([outbound("sms", "13812341234")])

    assert results[0].ok and results[0].provider_id == "BIZ000001"
    (request,) = server.sms()
    assert request.method == "POST" and request.path == "/"
    form = request.form
    assert form["AccessKeyId"] == "KEYID" and form["PhoneNumbers"] == "13812341234"
    assert form["SignName"] == "催收服务" and form["TemplateCode"] == "SMS_1234"
    assert json.loads(form["TemplateParam"]) == PARAMS
    assert form["Timestamp"] == "2026-11-04T02:00:00Z" and form["OutId"] == "1:T:2026-11-04"
    assert form["SignatureMethod"] == "HMAC-SHA1" and form["Version"] == "2017-05-25"
    unsigned = {k: v for k, v in form.items() if k != "Signature"}
    assert form["Signature"] == provider_signature(unsigned, "SECRET")
    assert provider_signature(unsigned, "OTHER") != form["Signature"]


def provider_signature(form: dict[str, str], secret: str) -> str:
    """The provider's check, written from Aliyun's RPC signature rules: the parameters
    sorted by name, each percent-encoded (RFC 3986, UTF-8), joined, then encoded again into
    ``POST&%2F&…`` and signed with HMAC-SHA1 under ``secret&``."""
    unreserved = "-_.~"
    canonical = "&".join(
        f"{quote(k, safe=unreserved)}={quote(v, safe=unreserved)}" for k, v in sorted(form.items())
    )
    to_sign = "POST&%2F&" + quote(canonical, safe=unreserved)
    mac = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def test_the_signature_follows_the_providers_rules_for_cjk_spaces_and_stars() -> None:
    params = {"SignName": "催收 服务*", "TemplateParam": '{"a": "~x y"}', "Action": "SendSms"}
    assert aliyun_signature(params, "s3cret") == provider_signature(params, "s3cret")
    assert percent_encode("a b*c~") == "a%20b%2Ac~"


def test_sms_errors_are_retryable_or_not_as_the_provider_says() -> None:
    with contract_server() as server:
        server.answers = [
            (500, {}),
            (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}),
            (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}),
        ]
        gateway = AliyunSmsGateway(
            endpoint=server.url,
            access_key_id="K",
            access_key_secret="S",
            sign_name="x",
            clock=lambda: AT,
        )
        results = gateway.send(
            [outbound("sms", "1381234123" + str(i), message_id=i) for i in range(3)]
        )
    assert [(r.ok, r.retryable) for r in results] == [(False, True), (False, False), (False, True)]
    assert "MOBILE_NUMBER_ILLEGAL" in results[1].error


def test_email_arrives_at_the_smtp_server_in_utf8_with_our_key() -> None:
    with smtp_server() as box:
        gateway = SmtpGateway(
            host=box.host,
            port=box.port,
            sender="notice@cuishou.example",
            subjects={"SMS_REMINDER": "还款提醒"},
        )
        results = gateway.send(
            [outbound("email", "zhang@example.com", body="张*您好：应还12345.67元")]
        )
    assert results[0].ok
    ((sender, rcpts, mail),) = box.messages
    assert sender == "notice@cuishou.example" and rcpts == ["zhang@example.com"]
    assert mail["Subject"] == "还款提醒" and mail["X-Cuishou-Key"] == "1:T:2026-11-04"
    assert "应还12345.67元" in mail.get_content()
    assert (
        results[0].provider_id == mail["Message-ID"].strip() == "<1.T.2026-11-04@cuishou.example>"
    )


def test_wechat_template_message_takes_a_token_then_posts_the_template() -> None:
    with contract_server() as server:
        gateway = WechatTemplateGateway(
            base_url=server.url,
            app_id="wxAPP",
            app_secret="SEC",
            template_ids={"SMS_REMINDER": "TPL-9"},
        )
        results = gateway.send(
            [outbound("wechat", "oOPENID1"), outbound("wechat", "oOPENID2", message_id=2)]
        )
    assert [r.ok for r in results] == [True, True]
    token, first, second = server.received
    assert token.path == "/cgi-bin/token"
    assert token.query == {"grant_type": "client_credential", "appid": "wxAPP", "secret": "SEC"}
    assert first.path == "/cgi-bin/message/template/send"
    assert first.query == {"access_token": "TOKEN-1"}
    payload = json.loads(first.body)
    assert payload["touser"] == "oOPENID1" and payload["template_id"] == "TPL-9"
    assert payload["url"] == PARAMS["pay_link"]
    assert payload["data"]["keyword2"] == {"value": "12345.67"}
    assert json.loads(second.body)["touser"] == "oOPENID2"


def test_letters_are_one_merged_cjk_pdf_and_a_manifest_with_masked_addresses(
    tmp_path: Path,
) -> None:
    printer = LetterPrinter(directory=tmp_path, clock=lambda: AT)
    batch = [
        outbound(
            "letter", "北京市朝阳区建国路88号3单元501", body="催收函：张*您好，应还金额12345.67元。"
        ),
        outbound("letter", "上海市浦东新区世纪大道100号", message_id=2, body="催收函：李*您好。"),
    ]
    results = printer.send(batch)
    assert all(r.ok for r in results)
    assert printer.last_files is not None
    pdf_path, csv_path = printer.last_files
    reader = PdfReader(pdf_path)
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    assert "应还金额12345.67元" in first and "北京市朝阳区****" in first
    assert "建国路88号" not in first
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert [r["address"] for r in rows] == ["北京市朝阳区****", "上海市浦东新****"]
    assert rows[0]["key"] == "1:T:2026-11-04" and rows[1]["pages"] == "1"

"""The delivery interface and its adapters (短信网关, 邮件, 微信模板消息, 信函打印).

Every adapter is a :class:`Gateway`: ``send(batch)`` hands a batch of rendered messages to
the outside world and returns one :class:`SendResult` per message, in order. The service
claims the messages before and records the results after (exactly once: ADR 0031); an
adapter never touches the store.

- :class:`AliyunSmsGateway` — an HTTP SMS gateway in the shape of Aliyun's ``SendSms``
  (RPC style, ``Signature`` = HMAC-SHA1 over the canonicalised query, ``SignName``,
  ``TemplateCode``, ``TemplateParam`` JSON, ``PhoneNumbers``, ``OutId`` = our key).
- :class:`SmtpGateway` — e-mail over SMTP with the standard library.
- :class:`WechatTemplateGateway` — WeChat official-account template messages
  (``cgi-bin/token`` then ``cgi-bin/message/template/send``).
- :class:`LetterPrinter` — letters as CJK PDFs bundled into one print batch: a merged PDF
  and a manifest CSV with the (masked) addresses.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import smtplib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from pypdf import PdfReader, PdfWriter

from cuishou.agreements.document import DocumentLine, render_pdf
from cuishou.kit.masking import mask_address


@dataclass(frozen=True, slots=True)
class Outbound:
    """One rendered message as a gateway sees it."""

    message_id: int
    key: str
    channel: str
    to: str  # a mobile, an e-mail address, an openid or a postal address
    body: str
    template_code: str
    params: dict[str, str] = field(default_factory=dict)
    recipient_name: str = ""  # masked


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: int
    ok: bool
    provider_id: str | None = None
    error: str = ""
    retryable: bool = False


class Gateway(Protocol):
    """Hands a batch to the outside world: one result per message, in order. An adapter
    holding connections may also have ``close()`` (the run calls it at its end)."""

    channel: str

    def send(self, batch: Sequence[Outbound]) -> list[SendResult]: ...


# --------------------------------------------------------------------------- SMS


def percent_encode(text: str) -> str:
    """Aliyun's POP percent-encoding (RFC 3986: space → %20, ``*`` → %2A, ``~`` kept)."""
    return quote(text, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, *, method: str = "POST") -> str:
    """The ``Signature`` of an Aliyun RPC request: HMAC-SHA1 with ``secret&`` over
    ``METHOD&%2F&percent(canonicalised query)``, base64."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


#: Aliyun error codes worth retrying (flow control, the provider's own trouble)
SMS_RETRYABLE = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY", "Throttling"}
)


@dataclass
class AliyunSmsGateway:
    """``SendSms`` over HTTP(S) POST, one request per message (each has its own params)."""

    endpoint: str
    access_key_id: str
    access_key_secret: str
    sign_name: str
    clock: Callable[[], datetime]
    #: our template code → the provider's approved template code (default: the same)
    template_codes: dict[str, str] = field(default_factory=dict)
    region: str = "cn-hangzhou"
    timeout: float = 10.0
    client: httpx.Client | None = None
    channel: str = "sms"

    def request_params(self, message: Outbound, *, nonce: str) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.key,
            "PhoneNumbers": message.to,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_codes.get(message.template_code, message.template_code),
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, sort_keys=True),
            "Timestamp": self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self.access_key_secret)
        return params

    def send(self, batch: Sequence[Outbound]) -> list[SendResult]:
        client = self._http()
        return [self._one(client, m) for m in batch]

    def _http(self) -> httpx.Client:
        """One client for the gateway's life (kept-alive connections, one TLS context)."""
        if self.client is None:
            self.client = httpx.Client(timeout=self.timeout)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _one(self, client: httpx.Client, message: Outbound) -> SendResult:
        params = self.request_params(message, nonce=uuid.uuid4().hex)
        try:
            response = client.post(self.endpoint, data=params)
        except httpx.HTTPError as exc:
            return SendResult(message.message_id, False, error=f"transport: {exc}", retryable=True)
        if response.status_code >= 500:
            return SendResult(
                message.message_id, False, error=f"HTTP {response.status_code}", retryable=True
            )
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            return SendResult(
                message.message_id, False, error=f"HTTP {response.status_code}: not JSON",
                retryable=response.status_code >= 500,
            )  # fmt: skip
        code = str(body.get("Code", ""))
        if code == "OK":
            return SendResult(message.message_id, True, provider_id=str(body.get("BizId", "")))
        return SendResult(
            message.message_id, False, error=f"{code}: {body.get('Message', '')}",
            retryable=code in SMS_RETRYABLE,
        )  # fmt: skip


# --------------------------------------------------------------------------- e-mail


@dataclass
class SmtpGateway:
    """E-mail over SMTP (``smtplib``), one connection per batch; STARTTLS and login when
    configured. The ``Message-ID`` carries our key, so a receipt or a bounce names it."""

    host: str
    port: int
    sender: str
    sender_name: str = "催收服务中心"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0
    subjects: dict[str, str] = field(default_factory=dict)
    channel: str = "email"

    def compose(self, message: Outbound) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = formataddr((self.sender_name, self.sender))
        mail["To"] = message.to
        mail["Subject"] = self.subjects.get(message.template_code, "账户通知 / Account notice")
        domain = self.sender.partition("@")[2] or "cuishou.local"
        # the same message keeps its Message-ID on every attempt (receivers drop duplicates)
        mail["Message-ID"] = f"<{message.key.replace(':', '.')}@{domain}>"
        mail["X-Cuishou-Key"] = message.key
        mail.set_content(message.body, charset="utf-8")
        return mail

    def send(self, batch: Sequence[Outbound]) -> list[SendResult]:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except OSError as exc:
            return [
                SendResult(m.message_id, False, error=f"smtp: {exc}", retryable=True) for m in batch
            ]
        results = []
        with smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            for message in batch:
                mail = self.compose(message)
                try:
                    refused = smtp.send_message(mail)
                except smtplib.SMTPRecipientsRefused as exc:
                    results.append(SendResult(message.message_id, False, error=str(exc)))
                    continue
                except (smtplib.SMTPException, OSError) as exc:
                    results.append(
                        SendResult(message.message_id, False, error=str(exc), retryable=True)
                    )
                    continue
                if refused:
                    results.append(SendResult(message.message_id, False, error=str(refused)))
                else:
                    results.append(
                        SendResult(message.message_id, True, provider_id=mail["Message-ID"])
                    )
        return results


# --------------------------------------------------------------------------- WeChat


#: WeChat errcodes worth retrying: system busy, access_token invalid/expired
WECHAT_RETRYABLE = frozenset({-1, 40001, 42001, 45009})


@dataclass
class WechatTemplateGateway:
    """Official-account template messages: an ``access_token`` from ``/cgi-bin/token``,
    then ``POST /cgi-bin/message/template/send`` with ``touser`` (the openid),
    ``template_id``, ``url`` (the payment link) and ``data``."""

    base_url: str
    app_id: str
    app_secret: str
    #: our template code → the official account's template id (default: the same)
    template_ids: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    client: httpx.Client | None = None
    channel: str = "wechat"
    _token: str | None = None

    def access_token(self, client: httpx.Client) -> str:
        if self._token is None:
            response = client.get(
                f"{self.base_url}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.app_secret,
                },
            )
            body = response.json()
            if "access_token" not in body:
                raise WechatError(f"{body.get('errcode')}: {body.get('errmsg')}")
            self._token = str(body["access_token"])
        return self._token

    def payload(self, message: Outbound) -> dict[str, Any]:
        params = message.params
        return {
            "touser": message.to,
            "template_id": self.template_ids.get(message.template_code, message.template_code),
            "url": params.get("pay_link", ""),
            "data": {
                "first": {"value": message.body},
                "keyword1": {"value": params.get("name", "")},
                "keyword2": {"value": params.get("amount", "")},
                "keyword3": {"value": params.get("due_date", "")},
                "remark": {"value": params.get("creditor", "")},
            },
        }

    def send(self, batch: Sequence[Outbound]) -> list[SendResult]:
        if self.client is None:
            self.client = httpx.Client(timeout=self.timeout)
        client = self.client
        try:
            token = self.access_token(client)
        except (httpx.HTTPError, ValueError, WechatError) as exc:
            return [
                SendResult(m.message_id, False, error=f"token: {exc}", retryable=True)
                for m in batch
            ]
        return [self._one(client, token, m) for m in batch]

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _one(self, client: httpx.Client, token: str, message: Outbound) -> SendResult:
        try:
            response = client.post(
                f"{self.base_url}/cgi-bin/message/template/send",
                params={"access_token": token},
                content=json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return SendResult(message.message_id, False, error=f"transport: {exc}", retryable=True)
        code = int(body.get("errcode", -1))
        if code == 0:
            return SendResult(message.message_id, True, provider_id=str(body.get("msgid", "")))
        if code in (40001, 42001):
            self._token = None  # fetched again on the next batch
        return SendResult(
            message.message_id, False, error=f"{code}: {body.get('errmsg', '')}",
            retryable=code in WECHAT_RETRYABLE,
        )  # fmt: skip


class WechatError(Exception):
    """The token endpoint refused (bad app id or secret)."""


# --------------------------------------------------------------------------- letters

MANIFEST_COLUMNS = ("message_id", "key", "case_ref", "recipient", "address", "template", "pages")


@dataclass
class LetterPrinter:
    """A print batch (信函打印批次): one merged PDF and a manifest CSV in ``directory``.

    Each letter is rendered as its own CJK PDF (the agreement document's renderer) and the
    pages are merged, so a letter always starts on a new sheet. Addresses in the manifest are
    masked unless ``reveal`` (a permission the caller checked and recorded)."""

    directory: Path
    clock: Callable[[], datetime]
    reveal: bool = False
    title: str = "催收函"
    channel: str = "letter"
    #: the files of the last batch (the job reports them)
    last_files: tuple[Path, Path] | None = None

    def send(self, batch: Sequence[Outbound]) -> list[SendResult]:
        if not batch:
            return []
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = self.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"letters-{stamp}-{batch[0].message_id}"
        writer = PdfWriter()
        manifest = io.StringIO()
        rows = csv.writer(manifest)
        rows.writerow(MANIFEST_COLUMNS)
        for message in batch:
            pdf = render_pdf(
                self.title,
                [
                    DocumentLine(f"收件人：{message.recipient_name}"),
                    DocumentLine(
                        f"地址：{message.to if self.reveal else mask_address(message.to)}"
                    ),
                    DocumentLine(""),
                    *[DocumentLine(part) for part in message.body.split("\n")],
                    DocumentLine(""),
                    DocumentLine(f"编号：{message.key}", size=9),
                ],
            )
            reader = PdfReader(io.BytesIO(pdf))
            for page in reader.pages:
                writer.add_page(page)
            rows.writerow(
                [
                    message.message_id,
                    message.key,
                    message.params.get("case_ref", ""),
                    message.recipient_name,
                    message.to if self.reveal else mask_address(message.to),
                    message.template_code,
                    len(reader.pages),
                ]
            )
        pdf_path = self.directory / f"{name}.pdf"
        csv_path = self.directory / f"{name}.csv"
        # written whole to a temporary name, then renamed: a batch is there or it is not
        tmp_pdf, tmp_csv = pdf_path.with_suffix(".pdf.part"), csv_path.with_suffix(".csv.part")
        with tmp_pdf.open("wb") as out:
            writer.write(out)
        tmp_csv.write_text(manifest.getvalue(), encoding="utf-8-sig")
        tmp_pdf.replace(pdf_path)
        tmp_csv.replace(csv_path)
        self.last_files = (pdf_path, csv_path)
        return [SendResult(m.message_id, True, provider_id=f"{name}.pdf") for m in batch]

"""The configured gateways (one per channel whose settings are present)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.gateways import (
    AliyunSmsGateway,
    Gateway,
    LetterPrinter,
    SmtpGateway,
    WechatTemplateGateway,
)


def gateways_for(
    settings: MessagingSettings, *, clock: Callable[[], datetime], reveal: bool = False
) -> dict[str, Gateway]:
    """One gateway per configured channel; ``reveal``: the letters' manifest shows
    addresses unmasked (the caller checked ``pii.reveal`` and records it per case)."""
    ready = settings.channels()
    gateways: dict[str, Gateway] = {}
    if "sms" in ready:
        gateways["sms"] = AliyunSmsGateway(
            endpoint=settings.sms_url, access_key_id=settings.sms_key_id,
            access_key_secret=settings.sms_key_secret, sign_name=settings.sms_sign_name,
            clock=clock,
        )  # fmt: skip
    if "email" in ready:
        gateways["email"] = SmtpGateway(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
            username=settings.smtp_username, password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )  # fmt: skip
    if "wechat" in ready:
        gateways["wechat"] = WechatTemplateGateway(
            base_url=settings.wechat_url, app_id=settings.wechat_app_id,
            app_secret=settings.wechat_app_secret,
        )  # fmt: skip
    if "letter" in ready and settings.letters_dir is not None:
        gateways["letter"] = LetterPrinter(
            directory=settings.letters_dir, clock=clock, reveal=reveal
        )
    return gateways

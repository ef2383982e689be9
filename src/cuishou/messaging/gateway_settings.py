"""Where the gateways are and how fast to send: settings from the environment.

Every gateway is configured by ``CUISHOU_*`` variables (docs/messages.md); a channel
without its settings is reported as not configured, never silently skipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cuishou.kit.errors import ConfigError
from cuishou.messaging.rules import RetryPolicy


@dataclass(frozen=True)
class MessagingSettings:
    sms_url: str = ""
    sms_key_id: str = ""
    sms_key_secret: str = ""
    sms_sign_name: str = "催收服务"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    wechat_url: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    letters_dir: Path | None = None
    #: the receipt callback's HMAC secret (``X-Cuishou-Signature``)
    receipt_secret: str = ""
    #: the payment link's base (the self-service portal comes later)
    pay_link_base: str = "https://pay.example.com/p/"
    ref_secret: str = "cuishou-case-ref"
    #: a reminder asks to pay within this many days
    pay_within_days: int = 7
    per_second: Mapping[str, float] = field(
        default_factory=lambda: {"sms": 50.0, "email": 20.0, "wechat": 20.0, "letter": 0.0}
    )
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def channels(self) -> list[str]:
        """The channels whose gateway is configured."""
        ready = []
        if self.sms_url and self.sms_key_id and self.sms_key_secret:
            ready.append("sms")
        if self.smtp_host and self.smtp_sender:
            ready.append("email")
        if self.wechat_url and self.wechat_app_id and self.wechat_app_secret:
            ready.append("wechat")
        if self.letters_dir is not None:
            ready.append("letter")
        return ready


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None


def settings_from_env(env: Mapping[str, str] | None = None) -> MessagingSettings:
    env = os.environ if env is None else env
    letters = env.get("CUISHOU_LETTERS_DIR", "")
    return MessagingSettings(
        sms_url=env.get("CUISHOU_SMS_URL", ""),
        sms_key_id=env.get("CUISHOU_SMS_ACCESS_KEY_ID", ""),
        sms_key_secret=env.get("CUISHOU_SMS_ACCESS_KEY_SECRET", ""),
        sms_sign_name=env.get("CUISHOU_SMS_SIGN_NAME", "催收服务"),
        smtp_host=env.get("CUISHOU_SMTP_HOST", ""),
        smtp_port=int(_float(env, "CUISHOU_SMTP_PORT", 25)),
        smtp_sender=env.get("CUISHOU_SMTP_SENDER", ""),
        smtp_username=env.get("CUISHOU_SMTP_USERNAME", ""),
        smtp_password=env.get("CUISHOU_SMTP_PASSWORD", ""),
        smtp_starttls=env.get("CUISHOU_SMTP_STARTTLS", "") == "1",
        wechat_url=env.get("CUISHOU_WECHAT_URL", ""),
        wechat_app_id=env.get("CUISHOU_WECHAT_APP_ID", ""),
        wechat_app_secret=env.get("CUISHOU_WECHAT_APP_SECRET", ""),
        letters_dir=Path(letters) if letters else None,
        receipt_secret=env.get("CUISHOU_RECEIPT_SECRET", ""),
        pay_link_base=env.get("CUISHOU_PAY_LINK_BASE", "https://pay.example.com/p/"),
        ref_secret=env.get("CUISHOU_CASE_REF_SECRET", "cuishou-case-ref"),
        per_second={
            "sms": _float(env, "CUISHOU_SMS_PER_SECOND", 50.0),
            "email": _float(env, "CUISHOU_EMAIL_PER_SECOND", 20.0),
            "wechat": _float(env, "CUISHOU_WECHAT_PER_SECOND", 20.0),
            "letter": 0.0,
        },
        retry=RetryPolicy(
            max_attempts=int(_float(env, "CUISHOU_MESSAGE_MAX_ATTEMPTS", 4)),
            base=timedelta(seconds=_float(env, "CUISHOU_MESSAGE_BACKOFF_SECONDS", 30)),
        ),
    )

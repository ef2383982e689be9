"""Outbound messages through real gateways (多渠道触达): SMS, e-mail, WeChat, letters."""

"""The web tests' app fixtures (``client``, ``clock``) for the strategy API tests."""

from tests.web.conftest import client, clock

__all__ = ["client", "clock"]

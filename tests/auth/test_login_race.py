"""Login throttling holds under concurrency, without the web server: 30 threads, each in its
own transaction (as 30 processes would be), try wrong passwords on one name at once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select

from cuishou.auth.service import login
from cuishou.store.db import transaction
from cuishou.store.tables import LoginAttempt
from tests.factories import NOW
from tests.web.factories import make_user

THREADS = 30


def test_thirty_threads_at_once_get_five_password_checks(engine: Engine) -> None:
    # given a user, and 30 threads that start their login at the same moment
    with transaction(engine) as session:
        make_user(session, username="amy", password="the-right-one")
    start = threading.Barrier(THREADS)

    def attempt(i: int) -> str:
        start.wait()
        with transaction(engine) as session:
            result = login(
                session, username=["amy", "Amy", "AMY"][i % 3], password="wrong", now=NOW
            )
        assert result.error is not None
        return result.error.code

    # when each tries a wrong password
    with ThreadPoolExecutor(THREADS) as pool:
        answers = Counter(pool.map(attempt, range(THREADS)))

    # then five were checked and recorded, the other 25 throttled without a check
    assert answers == {"not_authenticated": 5, "too_many_attempts": 25}
    with transaction(engine) as session:
        assert session.scalars(select(LoginAttempt.username)).all() == ["amy"] * 5

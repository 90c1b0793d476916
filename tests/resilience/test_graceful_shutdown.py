"""Graceful shutdown: SIGTERM during load; requests already in flight complete, and the process exits 0
within its timeout."""

from __future__ import annotations

import threading
import time

import httpx

from conftest import dump, new_password, new_username, record_cookies

EXIT_WITHIN_S = 15.0
# A request sent this long before the signal is certainly in flight (accepted and being served),
# not racing the listener closing.
IN_FLIGHT_MARGIN_S = 0.02


def test_sigterm_under_load_completes_in_flight_requests_and_exits_0(sqlite_database, server_factory):
    # Slow, serialised logins (about 0.2-0.5 s each, one at a time) so that requests are reliably in
    # flight, running or queued for the hasher, when the signal arrives.
    srv = server_factory(sqlite_database, ARGON2_ITERATIONS="8", HASH_CONCURRENCY="1").start()
    users = []
    with srv.client() as c:
        for _ in range(4):
            u, p = new_username("gs"), new_password()
            assert c.post("/register", json={"username": u, "password": p}).status_code == 201
            users.append((u, p))
        resp = c.post("/login", json={"username": users[0][0], "password": users[0][1]})
        access = record_cookies(resp)["access_token"]

    # Each record: (sent_at, finished_at, status or None, error text)
    records: list[tuple[float, float, int | None, str]] = []
    stop = threading.Event()

    def load(i: int) -> None:
        u, p = users[i % len(users)]
        while not stop.is_set():
            # A new connection per request: an idle keep-alive connection closed by the shutdown is
            # not an in-flight request.
            with httpx.Client(base_url=srv.url, timeout=20.0) as c:
                sent = time.monotonic()
                try:
                    if i % 2 == 0:
                        resp = c.post("/login", json={"username": u, "password": p})  # ~Argon2id: slow
                        record_cookies(resp)
                    else:
                        resp = c.get("/profile", headers={"Authorization": f"Bearer {access}"})
                    records.append((sent, time.monotonic(), resp.status_code, "" if resp.status_code < 500 else dump(resp)))
                except httpx.HTTPError as e:
                    records.append((sent, time.monotonic(), None, f"{type(e).__name__}: {e}"))
                    if isinstance(e, httpx.ConnectError):
                        return  # the listener is closed: the server is going away

    threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    signalled = time.monotonic()
    code, took = srv.terminate(timeout=EXIT_WITHIN_S + 15)
    stop.set()
    for t in threads:
        t.join(timeout=30)

    in_flight = [r for r in records if r[0] < signalled - IN_FLIGHT_MARGIN_S and r[1] >= signalled]
    broken = [r for r in records if r[0] < signalled - IN_FLIGHT_MARGIN_S and (r[2] is None or r[2] >= 500)]
    assert records and any(r[2] == 200 for r in records), "no successful traffic before the signal"
    problems = []
    if not in_flight:
        problems.append("no request was in flight at SIGTERM: the test did not exercise the drain")
    if code != 0:
        problems.append(f"exit code {code} (expected 0) after SIGTERM\n{srv.log_tail()}")
    if took > EXIT_WITHIN_S:
        problems.append(f"exit took {took:.1f}s (expected <= {EXIT_WITHIN_S}s)")
    for sent, done, status, err in broken:
        problems.append(f"request sent {signalled - sent:.3f}s before SIGTERM failed: {status} {err}")
    assert not problems, (f"{len(in_flight)} requests were in flight at SIGTERM\n" + "\n".join(problems[:20]))

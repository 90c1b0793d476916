"""Crash: kill -9 the server while 8 clients register and log in; after a restart every account and
every session that got a 2xx still works. On SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time

import httpx

from conftest import dump, new_password, new_username, record_cookies

CLIENTS = 8


def worker(url: str, stop: threading.Event, accounts: list, sessions: list, anomalies: list, idx: int) -> None:
    with httpx.Client(base_url=url, timeout=10.0) as client:
        n = 0
        while not stop.is_set():
            n += 1
            username, password = new_username(f"c{idx}x"), new_password()
            try:
                resp = client.post("/register", json={"username": username, "password": password})
            except httpx.HTTPError:
                return  # the server died under us: expected
            if resp.status_code == 201:
                accounts.append((username, password))
            elif resp.status_code >= 500:
                anomalies.append(dump(resp))
                continue
            # Log in twice: two sessions per account, the second replacing nothing.
            for _ in range(2):
                client.cookies.clear()
                try:
                    resp = client.post("/login", json={"username": username, "password": password})
                except httpx.HTTPError:
                    return
                if resp.status_code == 200:
                    cookies = record_cookies(resp)
                    sessions.append((username, cookies.get("access_token"), cookies.get("refresh_token")))
                elif resp.status_code >= 500:
                    anomalies.append(dump(resp))


def check_after_restart(url: str, accounts: list, sessions: list) -> list[str]:
    failures = []
    with httpx.Client(base_url=url, timeout=15.0) as client:
        for username, password in accounts:
            client.cookies.clear()
            resp = client.post("/login", json={"username": username, "password": password})
            record_cookies(resp)
            if resp.status_code != 200:
                failures.append(f"account {username} (201 before the crash): login {dump(resp)}")
        for username, access, refresh in sessions:
            if not access or not refresh:
                failures.append(f"session of {username}: login 200 without both cookies")
                continue
            client.cookies.clear()
            resp = client.get("/profile", headers={"Authorization": f"Bearer {access}"})
            if resp.status_code != 200 or resp.json().get("username", "").lower() != username.lower():
                failures.append(f"session of {username}: /profile with its access token {dump(resp)}")
            client.cookies.clear()
            resp = client.post("/refresh", headers={"Cookie": f"refresh_token={refresh}"})
            record_cookies(resp)
            if resp.status_code != 200:
                failures.append(f"session of {username}: /refresh with its refresh token {dump(resp)}")
    return failures


def test_kill_9_during_registration_and_login_loses_no_acknowledged_account_or_session(
    database_url, server_factory
):
    srv = server_factory(database_url).start()
    accounts: list = []
    sessions: list = []
    anomalies: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(srv.url, stop, accounts, sessions, anomalies, i))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    # Let real traffic build up, then pull the plug while requests are in flight.
    started = time.monotonic()
    while time.monotonic() - started < 20 and (
        time.monotonic() - started < 2.0 or len(accounts) < 12 or len(sessions) < 12
    ):
        time.sleep(0.1)
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=20)
    assert accounts and sessions, "no traffic succeeded before the crash"
    assert not anomalies, "5xx before the crash:\n" + "\n".join(anomalies[:10])

    srv.start()
    failures = check_after_restart(srv.url, list(accounts), list(sessions))
    assert not failures, (
        f"{len(failures)} of {len(accounts)} accounts / {len(sessions)} sessions broken after restart:\n"
        + "\n".join(failures[:20])
    )

"""Graceful shutdown: SIGTERM during load; requests already in flight complete, /ready turns 503 while
the server drains (SHUTDOWN_DRAIN_SECONDS, default 1), and the process exits 0 within its timeout."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time

import httpx


from conftest import SECRETS, is_error_body, new_password, new_username, record_cookies

EXIT_WITHIN_S = 15.0
# Every request fully sent before the signal, or up to this long after it, must complete: during the
# drain the listener stays open and serves. (Without a drain, connections still in the accept backlog
# when poem closes the listener were reset: FINDINGS.md O1, fixed by the drain.)
# Longer than the default 1 s: the test asks /ready 0.2 s after the signal, and on a loaded machine
# (scripts/test runs this beside other suites at a load of 15-20) this process can be starved for
# more than the rest of a 1 s drain, and then meets the closed listener a finished drain leaves.
DRAIN_S = 3.0
SERVED_AFTER_SIGNAL_S = 0.5


def test_sigterm_under_load_completes_in_flight_requests_and_exits_0(sqlite_database, server_factory):
    # Slow, serialised logins (about 0.2-0.5 s each, one at a time) so that requests are reliably in
    # flight, running or queued for the hasher, when the signal arrives.
    srv = server_factory(
        sqlite_database, ARGON2_ITERATIONS="8", HASH_CONCURRENCY="1", SHUTDOWN_DRAIN_SECONDS=str(int(DRAIN_S))
    ).start()
    users = []
    with srv.client() as c:
        for _ in range(4):
            u, p = new_username("gs"), new_password()
            assert c.post("/register", json={"username": u, "password": p}).status_code == 201
            users.append((u, p))
        resp = c.post("/login", json={"username": users[0][0], "password": users[0][1]})
        access = record_cookies(resp)["access_token"]

    # Each record: (sent_at, finished_at, status or None, error text). Raw sockets, one connection per
    # request, so "sent" is exact: the moment the whole request was written to the server's socket.
    records: list[tuple[float, float, int | None, str]] = []
    stop = threading.Event()

    def one_request(method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for k, v in headers.items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        try:
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
        except OSError as e:
            records.append((time.monotonic(), time.monotonic(), None, f"connect: {e}"))
            raise
        with sock:
            try:
                sock.sendall(head.encode() + body)
                sent = time.monotonic()
            except OSError as e:
                records.append((time.monotonic(), time.monotonic(), None, f"send: {e}"))
                return
            data = b""
            try:
                while chunk := sock.recv(65536):
                    data += chunk
                err = ""
            except OSError as e:
                err = f"{type(e).__name__}: {e}"
            done = time.monotonic()
            status = None
            if data.startswith(b"HTTP/1.1 "):
                status = int(data[9:12])
                err = err or ("" if status < 500 else data[:300].decode(errors="replace"))
            elif not err:
                err = f"no HTTP response: {data[:100]!r}"
            if status is not None and b"set-cookie" in data.lower():
                for line in data.split(b"\r\n"):
                    if line.lower().startswith(b"set-cookie:"):
                        value = line.split(b":", 1)[1].strip().split(b";", 1)[0].split(b"=", 1)[-1]
                        SECRETS.add(value.decode(errors="replace"))
            records.append((sent, done, status, err))

    def load(i: int) -> None:
        u, p = users[i % len(users)]
        while not stop.is_set():
            try:
                if i % 2 == 0:  # Argon2id: slow, queued behind HASH_CONCURRENCY=1
                    body = json.dumps({"username": u, "password": p}).encode()
                    one_request("POST", "/login", body, {"Content-Type": "application/json"})
                else:
                    one_request("GET", "/profile", b"", {"Authorization": f"Bearer {access}"})
            except OSError:
                return  # connection refused: the listener is closed, the server is going away

    threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    signalled = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    ready_status, ready_body = None, ""
    asked_ready_after = time.monotonic() - signalled
    try:
        ready = httpx.get(srv.url + "/ready", timeout=2.0)
        ready_status, ready_ok_json = ready.status_code, is_error_body(ready)
        ready_body = ready.text[:200]
    except httpx.HTTPError as e:
        ready_ok_json, ready_body = False, f"{type(e).__name__}: {e}"
    try:
        code = srv.proc.wait(timeout=EXIT_WITHIN_S + DRAIN_S + 15)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        code = None
    took = time.monotonic() - signalled
    srv._log.close()
    stop.set()
    for t in threads:
        t.join(timeout=30)

    records = list(records)
    deadline = signalled + SERVED_AFTER_SIGNAL_S
    in_flight = [r for r in records if r[0] < signalled and r[1] >= signalled]
    broken = [r for r in records if r[0] < deadline and (r[2] is None or r[2] >= 500)]
    assert records and any(r[2] == 200 for r in records), "no successful traffic before the signal"
    problems = []
    if not in_flight:
        problems.append("no request was in flight at SIGTERM: the test did not exercise the drain")
    if code != 0:
        problems.append(f"exit code {code} (expected 0) after SIGTERM\n{srv.log_tail()}")
    if took > EXIT_WITHIN_S + DRAIN_S:
        problems.append(f"exit took {took:.1f}s (expected <= {EXIT_WITHIN_S + DRAIN_S}s)")
    if ready_status != 503 or not ready_ok_json:
        problems.append(f"/ready {asked_ready_after:.2f} s after SIGTERM (draining for {DRAIN_S} s): "
                        f"{ready_status} {ready_body} (expected 503 JSON)")
    for sent, done, status, err in broken:
        problems.append(f"request fully sent {sent - signalled:+.3f}s from SIGTERM failed after "
                        f"{done - sent:.3f}s: status {status} {err}")
    assert not problems, (f"{len(in_flight)} requests were in flight at SIGTERM\n" + "\n".join(problems[:20]))

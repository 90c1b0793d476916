"""Log hygiene (runs last): the server logs of the whole suite, plus a full flow here at debug level
with every kind of failure, contain no test password, no token value, no cookie or Authorization header,
and no password hash."""

from __future__ import annotations

import re
import time

from conftest import LOG_FILES, SECRETS, new_password, new_username, record_cookies

PATTERNS = {
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"),
    "a cookie value": re.compile(r"(?:access|refresh)_token=[A-Za-z0-9_.~+/-]{8,}"),
    "a Cookie header": re.compile(r"(?i)\bcookie\b[\"']?\s*[:=]\s*[\"']?[A-Za-z_]+="),
    "an Authorization header": re.compile(r"(?i)\bauthorization\b[\"']?\s*[:=]\s*[\"']?bearer\s+\S{8,}"),
    "a password hash": re.compile(r"\$argon2id?\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{8,}"),
}


def exercise_everything(srv) -> None:
    """Every code path that handles a secret, successful and failing."""
    u, p = new_username("hyg"), new_password()
    with srv.client() as c:
        c.post("/register", json={"username": u, "password": p})
        c.post("/register", json={"username": u, "password": p})  # 409
        c.post("/register", json={"username": "x", "password": new_password()})  # 400
        c.post("/register", json={"username": new_username("hyg"), "password": "pw-" + "ä" * 200})
        c.post("/login", json={"username": u, "password": new_password()})  # wrong password
        c.post("/login", json={"username": new_username("nobody"), "password": new_password()})
        c.cookies.clear()
        resp = c.post("/login", json={"username": u, "password": p})
        cookies = record_cookies(resp)
        access, refresh = cookies["access_token"], cookies["refresh_token"]
        c.cookies.clear()
        c.get("/profile", headers={"Authorization": f"Bearer {access}"})
        c.get("/profile", headers={"Cookie": f"access_token={access}"})
        c.get("/profile", headers={"Authorization": f"Bearer {access}x"})  # tampered
        rotated = record_cookies(c.post("/refresh", headers={"Cookie": f"refresh_token={refresh}"}))
        c.cookies.clear()
        time.sleep(1.2)  # past REFRESH_REUSE_INTERVAL=1: a replay is reuse, the session is revoked
        record_cookies(c.post("/refresh", headers={"Cookie": f"refresh_token={refresh}"}))
        c.cookies.clear()
        c.post("/refresh", headers={"Cookie": "refresh_token=" + "A" * 43})
        c.post("/logout", headers={"Cookie": f"access_token={access}; refresh_token={rotated.get('refresh_token', '')}"})
        c.cookies.clear()
        c.post("/login", content=f'{{"username": "{u}", "password": "{p}"', headers={"Content-Type": "application/json"})
        c.post("/login", content=f"username={u}&password={p}", headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_logs_contain_no_password_token_cookie_or_hash(sqlite_database, server_factory):
    srv = server_factory(sqlite_database, REFRESH_REUSE_INTERVAL="1", RUST_LOG="debug").start()
    exercise_everything(srv)
    srv.stop()

    leaks = []
    secrets = sorted(s for s in SECRETS if len(s) >= 8)
    for path in LOG_FILES:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            for s in secrets:
                if s in line:
                    kind = "a password" if s.startswith("pw-") else "a token"
                    leaks.append(f"{path.name}:{n}: {kind} appears: {line[:300]}")
                    break
            for what, pattern in PATTERNS.items():
                if pattern.search(line):
                    leaks.append(f"{path.name}:{n}: {what}: {line[:300]}")
    assert LOG_FILES, "no server log was written"
    assert not leaks, f"{len(leaks)} leaking log lines:\n" + "\n".join(leaks[:25])


def test_log_lines_are_json_and_events_carry_their_request_id(sqlite_database, server_factory):
    """Every line is one JSON object (lines are batched in memory and must still be written whole, and
    all of them by the time the process exits), and an event logged while serving a request carries
    the id of that request's own access line."""
    import json

    srv = server_factory(sqlite_database, REFRESH_REUSE_INTERVAL="1").start()
    exercise_everything(srv)
    srv.stop()

    lines = [json.loads(line) for line in srv.log_path.read_text().splitlines() if line.strip()]
    requests = {e["request_id"]: e for e in lines if e.get("message") == "request"}
    assert any(e["path"] == "/login" and e["status"] == 200 for e in requests.values())
    logins = [e for e in lines if e.get("message") == "login succeeded"]
    reuse = [e for e in lines if e.get("event") == "refresh_token_reuse"]
    assert logins and reuse, "the flow logs a login and a refresh-token replay"
    for event, path in [(logins[0], "/login"), (reuse[0], "/refresh")]:
        access_line = requests.get(event.get("request_id"))
        assert access_line is not None, f"no access line with the id of {event}"
        assert access_line["path"] == path
    assert lines[-1].get("message") == "stopped", "the last lines are written at exit"

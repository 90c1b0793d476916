"""Fuzzing the contract: schemathesis against the running server's /openapi.json, every operation, a
bounded number of examples, every check: no 5xx, and every response conforms to the spec (status codes,
bodies, headers). Findings are fixed in the server or the spec, never filtered out here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import new_password, new_username, record_cookies

MAX_EXAMPLES = os.environ.get("RESILIENCE_ST_EXAMPLES", "25")


def test_schemathesis_finds_no_server_error_or_spec_violation(sqlite_database, server_factory, tmp_path):
    srv = server_factory(sqlite_database).start()
    # Three sessions: one authenticates every operation, one is spent on /logout (which revokes the
    # session it names), one carries a refresh cookie for /refresh, so each success path is exercised too.
    with srv.client() as c:
        u, p = new_username("st"), new_password()
        assert c.post("/register", json={"username": u, "password": p}).status_code == 201
        sessions = []
        for _ in range(3):
            c.cookies.clear()
            sessions.append(record_cookies(c.post("/login", json={"username": u, "password": p})))
    main = sessions[0]["access_token"]
    for_logout = sessions[1]["access_token"]
    for_refresh = sessions[2]["refresh_token"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'headers = {{ Authorization = "Bearer {main}" }}\n\n'
        "[[operations]]\n"
        'include-path = "/logout"\n'
        f'headers = {{ Authorization = "Bearer {for_logout}" }}\n\n'
        "[[operations]]\n"
        'include-path = "/refresh"\n'
        f'headers = {{ Cookie = "refresh_token={for_refresh}" }}\n'
        # Rules JSON Schema cannot state, so schema-valid data can earn a documented 400:
        # password strength (zxcvbn, and not containing the username), a WebAuthn answer that
        # does not verify, a one-time code that is wrong now, a link token that was never
        # issued, a reset that must carry exactly one proof. Everything else stays strict.
        + "".join(
            "\n[[operations]]\n"
            f'include-path = "{path}"\n'
            "checks.positive_data_acceptance.expected-statuses = "
            '["2XX", 400, 401, 403, 404, 409, 429]\n'
            for path in (
                "/register",
                "/passkeys/register/finish",
                "/mfa/totp/confirm",
                "/email/verify",
                "/password/reset",
            )
        )
    )

    st = Path(sys.executable).with_name("schemathesis")
    cmd = [
        str(st), "--config-file", str(config), "run", f"{srv.url}/openapi.json",
        "--checks", "all",
        "--max-examples", MAX_EXAMPLES,
        "--seed", "20261129",
        "--workers", "1",
        "--request-timeout", "10",
        "--generation-database", "none",
        "--suppress-health-check", "too_slow",
        # Our headers above authenticate; generated security parameters would override them.
        "--generation-with-security-parameters", "false",
        "--report", "junit", "--report-dir", str(tmp_path / "report"),
        "--no-color",
    ]
    # cwd is a temp dir: schemathesis and hypothesis write their state there, not into the repository.
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = out.stdout + out.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    assert out.returncode == 0, f"schemathesis exit {out.returncode}:\n{output[-12000:]}"

"""Drives one live Latchkey through a Python client generated from openapi.json, and runs the Node
example (examples/verify-node) on the tokens it hands out: the path a client or a service written by
someone else would take, with nothing of ours in between.

Usage: check_clients.py BASE_URL ALGORITHM
The generated package `latchkey_client` must be importable (PYTHONPATH). The server must run with
REFRESH_REUSE_INTERVAL=0 and the default ACCESS_TOKEN_EXPIRATION and JWKS_MAX_AGE.
Prints one line per check, then `N passed, M failed`; exits non-zero when anything failed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import traceback
from pathlib import Path

from latchkey_client import AuthenticatedClient, Client
from latchkey_client.api.account import profile
from latchkey_client.api.auth import register
from latchkey_client.api.tokens import jwks, session, token, token_refresh, token_revoke
from latchkey_client.models import (
    Error,
    ErrorCode,
    JwkSet,
    Profile,
    RefreshTokenRequest,
    RegisterRequest,
    SessionStatus,
    Status,
    TokenRequest,
    TokenResponse,
    User,
)

VERIFY = Path(__file__).resolve().parents[2] / "examples" / "verify-node" / "verify.mjs"
# A browser origin the server allows for cookies (CORS_ORIGINS' default): /token* refuse it anyway.
BROWSER_ORIGIN = "http://localhost:5173"

BASE_URL, ALGORITHM = sys.argv[1], sys.argv[2]
anonymous = Client(base_url=BASE_URL, raise_on_unexpected_status=True, timeout=30.0)
state: dict = {}


def bearer(access_token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE_URL, token=access_token, raise_on_unexpected_status=True)


def verify_node(access_token: str, check_session: bool = True, **env: str) -> tuple[int, str]:
    """The example, run as a service owner would: exit code and what it printed."""
    args = ["node", str(VERIFY)] + (["--check-session"] if check_session else [])
    env = {**os.environ, "LATCHKEY_URL": BASE_URL, **env}
    proc = subprocess.run(args, input=access_token, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert not proc.stderr.strip(), f"verify.mjs wrote to stderr: {proc.stderr.strip()}"
    return proc.returncode, proc.stdout.strip()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def error_of(resp, status: int, code: ErrorCode) -> None:
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.content!r}"
    assert isinstance(resp.parsed, Error), f"not parsed as Error: {resp.parsed!r}"
    assert resp.parsed.code == code, f"expected {code}, got {resp.parsed.code}"


def sign_in() -> TokenResponse:
    resp = token.sync_detailed(client=anonymous, body=TokenRequest(state["username"], state["password"]))
    assert resp.status_code == 200 and isinstance(resp.parsed, TokenResponse), resp.content
    return resp.parsed


def refresh(refresh_token: str) -> TokenResponse:
    resp = token_refresh.sync_detailed(client=anonymous, body=RefreshTokenRequest(refresh_token))
    assert resp.status_code == 200 and isinstance(resp.parsed, TokenResponse), resp.content
    return resp.parsed


# --- the checks, in order; each may use what an earlier one left in `state` ---


def registers_through_the_generated_client():
    state["username"] = "py" + secrets.token_hex(6)
    state["password"] = "pw-" + secrets.token_urlsafe(16)
    resp = register.sync_detailed(client=anonymous, body=RegisterRequest(state["username"], state["password"]))
    assert resp.status_code == 201, resp.content
    assert isinstance(resp.parsed, User) and resp.parsed.username == state["username"]
    state["user_id"] = str(resp.parsed.id)


def a_wrong_password_is_a_parsed_invalid_credentials_error():
    resp = token.sync_detailed(client=anonymous, body=TokenRequest(state["username"], "not-the-password-at-all"))
    error_of(resp, 401, ErrorCode.INVALID_CREDENTIALS)


def token_returns_a_bearer_pair_in_the_body():
    pair = sign_in()
    assert pair.token_type == "Bearer", pair.token_type
    assert pair.expires_in == 900, pair.expires_in
    assert pair.refresh_expires_in > 0 and pair.access_token and pair.refresh_token
    state["pair"] = pair


def token_refuses_a_request_from_a_browser_page():
    browser = Client(base_url=BASE_URL, headers={"Origin": BROWSER_ORIGIN})
    resp = token.sync_detailed(client=browser, body=TokenRequest(state["username"], state["password"]))
    error_of(resp, 403, ErrorCode.FORBIDDEN_ORIGIN)
    assert "set-cookie" not in resp.headers


def profile_accepts_the_access_token_as_bearer():
    user = profile.sync(client=bearer(state["pair"].access_token))
    assert isinstance(user, Profile), user
    assert str(user.id) == state["user_id"] and user.username == state["username"]
    # A new account has no address and no recovery key: both arrive as null, which the spec allows.
    assert user.email is None and user.email_verified is False and user.recovery_key_created_at is None


def jwks_publishes_the_token_key_with_a_cache_lifetime():
    resp = jwks.sync_detailed(client=anonymous)
    assert resp.status_code == 200 and isinstance(resp.parsed, JwkSet), resp.content
    assert resp.headers.get("cache-control") == "public, max-age=300", resp.headers.get("cache-control")
    header = unb64url(state["pair"].access_token.split(".")[0])
    assert header["typ"] == "at+jwt" and header["alg"] == ALGORITHM, header
    keys = {k.kid: k for k in resp.parsed.keys}
    assert header["kid"] in keys, f"kid {header['kid']} not in {list(keys)}"
    assert keys[header["kid"]].alg == ALGORITHM and keys[header["kid"]].use == "sig"
    assert all(k.kty in ("OKP", "EC") for k in keys.values()), "a JWKS must hold public keys only"


def the_node_example_verifies_the_access_token():
    rc, out = verify_node(state["pair"].access_token)
    assert rc == 0, f"exit {rc}: {out}"
    claims = json.loads(out)
    assert claims["sub"] == state["user_id"] and claims["username"] == state["username"], claims
    assert claims["iss"] == "latchkey" and claims["aud"] == "latchkey" and claims["client_id"] == "latchkey"
    assert claims["exp"] - claims["iat"] == 900 and claims["sid"] and claims["jti"], claims
    state["sid"] = claims["sid"]


def the_node_example_refuses_a_tampered_token():
    head, payload, sig = state["pair"].access_token.split(".")
    claims = unb64url(payload)
    claims["username"] = "mallory"
    forged = ".".join([head, b64url(json.dumps(claims).encode()), sig])
    rc, out = verify_node(forged)
    assert (rc, out) == (1, "invalid: ERR_JWS_SIGNATURE_VERIFICATION_FAILED"), (rc, out)


def the_node_example_refuses_an_unknown_key():
    head, payload, sig = state["pair"].access_token.split(".")
    header = unb64url(head)
    header["kid"] = b64url(secrets.token_bytes(16))
    rc, out = verify_node(".".join([b64url(json.dumps(header).encode()), payload, sig]))
    assert (rc, out) == (1, "invalid: ERR_JWKS_NO_MATCHING_KEY"), (rc, out)


def the_node_example_refuses_another_audience():
    rc, out = verify_node(state["pair"].access_token, JWT_AUDIENCE="billing")
    assert (rc, out) == (1, "invalid: ERR_JWT_CLAIM_VALIDATION_FAILED"), (rc, out)


def session_reports_the_live_session():
    status = session.sync(client=bearer(state["pair"].access_token))
    assert isinstance(status, SessionStatus) and status.active, status
    assert str(status.user_id) == state["user_id"] and str(status.session_id) == state["sid"]


def refresh_rotates_the_pair():
    old = state["pair"]
    new = refresh(old.refresh_token)
    assert new.refresh_token != old.refresh_token and new.access_token != old.access_token
    assert isinstance(profile.sync(client=bearer(new.access_token)), Profile)
    rc, out = verify_node(new.access_token)
    assert rc == 0 and json.loads(out)["sid"] == state["sid"], (rc, out)
    state["pair"] = new


def revoke_ends_the_session():
    resp = token_revoke.sync_detailed(client=anonymous, body=RefreshTokenRequest(state["pair"].refresh_token))
    assert resp.status_code == 200 and isinstance(resp.parsed, Status), resp.content


def profile_refuses_the_revoked_access_token():
    resp = profile.sync_detailed(client=bearer(state["pair"].access_token))
    error_of(resp, 401, ErrorCode.UNAUTHENTICATED)


def session_refuses_the_revoked_access_token():
    resp = session.sync_detailed(client=bearer(state["pair"].access_token))
    error_of(resp, 401, ErrorCode.UNAUTHENTICATED)


def a_revoked_token_verifies_from_the_jwks_until_exp_but_session_says_ended():
    # The documented trade-off: the signature stays good until `exp`; only /session knows.
    rc, out = verify_node(state["pair"].access_token, check_session=False)
    assert rc == 0 and json.loads(out)["sid"] == state["sid"], (rc, out)
    rc, out = verify_node(state["pair"].access_token)
    assert rc == 2 and out.endswith("session ended"), (rc, out)


def the_revoked_refresh_token_is_refused():
    resp = token_refresh.sync_detailed(client=anonymous, body=RefreshTokenRequest(state["pair"].refresh_token))
    error_of(resp, 401, ErrorCode.INVALID_REFRESH_TOKEN)


def replaying_a_spent_refresh_token_ends_the_session():
    first = sign_in()
    second = refresh(first.refresh_token)
    resp = token_refresh.sync_detailed(client=anonymous, body=RefreshTokenRequest(first.refresh_token))
    error_of(resp, 401, ErrorCode.INVALID_REFRESH_TOKEN)
    resp = token_refresh.sync_detailed(client=anonymous, body=RefreshTokenRequest(second.refresh_token))
    error_of(resp, 401, ErrorCode.INVALID_REFRESH_TOKEN)
    error_of(session.sync_detailed(client=bearer(second.access_token)), 401, ErrorCode.UNAUTHENTICATED)


CHECKS = [
    registers_through_the_generated_client,
    a_wrong_password_is_a_parsed_invalid_credentials_error,
    token_returns_a_bearer_pair_in_the_body,
    token_refuses_a_request_from_a_browser_page,
    profile_accepts_the_access_token_as_bearer,
    jwks_publishes_the_token_key_with_a_cache_lifetime,
    the_node_example_verifies_the_access_token,
    the_node_example_refuses_a_tampered_token,
    the_node_example_refuses_an_unknown_key,
    the_node_example_refuses_another_audience,
    session_reports_the_live_session,
    refresh_rotates_the_pair,
    revoke_ends_the_session,
    profile_refuses_the_revoked_access_token,
    session_refuses_the_revoked_access_token,
    a_revoked_token_verifies_from_the_jwks_until_exp_but_session_says_ended,
    the_revoked_refresh_token_is_refused,
    replaying_a_spent_refresh_token_ends_the_session,
]


def main() -> int:
    passed = failed = 0
    for check in CHECKS:
        name = check.__name__.replace("_", " ")
        try:
            check()
        except Exception:  # noqa: BLE001 - every failure is reported and counted, then the next check runs
            failed += 1
            print(f"FAIL {name}\n" + "".join("     " + line for line in traceback.format_exc().splitlines(True)))
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

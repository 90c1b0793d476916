"""Authlib (Python), with its default validation, against a live Latchkey.

Authlib's own OpenID Connect client, as its Flask and Django integrations build it (OAuth2Mixin + OpenIDMixin
over requests' OAuth2Session), without a web framework: discovery, the code flow with PKCE (the person's part
in Chromium through person.mjs), parse_id_token (signature from the JWKS, iss, aud, exp, nonce, at_hash),
userinfo, refresh with rotation and reuse detection, prompt=none, revocation, introspection, RP-initiated
logout, and the negatives.

Usage: python check_authlib.py   (env: ISSUER, APP_URL, CALLBACK, CLIENTS (a JSON file), SCRATCH)
Last line: `N passed, M failed`.
"""

import atexit
import json
import os
import select
import subprocess
import time
import traceback
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session

ISSUER = os.environ["ISSUER"]
APP_URL = os.environ["APP_URL"]
CALLBACK = os.environ["CALLBACK"]
SCRATCH = os.environ["SCRATCH"]
CLIENTS = json.load(open(os.environ["CLIENTS"]))
ALT_ALG = os.environ.get("ALT_ALG", "EdDSA")
REDIRECT_URI = f"{CALLBACK}/callback"
POST_LOGOUT_URI = f"{CALLBACK}/signed-out"
PASSWORD = "correct horse battery staple"
USERNAME = f"py_{int(time.time() * 1000):x}"
PROFILE = os.path.join(SCRATCH, f"chromium-{USERNAME}")
PERSON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "person.mjs")
SCOPE = "openid profile email offline_access"

passed = 0
failed = 0


def check(name):
    def run(fn):
        global passed, failed
        try:
            fn()
            passed += 1
            print(f"ok - {name}", flush=True)
        except Exception:
            failed += 1
            print(f"FAILED - {name}: {traceback.format_exc()}", flush=True)
        return fn

    return run


class _NoFramework:
    """Authlib's integrations keep tokens in a web framework; this suite keeps them in variables."""

    def update_token(self, *args, **kwargs):
        pass


class App(OAuth2Mixin, OpenIDMixin, BaseApp):
    client_cls = OAuth2Session


def app(name, auth_method="client_secret_post", secret=None):
    registered = CLIENTS[name]
    return App(
        _NoFramework(),
        name=name,
        client_id=registered["client_id"],
        client_secret=secret if secret is not None else registered.get("client_secret"),
        server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "token_endpoint_auth_method": auth_method},
    )


_person = None


def person(*args):
    """One command to person.mjs, which keeps running (and its browser open) from the first call to the last."""
    global _person
    if _person is None or _person.poll() is not None:
        _person = subprocess.Popen(["node", PERSON, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        atexit.register(_close_person, _person)
    _person.stdin.write(json.dumps(list(args)) + "\n")
    _person.stdin.flush()
    ready, _, _ = select.select([_person.stdout], [], [], 120)
    line = _person.stdout.readline() if ready else ""
    if not line:
        _person.kill()
        raise AssertionError("person.mjs said nothing (its errors are above)")
    return json.loads(line)


def _close_person(proc):
    """Ends person.mjs by closing its input, so it closes its browser; killed if it does not within 20 s."""
    try:
        proc.stdin.close()
        proc.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()


def authorize(client, consent="allow", profile=PROFILE, redirect_uri=REDIRECT_URI, **params):
    """The authorization URL Authlib builds, the person's part, and the query the browser came back with."""
    rv = client.create_authorization_url(redirect_uri, **params)
    seen = person("browse", profile, rv["url"], USERNAME, PASSWORD, consent, CALLBACK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(seen.get("url", "")).query).items()}
    return rv, seen, query


def exchange(client, rv, query, redirect_uri=REDIRECT_URI, **overrides):
    """What an Authlib integration's authorize_access_token does: state, then the token, then parse_id_token."""
    assert query.get("state") == rv["state"], f"state {query.get('state')} is not {rv['state']}"
    if "error" in query:
        raise OAuthError(error=query["error"], description=query.get("error_description"))
    nonce = overrides.pop("nonce", rv["nonce"])
    params = {"code": query["code"], "code_verifier": rv["code_verifier"], **overrides}
    token = client.fetch_access_token(redirect_uri, **params)
    token["userinfo"] = client.parse_id_token(token, nonce=nonce)
    return token


def raises(fn, error=None):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any rejection, then its code
        code = getattr(e, "error", None)
        assert error is None or code == error, f"expected {error}, got {code!r}: {e}"
        return e
    raise AssertionError(f"expected a rejection ({error})")


main = app("python")
state = {}


@check("discovery: Authlib loads the metadata; the issuer is the one configured")
def _():
    meta = main.load_server_metadata()
    assert meta["issuer"] == ISSUER, meta["issuer"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"]


@check("sign-up in the app (the person is signed in in this browser)")
def _():
    signed_up = person("signup", PROFILE, APP_URL, USERNAME, PASSWORD)
    assert signed_up.get("ok"), signed_up


@check("code flow with PKCE, consent Allow, code exchange (client_secret_post), parse_id_token validates RS256")
def _():
    rv, seen, query = authorize(main)
    assert seen["ended"] == "application" and seen["consent"], seen
    assert "Python test app" in seen.get("heading", ""), seen
    assert query.get("iss") == ISSUER, query
    token = exchange(main, rv, query)
    claims = token["userinfo"]
    assert claims["preferred_username"] == USERNAME and claims["aud"] == CLIENTS["python"]["client_id"], claims
    assert token.get("refresh_token"), "no refresh token with offline_access"
    state["token"] = token


@check("userinfo: sub and preferred_username")
def _():
    token = state["token"]
    info = main.userinfo(token=token)
    assert info["sub"] == token["userinfo"]["sub"] and info["preferred_username"] == USERNAME, info


@check("refresh: rotation gives a new refresh token; reuse of the old one is invalid_grant and ends the grant")
def _():
    meta = main.load_server_metadata()
    old = state["token"]["refresh_token"]
    with main._get_oauth_client(**meta) as session:
        new = session.refresh_token(meta["token_endpoint"], refresh_token=old)
        assert new["refresh_token"] != old, "not rotated"
        raises(lambda: session.refresh_token(meta["token_endpoint"], refresh_token=old), "invalid_grant")
        raises(lambda: session.refresh_token(meta["token_endpoint"], refresh_token=new["refresh_token"]), "invalid_grant")


@check("remembered consent and prompt=none: a code with no page")
def _():
    rv, seen, query = authorize(main, prompt="none")
    assert seen["ended"] == "application" and not seen["consent"] and not seen["login"], seen
    state["latest"] = exchange(main, rv, query)


@check("introspection and revocation (RFC 7662, RFC 7009)")
def _():
    meta = main.load_server_metadata()
    token = state["latest"]["refresh_token"]
    with main._get_oauth_client(**meta) as session:
        live = session.introspect_token(meta["introspection_endpoint"], token=token).json()
        assert live["active"] is True, live
        assert session.revoke_token(meta["revocation_endpoint"], token=token).status_code == 200
        assert session.introspect_token(meta["introspection_endpoint"], token=token).json()["active"] is False


@check(f"{ALT_ALG} ID tokens for a client registered with --id-token-alg {ALT_ALG} pass parse_id_token")
def _():
    es = app("python_alt")
    rv, seen, query = authorize(es, scope="openid")
    assert seen["consent"], seen
    token = exchange(es, rv, query)
    header = json.loads(__import__("base64").urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))
    assert header["alg"] == ALT_ALG, header


@check("negative: a code used twice is refused (invalid_grant)")
def _():
    rv, seen, query = authorize(main)
    exchange(main, rv, query)
    raises(lambda: exchange(main, rv, query), "invalid_grant")


@check("negative: a wrong PKCE verifier is refused (invalid_grant)")
def _():
    rv, seen, query = authorize(main)
    raises(lambda: exchange(main, rv, query, code_verifier="x" * 43 + "wrongverifier"), "invalid_grant")


@check("negative: a redirect URI off by a trailing slash is shown to the person, never followed")
def _():
    rv, seen, query = authorize(main, redirect_uri=REDIRECT_URI + "/")
    assert seen["ended"] == "error" and not seen["url"].startswith(CALLBACK), seen


@check("negative: a wrong nonce is rejected by parse_id_token")
def _():
    rv, seen, query = authorize(main)
    raises(lambda: exchange(main, rv, query, nonce="not-the-nonce-sent"))


@check("negative: a guessed client secret is refused (invalid_client)")
def _():
    guessed = app("python", secret="guessed-secret-guessed-secret")
    rv, seen, query = authorize(main)
    raises(lambda: exchange(guessed, rv, query), "invalid_client")


@check("Deny: error=access_denied at the redirect URI")
def _():
    rv, seen, query = authorize(main, consent="deny", prompt="consent")
    assert seen["consent"] and query.get("error") == "access_denied", seen


@check("RP-initiated logout with id_token_hint: back at post_logout_redirect_uri with state; then login_required")
def _():
    rv, seen, query = authorize(main)
    token = exchange(main, rv, query)
    out = main.create_logout_url(post_logout_redirect_uri=POST_LOGOUT_URI, id_token_hint=token["id_token"])
    seen = person("browse", PROFILE, out["url"], USERNAME, PASSWORD, "allow", CALLBACK)
    back = urlsplit(seen.get("url", ""))
    assert seen["ended"] == "application" and back.path == "/signed-out", seen
    assert parse_qs(back.query).get("state") == [out["state"]], seen
    rv, seen, query = authorize(main, prompt="none")
    assert query.get("error") == "login_required", seen


@check("the token endpoint's errors are RFC 6749 JSON with no-store")
def _():
    meta = main.load_server_metadata()
    resp = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": "nope"}, timeout=10)
    assert resp.status_code in (400, 401) and "error" in resp.json(), resp.text
    assert "no-store" in resp.headers.get("Cache-Control", ""), resp.headers


print(f"{passed} passed, {failed} failed")
raise SystemExit(0 if failed == 0 else 1)

"""Shared fixtures for the resilience suite: start the real `latchkey` binary on a fresh database,
talk to it over loopback, and remember every secret the tests used and every log the server wrote so
that the log-hygiene test can look for leaks at the end.

Environment: LATCHKEY_BIN (default target/debug/latchkey), RESILIENCE_PG_URL (default
postgres://postgres@127.0.0.1:5432, the local server, for per-test databases).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LATCHKEY_BIN", ROOT / "target" / "debug" / "latchkey"))
PG_URL = os.environ.get("RESILIENCE_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
JWT_SECRET = secrets.token_hex(32)

# Everything secret a test sent or received, and every server log file: read by test_zz_log_hygiene.
SECRETS: set[str] = set()
LOG_FILES: list[Path] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_password() -> str:
    """A password unique to this run, recorded so the hygiene test can look for it in the logs."""
    pw = "pw-" + secrets.token_urlsafe(12)
    SECRETS.add(pw)
    return pw


def new_username(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def record_cookies(resp: httpx.Response) -> dict[str, str]:
    """The access/refresh cookies a response set (also recorded as secrets)."""
    found = {}
    for header in resp.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if name in ("access_token", "refresh_token") and value:
            found[name] = value
            SECRETS.add(value)
    return found


def is_error_body(resp: httpx.Response) -> bool:
    """Every error is JSON {"code", "message"}."""
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str)


class Latchkey:
    """One `latchkey serve` process on a given database; restartable on the same database."""

    def __init__(self, database_url: str, log_dir: Path, **env: str):
        self.database_url = database_url
        self.log_dir = log_dir
        self.extra_env = env
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "JWT_", "ARGON2_"))}
        env.update(
            DATABASE_URL=self.database_url,
            JWT_SECRET=JWT_SECRET,
            HOST="127.0.0.1",
            PORT=str(self.port),
            RUST_LOG=os.environ.get("RESILIENCE_RUST_LOG", "debug"),
            LOG_FORMAT="json",
            COOKIE_SECURE="false",
            # Every client here is 127.0.0.1 registering and signing in at load-test rates: the
            # per-address limits (which tests/api covers) would turn the load into 429s.
            REGISTER_LIMIT_PER_IP="1000000",
            LOGIN_THROTTLE_IP_FAILURES="0",
        )
        env.update(self.extra_env)
        return env

    def start(self, wait: float = 60.0) -> "Latchkey":
        assert BIN.exists(), f"{BIN} not found: build it first (cargo build --workspace --all-targets)"
        self.starts += 1
        log = self.log_dir / f"latchkey-{self.port}-{self.starts}.log"
        LOG_FILES.append(log)
        self.log_path = log
        self._log = open(log, "wb")
        # cwd is the log folder so a developer's .env in the repository is not picked up.
        self.proc = subprocess.Popen([str(BIN), "serve"], env=self.env(), cwd=self.log_dir,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.wait_healthy(wait)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"latchkey exited with {self.proc.returncode} during startup:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"latchkey did not become healthy in {timeout}s:\n{self.log_tail()}")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def terminate(self, timeout: float = 30.0) -> tuple[int, float]:
        """SIGTERM; returns (exit code, seconds until exit)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self._log.close()
        return code, time.monotonic() - t0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.terminate(timeout=15)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kw.pop("timeout", 10.0), **kw)


def psql(sql: str, url: str = PG_URL + "/postgres") -> None:
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                   capture_output=True, text=True)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("latchkey-logs")


@pytest.fixture
def pg_database():
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    name = f"resilience_{uuid.uuid4().hex[:12]}"
    psql(f'CREATE DATABASE "{name}"')
    yield f"{PG_URL}/{name}"
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_database(tmp_path) -> str:
    return f"sqlite://{tmp_path}/latchkey.db?mode=rwc"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Both backends: the embedded default and the production database."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database")
    return request.getfixturevalue("pg_database")


@pytest.fixture
def server_factory(log_dir):
    started: list[Latchkey] = []

    def make(database_url: str, **env: str) -> Latchkey:
        srv = Latchkey(database_url, log_dir, **env)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


def register(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/register", json={"username": username, "password": password})


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    resp = client.post("/login", json={"username": username, "password": password})
    record_cookies(resp)
    return resp


def dump(resp: httpx.Response) -> str:
    body = resp.text[:300]
    return f"{resp.request.method} {resp.request.url.path} -> {resp.status_code} {body}"


def describe(obj) -> str:
    return json.dumps(obj, indent=1, default=str)[:3000]

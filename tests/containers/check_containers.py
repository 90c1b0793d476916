"""Static checks of the container setup, run by scripts/check-containers (no container engine needed).

Each check prints `ok: NAME` or `FAILED: NAME` with its reasons; the last line is
`containers: N passed, M failed`. Run from the repository root with the venv's Python, and with NGINX_BIN
naming an nginx binary (nginx itself reads NGINX) for the frontend's nginx configuration test.
"""

from __future__ import annotations

import glob
import gzip
import http.client
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path.cwd()
BIN = Path(sys.executable).parent
SKIP_DIRS = {".git", "node_modules", "target", ".svelte-kit", "build", "data"}
# After SIGTERM, `latchkey serve` drains for SHUTDOWN_DRAIN_SECONDS, then gives in-flight requests this long.
IN_FLIGHT_GRACE_SECONDS = 10
# Commands that build the project or install its dependencies. Each one a Dockerfile RUNs must also be run,
# word for word, by a script in scripts/, so that the image builds what the tests built. (`cargo install` of a
# development tool is not a build of the project.)
BUILD_COMMANDS = [
    ("cargo", "build"), ("cargo", "run"), ("cargo", "test"),
    ("npm", "ci"), ("npm", "install"), ("npm", "i"), ("npm", "run"), ("npx",),
]


class Check:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def record(self, name: str, problems: list[str], detail: str = "") -> None:
        if problems:
            self.failed += 1
            print(f"FAILED: {name}")
            for p in problems:
                print(f"    - {p}")
        else:
            self.passed += 1
            print(f"ok: {name}" + (f" ({detail})" if detail else ""))


# --- discovery -------------------------------------------------------------------------------------------

def walk(pattern: re.Pattern[str]) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".venv"))
        found += [Path(dirpath, f).relative_to(ROOT) for f in sorted(filenames) if pattern.fullmatch(f)]
    return found


def compose_files() -> list[Path]:
    return [p.relative_to(ROOT) for p in sorted(ROOT.iterdir())
            if re.fullmatch(r"(docker-)?compose(\.[\w-]+)?\.ya?ml", p.name)]


def dockerfiles() -> list[Path]:
    return walk(re.compile(r"Dockerfile(\.[\w-]+)?|[\w-]+\.Dockerfile"))


# --- Dockerfiles -----------------------------------------------------------------------------------------

@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


def parse_dockerfile(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    text, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and text):
            continue  # comments (also inside a continued instruction) and blank continuation lines
        if not text:
            start = number
        if stripped.endswith("\\"):
            text += stripped[:-1] + " "
            continue
        text += stripped
        if text.strip():
            keyword, _, args = text.strip().partition(" ")
            ins = Instruction(keyword.upper(), args.strip(), start)
            if ins.keyword == "FROM":
                words = ins.args.split()
                words = [w for w in words if not w.startswith("--")]
                stages.append(Stage(words[0], words[2] if len(words) > 2 else None))
            elif stages:
                stages[-1].instructions.append(ins)
        text = ""
    return stages


def copy_sources(ins: Instruction) -> tuple[list[str], str, bool]:
    """(sources, destination, from_another_stage) of a COPY or ADD."""
    args = ins.args
    if args.startswith("["):
        words = json.loads(args)
    else:
        words = shlex.split(args)
    flags = [w for w in words if w.startswith("--")]
    rest = [w for w in words if not w.startswith("--")]
    return rest[:-1], rest[-1], any(f.startswith("--from") for f in flags)


def healthcheck_of(dockerfile: Path) -> str | None:
    stages = parse_dockerfile(dockerfile)
    if not stages:
        return None
    for ins in stages[-1].instructions:
        if ins.keyword == "HEALTHCHECK":
            return None if ins.args.upper().strip() == "NONE" else ins.args
    return None


# --- .dockerignore (Docker's rules: `*` stays within a path segment, `**` crosses them, `!` re-includes,
#     and a pattern that matches a parent directory excludes everything under it) ---------------------------

def ignore_patterns(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    file = context / ".dockerignore"
    if not file.is_file():
        return []
    patterns = []
    for line in file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        regex = ""
        i = 0
        while i < len(line):
            if line.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif line.startswith("**", i):
                regex += ".*"
                i += 2
            elif line[i] == "*":
                regex += "[^/]*"
                i += 1
            elif line[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(line[i])
                i += 1
        patterns.append((negated, re.compile(regex)))
    return patterns


def is_ignored(relpath: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = relpath.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, regex in patterns:
        if any(regex.fullmatch(c) for c in candidates):
            ignored = not negated
    return ignored


# --- shell words: which commands a Dockerfile and the scripts run -----------------------------------------

def shell_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return line.split()


def is_boundary(words: list[str], i: int) -> bool:
    if i >= len(words):
        return True
    w = words[i]
    if re.fullmatch(r"[;&|()<>]+", w):
        return True
    # `2>&1`, `1>/dev/null`: a redirection also ends the command's own words
    return w.isdigit() and i + 1 < len(words) and words[i + 1][:1] in "<>"


def split_commands(words: list[str]) -> list[list[str]]:
    commands, current = [], []
    for w in words:
        if re.fullmatch(r"[;&|()]+", w):
            if current:
                commands.append(current)
            current = []
        else:
            current.append(w)
    if current:
        commands.append(current)
    return commands


def script_lines() -> dict[str, list[list[str]]]:
    lines: dict[str, list[list[str]]] = {}
    for path in sorted((ROOT / "scripts").iterdir()):
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        text = re.sub(r"\\\n", " ", text)
        lines[f"scripts/{path.name}"] = [shell_words(line) for line in text.splitlines()
                                         if line.strip() and not line.strip().startswith("#")]
    return lines


def runs_command(lines: list[list[str]], command: list[str]) -> bool:
    n = len(command)
    for words in lines:
        for i in range(len(words) - n + 1):
            if words[i:i + n] == command and is_boundary(words, i + n):
                return True
    return False


def run_commands(ins: Instruction) -> list[list[str]]:
    text = re.sub(r"^(\s*--\S+\s+)+", "", " " + ins.args).strip()
    if text.startswith("["):
        return [json.loads(text)]
    return split_commands(shell_words(text))


def check_build_commands(check: Check, files: list[Path]) -> None:
    scripts = script_lines()
    for dockerfile in files:
        problems, seen = [], []
        for stage in parse_dockerfile(dockerfile):
            for ins in stage.instructions:
                if ins.keyword != "RUN":
                    continue
                for command in run_commands(ins):
                    if not any(tuple(command[: len(b)]) == b for b in BUILD_COMMANDS):
                        continue
                    text = " ".join(command)
                    where = [name for name, lines in scripts.items() if runs_command(lines, command)]
                    if where:
                        seen.append(f"`{text}` as in {', '.join(where)}")
                    else:
                        problems.append(
                            f"line {ins.line}: `{text}` is run by no script in scripts/; build the image "
                            "with a command the scripts run and test (or add that command to the script "
                            "that tests this build)")
        name = f"{dockerfile}: its build commands are the ones scripts/ runs"
        check.record(name, problems, "; ".join(seen) or "no build command")


# --- compose files ---------------------------------------------------------------------------------------

VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def variable(value: object) -> tuple[str, str, str] | None:
    """`${NAME:-default}` -> (NAME, ':-', 'default') when the whole value is one variable."""
    m = VAR.fullmatch(str(value).strip()) if value is not None else None
    return (m.group(1), m.group(2) or "", m.group(3) or "") if m else None


def default_of(value: object) -> str:
    """The value with each variable replaced by its default (what `compose up` uses when nothing is set)."""
    return VAR.sub(lambda m: m.group(3) or "" if (m.group(2) or "").endswith("-") else "", str(value))


def as_dict(entries: object) -> dict[str, object]:
    if isinstance(entries, dict):
        return {str(k): v for k, v in entries.items()}
    out: dict[str, object] = {}
    for entry in entries or []:
        key, _, value = str(entry).partition("=")
        out[key] = value
    return out


def seconds(duration: str) -> float:
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", str(duration)):
        total += float(amount) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def build_paths(service: dict) -> tuple[Path, Path] | None:
    build = service.get("build")
    if not build:
        return None
    context = Path(build["context"] if isinstance(build, dict) else build)
    dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
    return context, context / dockerfile


def check_compose(check: Check, path: Path, used: set[Path]) -> None:
    compose = YAML(typ="safe").load(path.read_text())
    services = compose.get("services") or {}
    problems: list[str] = []
    production = False

    for name in ("postgres", "backend", "frontend"):
        if name not in services:
            problems.append(f"service {name} is missing")
    postgres = services.get("postgres") or {}
    backend = services.get("backend") or {}
    frontend = services.get("frontend") or {}
    env = as_dict(backend.get("environment"))

    # Build contexts, Dockerfiles, and the files each Dockerfile copies from its context.
    dockerfile_of: dict[str, Path] = {}
    for name, service in services.items():
        paths = build_paths(service or {})
        if not paths:
            continue
        context, dockerfile = paths
        if not context.is_dir():
            problems.append(f"{name}: build context {context} does not exist")
            continue
        if not dockerfile.is_file():
            problems.append(f"{name}: {dockerfile} does not exist")
            continue
        dockerfile_of[name] = dockerfile
        used.add(Path(os.path.normpath(dockerfile)))
        patterns = ignore_patterns(context)
        for stage in parse_dockerfile(dockerfile):
            for ins in stage.instructions:
                if ins.keyword not in ("COPY", "ADD"):
                    continue
                sources, _, from_stage = copy_sources(ins)
                if from_stage:
                    continue
                for source in sources:
                    rel = os.path.normpath(source).lstrip("/")
                    matches = glob.glob(str(context / rel))
                    if not matches:
                        problems.append(f"{dockerfile}:{ins.line}: COPY {source}: not in the build context {context}")
                    elif rel != "." and is_ignored(rel, patterns):
                        problems.append(f"{dockerfile}:{ins.line}: COPY {source}: excluded by {context}/.dockerignore")
        if dockerfile_of.get(name, Path()).name.endswith(".prod"):
            production = True

    # Secrets and addresses.
    for var in ("DATABASE_URL", "JWT_SECRET", "HOST", "CORS_ORIGINS"):
        if var not in env:
            problems.append(f"backend sets no {var}")
    if env.get("HOST") != "0.0.0.0":
        problems.append("backend must listen on 0.0.0.0 inside its container (HOST)")
    jwt = variable(env.get("JWT_SECRET"))
    if not jwt or jwt[1] != ":?":
        problems.append("JWT_SECRET must be required (${JWT_SECRET:?message}), never defaulted or written here")
    origin_values = {"backend CORS_ORIGINS": env.get("CORS_ORIGINS")}
    front_build = frontend.get("build") if isinstance(frontend.get("build"), dict) else {}
    if "VITE_API_URL" in as_dict(frontend.get("environment")):
        origin_values["frontend VITE_API_URL"] = as_dict(frontend.get("environment"))["VITE_API_URL"]
    if "VITE_API_URL" in as_dict(front_build.get("args")):
        origin_values["frontend build arg VITE_API_URL"] = as_dict(front_build.get("args"))["VITE_API_URL"]
    if len(origin_values) < 2:
        problems.append("frontend gets no VITE_API_URL (environment or build argument)")
    for what, value in origin_values.items():
        var = variable(value)
        if not var or var[1] != ":-" or not var[2]:
            problems.append(f"{what} must come from a variable with a default (${{NAME:-http://…}}), not {value!r}")

    # Start-up order and health.
    condition = ((backend.get("depends_on") or {}).get("postgres") or {}) if isinstance(
        backend.get("depends_on"), dict) else {}
    if condition.get("condition") != "service_healthy":
        problems.append("backend must wait for a healthy postgres (depends_on: postgres: condition: service_healthy)")
    needs_health = ["postgres", "backend"] + (["frontend"] if production else [])
    for name in needs_health:
        service = services.get(name) or {}
        hc = service.get("healthcheck") or {}
        if hc.get("disable"):
            problems.append(f"{name}: its healthcheck is disabled")
        elif not hc.get("test") and not (name in dockerfile_of and healthcheck_of(dockerfile_of[name])):
            problems.append(f"{name} needs a healthcheck (in the compose file or its Dockerfile's HEALTHCHECK)")
    if postgres.get("volumes") is None or not any(str(v).startswith("pg_data:") for v in postgres["volumes"]):
        problems.append("postgres must keep its data on the named volume pg_data")

    if production:
        if str(env.get("COOKIE_SECURE")).lower() != "true":
            problems.append("production: COOKIE_SECURE must be the literal true")
        if default_of(env.get("DOCS_ENABLED", "true")).lower() != "false":
            problems.append("production: DOCS_ENABLED must default to false")
        for name, service in services.items():
            if not dockerfile_of.get(name, Path(".prod")).name.endswith(".prod"):
                problems.append(f"production: {name} builds {dockerfile_of[name]}, not a Dockerfile.prod")
        if postgres.get("ports"):
            problems.append("production: postgres must not publish a port")
        drain = float(default_of(env.get("SHUTDOWN_DRAIN_SECONDS", "1")) or 1)
        grace = seconds(backend.get("stop_grace_period", "10s"))
        if grace <= drain + IN_FLIGHT_GRACE_SECONDS:
            problems.append(
                f"production: backend stop_grace_period ({grace:g} s) must exceed the drain ({drain:g} s) plus the "
                f"{IN_FLIGHT_GRACE_SECONDS} s in-flight grace, or Docker kills requests mid-way")
        if "METRICS_ADDR" in env:
            port = default_of(env["METRICS_ADDR"]).rpartition(":")[2]
            for published in backend.get("ports") or []:
                if default_of(published).rsplit(":", 1)[-1].split("/")[0] == port:
                    problems.append(f"production: the metrics port {port} is published ({published})")
        if "TRUSTED_PROXIES" in env:
            subnets = [default_of(c.get("subnet", "")) for n in (compose.get("networks") or {}).values()
                       for c in (((n or {}).get("ipam") or {}).get("config") or [])]
            trusted = default_of(env["TRUSTED_PROXIES"])
            if subnets and trusted not in subnets:
                problems.append(f"production: TRUSTED_PROXIES defaults to {trusted!r}, not this stack's network {subnets}")
    else:
        volumes = " ".join(str(v) for v in backend.get("volumes") or [])
        for volume in ("cargo_cache:", "cargo_target:"):
            if volume not in volumes:
                problems.append(f"development: backend must mount the named volume {volume[:-1]}")
        if not any(str(v).startswith("./frontend:") for v in frontend.get("volumes") or []):
            problems.append("development: frontend must mount ./frontend (live reload)")

    kind = "production" if production else "development"
    check.record(f"{path}: {kind} stack (services, required secret, origins from variables, health, build files)",
                 problems)


# --- nginx -----------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def location_blocks(text: str) -> list[tuple[str, str]]:
    """(location line, body) for each `location … { … }`, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    blocks = []
    for m in re.finditer(r"location\s+([^{]+)\{", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        blocks.append((m.group(1).strip(), text[m.end():i - 1]))
    return blocks


def check_nginx(check: Check, dockerfile: Path) -> None:
    """Runs nginx with the image's configuration files, laid out where the Dockerfile copies them, on a
    fixture of the app's build, and checks what the browser gets from every location."""
    name = f"{dockerfile}: nginx serves the app (SPA fallback, gzip, cache, the security headers everywhere)"
    problems: list[str] = []
    nginx = os.environ.get("NGINX_BIN", "")
    if not nginx or not os.access(nginx, os.X_OK):
        check.record(name, ["no nginx binary to test with (scripts/check-containers fetches Debian's)"])
        return
    context = dockerfile.parent
    stage = parse_dockerfile(dockerfile)[-1]
    conf_files: dict[str, Path] = {}
    html_root = None
    for ins in stage.instructions:
        if ins.keyword != "COPY":
            continue
        sources, dest, from_stage = copy_sources(ins)
        if from_stage and dest.startswith("/usr/share/nginx/"):
            html_root = dest.rstrip("/")
        elif not from_stage and dest.startswith("/etc/nginx/"):
            for source in sources:
                target = dest if not dest.endswith("/") else dest + Path(source).name
                conf_files[target] = context / source
    if not conf_files or not html_root:
        check.record(name, [f"{dockerfile} copies no nginx configuration or no app build"])
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)
        conf = tmp_path / "etc"
        port = free_port()
        for target, source in conf_files.items():
            out = conf / Path(target).relative_to("/etc/nginx")
            out.parent.mkdir(parents=True, exist_ok=True)
            text = source.read_text()
            if target.startswith("/etc/nginx/conf.d/"):
                listens = re.findall(r"^\s*listen\s+8080\s*;", text, re.M)
                roots = re.findall(rf"^\s*root\s+{re.escape(html_root)}\s*;", text, re.M)
                if len(listens) != 1 or len(roots) != 1:
                    problems.append(f"{source}: expected one `listen 8080;` and one `root {html_root};` "
                                    "(the image's port and the directory the Dockerfile copies the build to)")
                text = re.sub(r"listen\s+8080\s*;", f"listen 127.0.0.1:{port};", text)
                text = text.replace(f"root {html_root};", f"root {tmp_path / 'html'};")
                for where, body in location_blocks(text):
                    includes = re.findall(r"include\s+(\S+?)\s*;", body)
                    if "add_header" in body and not any("security-headers" in i for i in includes):
                        problems.append(f"{source}: location {where} adds headers without including "
                                        "the security headers")
            out.write_text(text)
        headers_file = next((s for t, s in conf_files.items() if "security-headers" in t), None)
        expected = dict(re.findall(r'add_header\s+(\S+)\s+"([^"]*)"\s+always\s*;',
                                   headers_file.read_text())) if headers_file else {}
        if not expected:
            problems.append("no security-headers file with `add_header NAME \"VALUE\" always;` lines")

        html = tmp_path / "html"
        (html / "_app/immutable/entry").mkdir(parents=True)
        index = "<!doctype html><html><head><title>Latchkey</title></head><body>app</body></html>\n"
        (html / "index.html").write_text(index)
        bundle = "export const greeting = 'hello';\n" * 200
        (html / "_app/immutable/entry/app.abc123.js").write_text(bundle)
        (html / "robots.txt").write_text("User-agent: *\nDisallow:\n")
        for p in [html, *html.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp_path / "temp" / d).mkdir(parents=True)
        # The main file mirrors nginx-unprivileged's: one http block including conf.d/*.conf.
        (conf / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {tmp_path}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; text/javascript js; text/plain txt; image/svg+xml svg; text/css css; }}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp_path}/temp/body;
    proxy_temp_path {tmp_path}/temp/proxy;
    fastcgi_temp_path {tmp_path}/temp/fastcgi;
    uwsgi_temp_path {tmp_path}/temp/uwsgi;
    scgi_temp_path {tmp_path}/temp/scgi;
    include conf.d/*.conf;
}}
""")
        args = [nginx, "-p", str(tmp_path), "-c", str(conf / "nginx.conf"), "-e", "stderr"]
        test = subprocess.run(args + ["-t"], capture_output=True, text=True)
        if test.returncode != 0:
            check.record(name, problems + [f"nginx -t: {test.stderr.strip()}"])
            return
        server = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)

            def get(path: str, gzip_ok: bool = False) -> tuple[int, dict[str, str], bytes]:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
                resp = conn.getresponse()
                body = resp.read()
                headers = {k.lower(): v for k, v in resp.getheaders()}
                conn.close()
                return resp.status, headers, body

            cases = [
                # path, status, body check, Cache-Control
                ("/", 200, index.encode(), "no-cache"),
                ("/login", 200, index.encode(), "no-cache"),          # SPA fallback (deep link)
                ("/profile/anything", 200, index.encode(), "no-cache"),
                ("/robots.txt", 200, None, "no-cache"),
                ("/_app/immutable/entry/app.abc123.js", 200, bundle.encode(), "public, max-age=31536000, immutable"),
                ("/_app/immutable/missing.js", 404, None, None),      # never index.html for a bundle
                ("/healthz", 200, b"ok\n", None),
            ]
            for path, status, body, cache in cases:
                got, headers, content = get(path)
                if got != status:
                    problems.append(f"GET {path}: {got}, expected {status}")
                if body is not None and content != body:
                    problems.append(f"GET {path}: unexpected body {content[:60]!r}")
                if cache and headers.get("cache-control") != cache:
                    problems.append(f"GET {path}: Cache-Control {headers.get('cache-control')!r}, expected {cache!r}")
                for header, value in expected.items():
                    if headers.get(header.lower()) != value:
                        problems.append(f"GET {path}: {header} is {headers.get(header.lower())!r}, expected {value!r}")
                if re.search(r"\d", headers.get("server", "")):
                    problems.append(f"GET {path}: Server header shows the version ({headers['server']})")
            status, headers, content = get("/_app/immutable/entry/app.abc123.js", gzip_ok=True)
            if headers.get("content-encoding") != "gzip" or gzip.decompress(content) != bundle.encode():
                problems.append("the JavaScript bundle is not served gzip-compressed to a client that accepts it")
            if "accept-encoding" not in headers.get("vary", "").lower():
                problems.append("gzip responses lack Vary: Accept-Encoding")
        finally:
            server.terminate()
            try:
                out, _ = server.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                out, _ = server.communicate()
            for line in (out or "").splitlines():
                # a 404 logs "No such file" at [error]: expected for the missing bundle
                if "[emerg]" in line or "[alert]" in line or ("[error]" in line and "No such file" not in line):
                    problems.append(f"nginx: {line.strip()}")
    check.record(name, problems, f"nginx -t and {len(cases) + 1} requests against the configuration as copied")


# --- main ------------------------------------------------------------------------------------------------

def main() -> int:
    check = Check()
    composes = compose_files()
    all_dockerfiles = dockerfiles()
    if not composes:
        check.record("compose files exist", ["no docker-compose*.yml at the repository root"])

    for path in composes:
        result = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
                                capture_output=True, text=True)
        output = (result.stdout + result.stderr).strip().splitlines()
        check.record(f"{path}: valid against the Compose Specification (check-jsonschema)",
                     output if result.returncode else [])

    for path in all_dockerfiles:
        result = subprocess.run([BIN / "hadolint", "--no-color", "--config", ".hadolint.yaml", str(path)],
                                capture_output=True, text=True)
        output = (result.stdout + result.stderr).strip().splitlines()
        check.record(f"{path}: hadolint (.hadolint.yaml)", (output or ["hadolint failed"]) if result.returncode else [])

    used: set[Path] = set()
    for path in composes:
        try:
            check_compose(check, path, used)
        except Exception as e:  # a file that is not the expected shape is a failure, not a crash
            check.record(f"{path}: stack semantics", [f"{type(e).__name__}: {e}"])

    unused = [str(p) for p in all_dockerfiles if p not in used]
    check.record("every Dockerfile is built by a compose file (nothing dangles)",
                 [f"{p} is used by no compose file" for p in unused])

    try:
        check_build_commands(check, all_dockerfiles)
    except Exception as e:
        check.record("build commands in Dockerfiles", [f"{type(e).__name__}: {e}"])

    for path in all_dockerfiles:
        stages = parse_dockerfile(path)
        if stages and "nginx" in stages[-1].base:
            try:
                check_nginx(check, path)
            except Exception as e:  # e.g. a configuration file the Dockerfile copies is missing
                check.record(f"{path}: nginx serves the app", [f"{type(e).__name__}: {e}"])

    print(f"containers: {check.passed} passed, {check.failed} failed")
    return 0 if check.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

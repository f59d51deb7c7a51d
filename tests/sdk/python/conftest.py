"""Fixtures for the SDK conformance suite: a real `floe` binary on an ephemeral port, over
SQLite or a fresh PostgreSQL database (FLOE_TEST_DB=sqlite|postgres), with organizations
and tokens made through floe's own CLI, and clients of the official `polar-sdk` whose every
response is also checked against the contract's JSON schemas."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import httpx
import pytest
from polar.v2026_10 import Polar

from contract import check_response, schema_ref, validate

FLOE_BIN = os.environ.get("FLOE_BIN")
DB = os.environ.get("FLOE_TEST_DB", "sqlite")
# `s3` when the environment carries floe's S3 settings (FLOE_STORAGE=s3, FLOE_S3_*), which
# every floe started here inherits.
STORAGE = os.environ.get("FLOE_STORAGE", "local")
POSTGRES = os.environ.get("FLOE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


class Floe:
    """One floe process with its own data dir and database."""

    def __init__(self, env=None, twin_of=None, **serve_args):
        """`env`: extra environment for floe; `twin_of`: another Floe whose data dir and
        database this one shares (a second process of the same installation)."""
        if not FLOE_BIN:
            raise RuntimeError("set FLOE_BIN to the floe binary")
        self.pg_db = None
        self.owns_data = twin_of is None
        if twin_of is not None:
            self.dir = twin_of.dir
            self.env = dict(twin_of.env)
        else:
            self.dir = tempfile.mkdtemp(prefix="floe-sdk-")
            self.env = dict(os.environ, FLOE_DATA_DIR=self.dir, FLOE_LOG_JSON="1", RUST_LOG="info")
            self.env.pop("FLOE_DATABASE_URL", None)
            if DB == "postgres":
                self.pg_db = f"floe_sdk_{uuid.uuid4().hex}"
                subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"CREATE DATABASE {self.pg_db}"], check=True)
                self.env["FLOE_DATABASE_URL"] = f"{POSTGRES}/{self.pg_db}"
        self.env.update(env or {})
        self.args = [FLOE_BIN, "serve", "--listen", "127.0.0.1:0"]
        for name, value in serve_args.items():
            self.args += [f"--{name.replace('_', '-')}", str(value)]
        self.log = open(os.path.join(self.dir, f"serve-{uuid.uuid4().hex[:8]}.log"), "w+")
        self.start()

    def start(self):
        self.log.seek(0)
        self.log.truncate()
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self.log, stderr=self.log)
        self.url = self._wait_for_address()

    def kill(self):
        """SIGKILL: no chance to flush or clean up. A later start() reuses the port, so
        URLs handed out before stay valid, as they would across a real restart."""
        self.process.kill()
        self.process.wait()
        listen = self.args.index("--listen") + 1
        self.args[listen] = self.url.removeprefix("http://")

    def restart(self, env=None, unset=()):
        """Stops this process gracefully and starts it again on the same port and data,
        with environment changes."""
        self.process.terminate()
        self.process.wait(timeout=30)
        listen = self.args.index("--listen") + 1
        self.args[listen] = self.url.removeprefix("http://")
        for name in unset:
            self.env.pop(name, None)
        self.env.update(env or {})
        self.start()

    def sql(self, query):
        """Rows of a query run on this floe's database itself (to check what the API
        cannot show)."""
        if self.env.get("FLOE_DATABASE_URL"):
            out = subprocess.run(
                ["psql", self.env["FLOE_DATABASE_URL"], "-AtF", "\t", "-c", query],
                check=True, capture_output=True, text=True,
            ).stdout
            return [tuple(line.split("\t")) for line in out.splitlines() if line]
        import sqlite3

        with sqlite3.connect(os.path.join(self.dir, "floe.db")) as db:
            return [tuple(str(v) for v in row) for row in db.execute(query)]

    def _wait_for_address(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("floe exited: " + self._log_text())
            for line in self._log_text().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("message") == "floe is serving":
                    url = f"http://{entry['listen']}"
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        return url
            time.sleep(0.05)
        raise RuntimeError("floe did not start: " + self._log_text())

    def _log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def run_cli(self, *args):
        """Runs a floe command against this server's settings; returns the completed process."""
        return subprocess.run([FLOE_BIN, *args], env=self.env, capture_output=True, text=True)

    def cli(self, *args):
        """Runs an admin command against this server's data, while it serves."""
        result = subprocess.run([FLOE_BIN, *args], env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"floe {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def organization(self, name=None):
        slug = f"org-{uuid.uuid4().hex[:12]}"
        organization = json.loads(self.cli("organization", "create", "--name", name or slug, "--slug", slug))
        validate(organization, schema_ref("Organization"))
        return organization

    def token(self, organization, *scopes, name=None):
        args = ["token", "create", "--organization", organization["slug"]]
        for scope in scopes:
            args += ["--scope", scope]
        if name:
            args += ["--name", name]
        return self.cli(*args).strip().splitlines()[-1]

    def client(self, token):
        polar = Polar(token, base_url=self.url, timeout=30)
        # Every JSON response must also match the contract's schema for its operation.
        polar._client._client.event_hooks["response"].append(check_response)
        return polar

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if not self.owns_data:
            self.log.close()
            return
        if self.pg_db:
            subprocess.run(
                ["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {self.pg_db} WITH (FORCE)"],
                check=False,
            )
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def floe():
    server = Floe()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def world():
    """The contract sweep's two organizations with one of each resource (sweep/world.py),
    on a floe of their own that may deliver webhooks to 127.0.0.1."""
    from world import World

    server = Floe(env={"FLOE_ALLOW_PRIVATE_WEBHOOKS": "1"})
    made = World(server)
    yield made
    made.close()
    server.stop()


@pytest.fixture
def own_floe():
    """A floe of the test's own, for tests that stop, kill or configure it."""
    servers = []

    def make(**serve_args):
        server = Floe(**serve_args)
        servers.append(server)
        return server

    yield make
    # Twins first: they share what their original owns.
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def org(floe):
    """A fresh organization, a token with every scope, and an SDK client for it."""
    organization = floe.organization()
    token = floe.token(organization)
    return Org(organization, token, floe.client(token), floe.url)


class Org:
    def __init__(self, organization, token, polar, url):
        self.url = url
        self.organization = organization
        self.id = organization["id"]
        self.token = token
        self.polar = polar


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (it downloads no browser of its own), for the
    hosted pages' end-to-end tests."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Debian's chromium package is needed: apt-get install -y chromium (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()

"""Ingestion throughput over HTTP: 2 clients posting batches of 1,000 usage events (each with
an external ID, a customer's external ID and 4 metadata values) to POST /v1/events/ingest for
a fixed time, against floe on SQLite and on PostgreSQL. Standard library only.

Beside it, the ceiling: the same batches parsed and stored by the same functions without HTTP
(bench/ingest-direct), and the ratio of the two. On SQLite also the ceiling under that one:
the batches' rows inserted into the same table by one prepared statement and nothing else."""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

POSTGRES = os.environ.get("FLOE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def template(size):
    """A batch whose external IDs carry a placeholder, so that every batch sent is new (a
    repeated batch would only measure deduplication) at the cost of one bytes.replace."""
    return json.dumps({"events": [
        {
            "name": "llm.call",
            "external_customer_id": f"customer-{j % 100}",
            "external_id": f"@BATCH@-{j}",
            "metadata": {"model": "gpt-4o", "tokens": j, "route": "/v1/chat", "ok": True},
        }
        for j in range(size)
    ]}).encode()


def run(bin_path, database, seconds, clients, size):
    data_dir = tempfile.mkdtemp(prefix="floe-bench-ingest-")
    env = dict(os.environ, FLOE_DATA_DIR=data_dir, FLOE_LOG_JSON="1", RUST_LOG="warn,floe=info")
    pg_db = None
    if database == "postgres":
        pg_db = f"floe_bench_{uuid.uuid4().hex}"
        subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"CREATE DATABASE {pg_db}"], check=True)
        env["FLOE_DATABASE_URL"] = f"{POSTGRES}/{pg_db}"
    subprocess.run([bin_path, "organization", "create", "--name", "bench", "--slug", "bench"], env=env, check=True, capture_output=True)
    token = subprocess.run([bin_path, "token", "create", "--organization", "bench"], env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen([bin_path, "serve", "--listen", "127.0.0.1:0"], env=env, stderr=subprocess.PIPE, text=True)
    address = None
    for line in server.stderr:
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("message") == "floe is serving":
            address = entry["listen"]
            break
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    host, port = address.rsplit(":", 1)
    body_template = template(size)
    run_id = uuid.uuid4().hex[:8]
    totals = []
    lock = threading.Lock()
    deadline = time.time() + seconds

    def client(offset):
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        sent, i = 0, offset
        while time.time() < deadline:
            body = body_template.replace(b"@BATCH@", f"{run_id}-{i}".encode())
            connection.request("POST", "/v1/events/ingest", body=body,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            answer = json.loads(response.read())
            if response.status != 200 or answer["duplicates"]:
                raise RuntimeError(f"ingest answered {response.status}: {answer}")
            sent += answer["inserted"]
            i += clients
        with lock:
            totals.append(sent)

    started = time.time()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    server.terminate()
    server.wait()
    if pg_db:
        subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)
    shutil.rmtree(data_dir, ignore_errors=True)
    return sum(totals) / elapsed


def direct(bin_dir, database, seconds, clients, size, raw=False):
    """The same batches parsed and stored by the same functions without HTTP; with `raw`
    (SQLite), only their rows inserted by one prepared statement: SQLite's own ceiling."""
    data_dir = tempfile.mkdtemp(prefix="floe-bench-direct-")
    if database == "postgres":
        pg_db = f"floe_bench_{uuid.uuid4().hex}"
        subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"CREATE DATABASE {pg_db}"], check=True)
        url = f"{POSTGRES}/{pg_db}"
    else:
        pg_db, url = None, f"sqlite://{data_dir}/floe.db?mode=rwc"
    try:
        mode = ["--raw-sqlite"] if raw else []
        out = subprocess.run([os.path.join(bin_dir, "ingest-direct"), *mode, url, str(int(seconds)), str(clients), str(size)],
                             check=True, capture_output=True, text=True).stdout
        return float(out.strip().splitlines()[-1])
    finally:
        if pg_db:
            subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)
        shutil.rmtree(data_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    targets = {"sqlite": 100_000, "postgres": 50_000}
    bin_dir = os.path.dirname(os.path.abspath(args.bin))
    for database in ("sqlite", "postgres"):
        rate = run(args.bin, database, args.seconds, args.clients, args.batch)
        ceiling = direct(bin_dir, database, args.seconds, args.clients, args.batch)
        line = (f"ingest, {database}: over HTTP {rate:,.0f} events/s (target {targets[database]:,}: {rate / targets[database]:.2f}); "
                f"same batches stored directly {ceiling:,.0f} events/s; HTTP / direct {rate / ceiling:.2f}")
        if database == "sqlite":
            raw = direct(bin_dir, database, args.seconds, args.clients, args.batch, raw=True)
            line += f"; their rows inserted raw into the same table {raw:,.0f} events/s (HTTP / raw {rate / raw:.2f})"
        print(line, flush=True)


if __name__ == "__main__":
    main()

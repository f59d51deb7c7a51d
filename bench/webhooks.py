"""Webhook fan-out: events per second from commit to a 2xx at a local receiver, for 1 and 10
endpoints, on SQLite and PostgreSQL, against the rate at which the same receiver accepts the
same POSTs from a plain client with as many connections as there are endpoints. Also the
commit-to-delivery latency (p50, p99). Standard library only.

usage: python3 bench/webhooks.py --bin target/release/floe [--events 400]"""

import argparse
import http.client
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

POSTGRES = os.environ.get("FLOE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def receiver_main(port_file):
    """A receiver process: answers 200 to every POST and logs (customer id, time received)."""
    received = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm holds the
            # second until the client's delayed ACK (40 ms per request).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            at = time.time()
            try:
                data = json.loads(body).get("data", {}).get("id")
            except ValueError:
                data = None
            with lock:
                received.append((data, at))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):
            with lock:
                payload = json.dumps(received).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


def start_receiver():
    port_file = tempfile.mktemp()
    process = subprocess.Popen([sys.executable, __file__, "--receiver", port_file])
    while not os.path.exists(port_file) or not open(port_file).read():
        time.sleep(0.05)
    return process, int(open(port_file).read())


def received(port):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/")
    return json.loads(connection.getresponse().read())


def baseline(port, count, connections):
    """The receiver's own rate: the same POST from `connections` plain keep-alive clients."""
    body = json.dumps({"type": "customer.created", "data": {"id": "baseline"}}).encode()
    per = count // connections

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(per):
            connection.request("POST", "/hook", body=body, headers={"content-type": "application/json"})
            connection.getresponse().read()

    started = time.time()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * connections / (time.time() - started)


def fan_out(bin_path, database, endpoints, events):
    data_dir = tempfile.mkdtemp(prefix="floe-bench-hooks-")
    env = dict(os.environ, FLOE_DATA_DIR=data_dir, FLOE_LOG_JSON="1", RUST_LOG="warn,floe=info", FLOE_ALLOW_PRIVATE_WEBHOOKS="1")
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
    receiver, receiver_port = start_receiver()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        api = http.client.HTTPConnection(host, int(port))
        for _ in range(endpoints):
            api.request("POST", "/v1/webhooks/endpoints", body=json.dumps({
                "url": f"http://127.0.0.1:{receiver_port}/hook", "format": "raw", "events": ["customer.created"],
            }), headers=headers)
            response = api.getresponse()
            assert response.status == 201, response.read()
            response.read()
        committed = {}
        lock = threading.Lock()

        def create(count, offset):
            connection = http.client.HTTPConnection(host, int(port))
            for i in range(count):
                connection.request("POST", "/v1/customers", body=json.dumps({"email": f"c{offset}-{i}-{uuid.uuid4().hex[:6]}@example.com"}), headers=headers)
                response = connection.getresponse()
                body = json.loads(response.read())
                with lock:
                    committed[body["id"]] = time.time()

        started = time.time()
        creators = [threading.Thread(target=create, args=(events // 2, n)) for n in range(2)]
        for t in creators:
            t.start()
        for t in creators:
            t.join()
        expected = len(committed) * endpoints
        deadline = time.time() + 300
        while True:
            got = [r for r in received(receiver_port) if r[0] in committed]
            if len(got) >= expected or time.time() > deadline:
                break
            time.sleep(0.1)
        finished = max(at for _, at in got)
        latencies = sorted((at - committed[customer]) * 1000 for customer, at in got)
        rate = len(got) / (finished - started)
        raw = baseline(receiver_port, 2000, endpoints)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        return rate, raw, statistics.median(latencies), p99, len(got), expected
    finally:
        receiver.terminate()
        server.terminate()
        server.wait()
        if pg_db:
            subprocess.run(["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)
        shutil.rmtree(data_dir, ignore_errors=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--receiver":
        receiver_main(sys.argv[2])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--events", type=int, default=400)
    args = parser.parse_args()
    for database in ("sqlite", "postgres"):
        for endpoints in (1, 10):
            rate, raw, p50, p99, got, expected = fan_out(args.bin, database, endpoints, args.events)
            print(f"webhooks, {database}, {endpoints} endpoint(s): {rate:,.0f} deliveries/s vs receiver {raw:,.0f}/s: "
                  f"ratio {rate / raw:.2f} (target 0.5); commit-to-delivery p50 {p50:.1f} ms, p99 {p99:.1f} ms; {got}/{expected} delivered")


if __name__ == "__main__":
    main()

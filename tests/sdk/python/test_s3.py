"""What only the S3 backend has: a store that is down, silent or goes away mid-way, the
storage check, signed part headers, object metadata, the sweep in the store. Run with the
files suite when floe's S3 settings are in the environment (scripts/test does, against a
Garage node it can stop and restart)."""

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import uuid

import httpx
import pytest

from conftest import POSTGRES, STORAGE

if STORAGE != "s3":
    pytest.fail("test_s3.py needs FLOE_STORAGE=s3 and the FLOE_S3_* settings", pytrace=False)


def create_file(floe):
    organization = floe.organization()
    token = floe.token(organization)
    body = {
        "service": "downloadable", "name": "a.txt", "mime_type": "text/plain", "size": 3,
        "upload": {"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 3}]},
    }
    started = time.monotonic()
    response = httpx.post(f"{floe.url}/v1/files/", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    return response, time.monotonic() - started


def test_a_store_that_is_down_is_a_retryable_503(own_floe):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    floe = own_floe(s3_endpoint=f"http://127.0.0.1:{port}")
    response, took = create_file(floe)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "ServiceUnavailable"
    assert response.headers["retry-after"]
    assert took < 15
    assert floe.organization()  # floe itself is fine


def test_a_store_that_does_not_answer_is_a_504_not_a_hang(own_floe):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(silent.accept()[0])  # and never answer
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    floe = own_floe(s3_endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}")
    try:
        response, took = create_file(floe)
        assert response.status_code == 504, response.text
        assert response.json()["error"] == "GatewayTimeout"
        assert response.headers["retry-after"]
        assert took < 35
    finally:
        silent.close()
        for connection in accepted:
            connection.close()


def test_abandoned_uploads_are_aborted_in_the_store(own_floe):
    floe = own_floe(upload_max_age=1, sweep_interval=1)
    organization = floe.organization()
    polar = floe.client(floe.token(organization))
    data = b"abandoned"
    upload = polar.files.create(
        service="downloadable", name="a.bin", mime_type="application/octet-stream", size=len(data),
        upload={"parts": [{"number": 1, "chunk_start": 0, "chunk_end": len(data)}]},
    )
    time.sleep(3.5)
    # The store no longer knows the upload: AbortMultipartUpload went through.
    response = httpx.put(upload.upload.parts[0].url, content=data)
    assert response.status_code == 404, response.text
    assert "NoSuchUpload" in response.text


def test_storage_check_says_what_is_wrong(floe):
    ok = floe.run_cli("storage", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "storage is ready" in ok.stdout
    # Two buckets: reachable, write, read back, delete, multipart.
    assert sum(line.startswith("ok ") for line in ok.stdout.splitlines()) == 10, ok.stdout
    wrong = floe.run_cli("storage", "check", "--s3-secret-access-key", "wrong")
    assert wrong.returncode == 1
    assert "FAIL" in wrong.stdout and "403" in wrong.stdout
    missing = floe.run_cli("storage", "check", "--s3-bucket", "no-such-bucket")
    assert missing.returncode == 1
    assert "no-such-bucket" in missing.stdout and "404" in missing.stdout


def test_objects_carry_polars_metadata(floe):
    from test_files import b64sha256, download_with, upload_file

    organization = floe.organization()
    token = floe.token(organization)
    polar = floe.client(token)
    data = b"metadata"
    file = upload_file(polar, data, name="🚀 naïve.txt", mime="text/plain", checksum_sha256_base64=b64sha256(data))
    got = httpx.get(download_with(floe.url, token, file.id).json()["download"]["url"])
    assert got.content == data
    meta = {k.removeprefix("x-amz-meta-"): v for k, v in got.headers.items() if k.startswith("x-amz-meta-")}
    assert meta["polar-id"] == file.id
    assert meta["polar-organization-id"] == organization["id"]
    assert meta["polar-name"] == "nave.txt"
    assert meta["polar-size"] == str(len(data))
    assert meta["polar-sha256-base64"] == b64sha256(data)


def test_part_checksum_headers_are_signed(floe):
    """A part planned with its SHA-256 must be sent with the returned checksum headers: they
    are part of the signature, so leaving them out is refused by the store itself."""
    from test_files import create

    polar = floe.client(floe.token(floe.organization()))
    data = b"signed checksum"
    upload = create(polar, data, checksums=True)
    part = upload.upload.parts[0]
    assert set(part.headers) == {"x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm"}
    signed = urllib.parse.parse_qs(urllib.parse.urlsplit(part.url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm", "content-length"} <= set(signed)
    # Refused (Garage says 400 for a signed header that is missing, AWS 403).
    assert httpx.put(part.url, content=data).status_code in (400, 403)
    assert httpx.put(part.url, content=data, headers=part.headers).status_code == 200


def count_file_rows(floe, organization_id):
    """Rows in floe's `files` table for an organization, uploaded or not, read from the
    database itself (the API lists uploaded files only)."""
    if floe.pg_db:
        out = subprocess.run(
            ["psql", f"{POSTGRES}/{floe.pg_db}", "-tAc",
             f"SELECT COUNT(*) FROM files WHERE organization_id = '{organization_id}'"],
            check=True, capture_output=True, text=True,
        ).stdout
        return int(out.strip())
    with sqlite3.connect(os.path.join(floe.dir, "floe.db")) as db:
        return db.execute(
            "SELECT COUNT(*) FROM files WHERE organization_id = ?", (uuid.UUID(organization_id).bytes,)
        ).fetchone()[0]


def test_the_store_going_away_is_a_503_and_the_upload_can_be_retried(floe):
    from test_files import complete, create, put_parts

    garage_dir = os.environ.get("FLOE_TEST_GARAGE_DIR")
    garage_bin = os.environ.get("FLOE_TEST_GARAGE_BIN")
    if not (garage_dir and garage_bin):
        pytest.fail("needs FLOE_TEST_GARAGE_DIR and FLOE_TEST_GARAGE_BIN (scripts/test sets them)", pytrace=False)
    organization = floe.organization()
    token = floe.token(organization)
    polar = floe.client(token)
    data = b"retried after the store came back"
    upload = create(polar, data)
    parts = put_parts(upload, data)
    assert count_file_rows(floe, organization["id"]) == 1

    pid_file = os.path.join(garage_dir, "garage.pid")
    with open(pid_file) as f:
        pid = int(f.read())
    os.kill(pid, signal.SIGTERM)
    for _ in range(200):  # Garage stops within about a second
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(f"{floe.url}/v1/files/", headers=headers, timeout=60, json={
            "service": "downloadable", "name": "b.txt", "mime_type": "text/plain", "size": 3,
            "upload": {"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 3}]},
        })
        assert created.status_code == 503, created.text
        completed = httpx.post(f"{floe.url}/v1/files/{upload.id}/uploaded", headers=headers, timeout=60, json={
            "id": upload.upload.id, "path": upload.upload.path, "parts": parts,
        })
        assert completed.status_code == 503, completed.text
        # No half-written row: the failed create left none, the failed completion left the
        # file as it was.
        assert count_file_rows(floe, organization["id"]) == 1
        assert polar.files.list().pagination.total_count == 0
    finally:
        log = open(os.path.join(garage_dir, "garage.log"), "a")
        config = os.path.join(garage_dir, "garage.toml")
        server = subprocess.Popen([garage_bin, "-c", config, "server"], stdout=log, stderr=log)
        with open(pid_file, "w") as f:
            f.write(str(server.pid))
        deadline = time.time() + 30
        while time.time() < deadline:
            if subprocess.run([garage_bin, "-c", config, "status"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
    # The same upload, completed again once the store is back.
    deadline = time.time() + 30
    while True:
        try:
            file = complete(polar, upload, parts)
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    assert file.is_uploaded
    got = httpx.get(httpx.get(f"{floe.url}/v1/files/{file.id}/download", headers={"Authorization": f"Bearer {token}"}).json()["download"]["url"])
    assert got.content == data

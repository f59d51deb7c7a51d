"""The server as a process: background sweep, graceful shutdown, durability across kill -9,
the admin commands beside a running server."""

import http.client
import json
import time
import urllib.parse

import httpx
import pytest

from conftest import Floe
from test_files import complete, create, download_with, put_parts


def client_of(floe):
    organization = floe.organization()
    token = floe.token(organization)
    return organization, token, floe.client(token)


def test_background_sweep_removes_abandoned_uploads(own_floe):
    floe = own_floe(upload_max_age=1, sweep_interval=1)
    _, _, polar = client_of(floe)
    data = b"abandoned"
    upload = create(polar, data)
    time.sleep(3.5)
    response = httpx.put(upload.upload.parts[0].url, content=data)
    assert response.status_code == 404
    with pytest.raises(Exception) as error:
        complete(polar, upload, [{"number": 1, "checksum_etag": '"x"', "checksum_sha256_base64": None}])
    assert getattr(error.value, "status_code", None) == 404


def test_graceful_shutdown_finishes_requests_in_flight(own_floe):
    floe = own_floe()
    _, _, polar = client_of(floe)
    data = bytes(range(256)) * 4096
    upload = create(polar, data)
    url = urllib.parse.urlsplit(upload.upload.parts[0].url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("PUT", f"{url.path}?{url.query}")
    connection.putheader("Content-Length", str(len(data)))
    connection.endheaders()
    connection.send(data[: len(data) // 2])
    time.sleep(0.2)
    floe.process.terminate()  # SIGTERM while the part is half sent
    time.sleep(0.5)
    assert floe.process.poll() is None, "floe must wait for the request in flight"
    connection.send(data[len(data) // 2 :])
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("ETag")
    assert floe.process.wait(timeout=15) == 0


def test_acknowledged_data_survives_kill_9(own_floe):
    floe = own_floe()
    organization, token, polar = client_of(floe)
    data = bytes(range(256)) * 1000
    finished = create(polar, data, name="finished.bin", chunk=100_000)
    finished = complete(polar, finished, put_parts(finished, data))
    halfway = create(polar, data, name="halfway.bin", chunk=128_000)
    first = halfway.upload.parts[0]
    response = httpx.put(first.url, content=data[first.chunk_start : first.chunk_end])
    assert response.status_code == 200
    first_etag = response.headers["etag"]

    floe.kill()
    floe.start()
    polar = floe.client(token)

    assert [f.id for f in polar.files.list().items] == [finished.id]

    got = httpx.get(download_with(floe.url, token, finished.id).json()["download"]["url"])
    assert got.content == data
    # The acknowledged part is still there: upload the rest and complete.
    parts = [{"number": 1, "checksum_etag": first_etag, "checksum_sha256_base64": None}]
    for part in halfway.upload.parts[1:]:
        response = httpx.put(part.url, content=data[part.chunk_start : part.chunk_end])
        assert response.status_code == 200
        parts.append({"number": part.number, "checksum_etag": response.headers["etag"], "checksum_sha256_base64": None})
    assert complete(polar, halfway, parts).is_uploaded
    # Admin commands still reach the same data.
    assert floe.token(organization, "files:read").startswith("polar_oat_")


def test_cli_refuses_bad_input(floe):
    with pytest.raises(RuntimeError):
        floe.cli("organization", "create", "--name", "x", "--slug", "Not A Slug")
    organization = floe.organization()
    with pytest.raises(RuntimeError):
        floe.cli("organization", "create", "--name", "again", "--slug", organization["slug"])
    with pytest.raises(RuntimeError):
        floe.token(organization, "files:destroy")
    with pytest.raises(RuntimeError):
        floe.cli("token", "create", "--organization", "no-such-org")


def test_one_json_log_line_per_request(own_floe):
    floe = own_floe()
    organization, token, polar = client_of(floe)
    polar.files.list()
    # Lines are written by floe's log thread, a moment after the response.
    deadline = time.time() + 5
    while True:
        lines = [json.loads(line) for line in floe._log_text().splitlines() if line.startswith("{")]
        requests = [line for line in lines if line.get("message") == "request"]
        listed = [r for r in requests if r["path"] == "/v1/files/" or r["path"] == "/v1/files"]
        if listed or time.time() > deadline:
            break
        time.sleep(0.05)
    assert len(listed) == 1, requests
    entry = listed[0]
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["latency_ms"] >= 0 and len(entry["request_id"]) == 36
    # Tokens and signatures never reach the log.
    assert token not in floe._log_text()


def test_migrate_command(floe):
    assert floe.cli("migrate") == ""

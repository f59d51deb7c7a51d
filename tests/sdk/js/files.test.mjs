// Smoke test with the official TypeScript SDK (@polar-sh/sdk 1.0.x): create a file,
// upload its parts to the presigned URLs, complete it, list it, update and delete it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe();
after(() => floe.stop());

test("create → upload → complete → list", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  // Three parts either way; S3 stores want every part but the last to be 5 MiB or more.
  const s3 = process.env.FLOE_STORAGE === "s3";
  const chunk = s3 ? 5 * 1024 * 1024 : 10_000;
  const data = Buffer.from("floe ".repeat(s3 ? 2_621_440 : 5000));
  const parts = [];
  for (let start = 0, number = 1; start < data.length; start += chunk, number++) {
    const end = Math.min(start + chunk, data.length);
    parts.push({
      number,
      chunk_start: start,
      chunk_end: end,
      checksum_sha256_base64: createHash("sha256").update(data.subarray(start, end)).digest("base64"),
    });
  }
  const upload = await polar.files.create({
    service: "downloadable",
    name: "smoke-ü.txt",
    mime_type: "text/plain",
    size: data.length,
    checksum_sha256_base64: createHash("sha256").update(data).digest("base64"),
    upload: { parts },
  });
  assert.equal(upload.is_uploaded, false);
  assert.equal(upload.upload.parts.length, 3);

  const completed = [];
  for (const part of upload.upload.parts) {
    const response = await fetch(part.url, {
      method: "PUT",
      body: data.subarray(part.chunk_start, part.chunk_end),
      headers: part.headers,
    });
    assert.equal(response.status, 200, await response.text());
    completed.push({
      number: part.number,
      checksum_etag: response.headers.get("etag"),
      checksum_sha256_base64: part.checksum_sha256_base64,
    });
  }

  const file = await polar.files.uploaded(upload.id, {
    id: upload.upload.id,
    path: upload.upload.path,
    parts: completed,
  });
  assert.equal(file.is_uploaded, true);
  assert.equal(file.name, "smoke-ü.txt");
  assert.match(file.checksum_etag, /-3"$/);

  const listed = await polar.files.list({ ids: [file.id] });
  assert.equal(listed.pagination.total_count, 1);
  assert.equal(listed.items[0].id, file.id);

  const updated = await polar.files.update(file.id, { version: "2" });
  assert.equal(updated.version, "2");
  await polar.files.delete(file.id);
  const after = await polar.files.list({ ids: [file.id] });
  assert.equal(after.pagination.total_count, 0);
});

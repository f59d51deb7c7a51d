// Starts a real floe for the smoke test: FLOE_BIN on an ephemeral port, over SQLite or a
// fresh PostgreSQL database (FLOE_TEST_DB=postgres), with an organization and a token made
// through floe's CLI.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";

const postgres = process.env.FLOE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";

// `scopes`: the token's scopes (none: every scope); `env`: extra environment for floe.
export async function startFloe({ scopes = ["files:write"], env: extra = {} } = {}) {
  const bin = process.env.FLOE_BIN;
  if (!bin) throw new Error("set FLOE_BIN to the floe binary");
  const dir = mkdtempSync(join(tmpdir(), "floe-js-"));
  const env = { ...process.env, FLOE_DATA_DIR: dir, FLOE_LOG_JSON: "1", ...extra };
  delete env.FLOE_DATABASE_URL;
  let database = null;
  if (process.env.FLOE_TEST_DB === "postgres") {
    database = `floe_js_${randomUUID().replaceAll("-", "")}`;
    execFileSync("psql", [`${postgres}/postgres`, "-qc", `CREATE DATABASE ${database}`]);
    env.FLOE_DATABASE_URL = `${postgres}/${database}`;
  }
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise((resolve, reject) => {
    let buffer = "";
    child.on("exit", (code) => reject(new Error(`floe exited with ${code}: ${buffer}`)));
    child.stderr.on("data", (chunk) => {
      buffer += chunk;
      for (const line of buffer.split("\n")) {
        try {
          const entry = JSON.parse(line);
          if (entry.message === "floe is serving") resolve(`http://${entry.listen}`);
        } catch {}
      }
    });
  });
  const cli = (...args) => execFileSync(bin, args, { env, encoding: "utf8" });
  const slug = `js-${randomUUID().slice(0, 8)}`;
  cli("organization", "create", "--name", "JS smoke", "--slug", slug);
  const scopeArgs = scopes.flatMap((scope) => ["--scope", scope]);
  const token = cli("token", "create", "--organization", slug, ...scopeArgs).trim().split("\n").pop();
  return {
    url,
    token,
    dir,
    stop() {
      child.removeAllListeners("exit");
      child.kill("SIGTERM");
      if (database) {
        execFileSync("psql", [`${postgres}/postgres`, "-qc", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

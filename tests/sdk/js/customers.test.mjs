// Customers and webhooks with the official TypeScript SDK: create a webhook endpoint and a
// customer, receive the deliveries on a real HTTP server, and check them with the SDK's
// `validateEvent`.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { createPolar, webhooks } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [], env: { FLOE_ALLOW_PRIVATE_WEBHOOKS: "1" } });
const received = [];
const receiver = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    received.push({ headers: request.headers, body });
    response.end("ok");
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
after(() => {
  receiver.close();
  floe.stop();
});

test("customer CRUD and a delivery the SDK validates", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const endpoint = await polar.webhooks.createWebhookEndpoint({
    url: `http://127.0.0.1:${receiver.address().port}/hook`,
    format: "raw",
    events: ["customer.created"],
  });
  assert.ok(endpoint.secret.startsWith("whsec_"));

  const email = `js-${randomUUID().slice(0, 8)}@example.com`;
  const customer = await polar.customers.create({ email, name: "Ada", metadata: { plan: "pro" } });
  assert.equal(customer.email, email);
  const listed = await polar.customers.list({ email });
  assert.deepEqual(listed.items.map((c) => c.id), [customer.id]);
  const updated = await polar.customers.update(customer.id, { name: "Ada L." });
  assert.equal(updated.name, "Ada L.");
  const state = await polar.customers.getState(customer.id);
  assert.deepEqual(state.active_subscriptions, []);

  const deadline = Date.now() + 15_000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(received.length, 1);
  const { headers, body } = received[0];
  const event = await webhooks.validateEvent(
    body,
    {
      "webhook-id": headers["webhook-id"],
      "webhook-timestamp": headers["webhook-timestamp"],
      "webhook-signature": headers["webhook-signature"],
    },
    endpoint.secret,
  );
  assert.equal(event.type, "customer.created");
  assert.equal(event.data.id, customer.id);

  await polar.customers.delete(customer.id);
  await assert.rejects(polar.customers.get(customer.id));
});

// Refunds with the official TypeScript SDK on floe's test processor: a partial refund and
// then the rest, the order's status and refundable amounts after each, the list filtered
// by order, and a third refund of a fully refunded order answered with RefundedAlready.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

test("an order refunded in two parts", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });
  const product = await polar.products.create({
    name: "Refundable licence",
    prices: [{ amount_type: "fixed", price_amount: 3000 }],
  });
  const checkout = await polar.checkouts.create({
    products: [product.id],
    customer_email: "refund-ts@example.com",
    customer_billing_address: { country: "DE" },
  });
  await buyer.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: "pm_card_visa" });
  const [order] = (await polar.orders.list({ checkout_id: checkout.id })).items;
  assert.equal(order.status, "paid");

  const first = await polar.refunds.create({ order_id: order.id, amount: 1000, reason: "customer_request" });
  assert.equal(first.status, "succeeded");
  assert.equal(first.amount, 1000);
  let now = await polar.orders.get(order.id);
  assert.equal(now.status, "partially_refunded");
  assert.equal(now.refundable_amount, 2000);

  const rest = await polar.refunds.create({ order_id: order.id, amount: 2000, reason: "other", metadata: { why: "rest" } });
  assert.deepEqual(rest.metadata, { why: "rest" });
  now = await polar.orders.get(order.id);
  assert.equal(now.status, "refunded");
  assert.equal(now.refunded_amount, 3000);

  const listed = await polar.refunds.list({ order_id: order.id });
  assert.deepEqual(listed.items.map((r) => r.amount), [2000, 1000]);

  await assert.rejects(
    polar.refunds.create({ order_id: order.id, amount: 1, reason: "other" }),
    (error) => error.constructor.name === "RefundedAlready",
  );
});

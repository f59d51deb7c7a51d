// Subscriptions with the official TypeScript SDK: a checkout of a monthly product starts
// one, floe's test clock (its own route, outside the SDK) runs three renewals, then the
// merchant cancels at the period's end, uncancels, and revokes; a free subscription made by
// the API.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });

async function advance(to) {
  const answer = await fetch(`${floe.url}/v1/test-clock/advance`, {
    method: "POST",
    headers: { Authorization: `Bearer ${floe.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ to: to.toISOString() }),
  });
  assert.equal(answer.status, 200, await answer.clone().text());
}

test("a monthly subscription renews on the test clock and ends when revoked", async () => {
  const product = await polar.products.create({
    name: "Team plan",
    recurring_interval: "month",
    prices: [{ amount_type: "fixed", price_amount: 2900 }],
  });
  const checkout = await polar.checkouts.create({
    products: [product.id],
    customer_email: "ts-sub@example.com",
    customer_billing_address: { country: "DE" },
  });
  await buyer.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: "pm_card_visa" });
  const [subscription] = (await polar.subscriptions.list({ product_id: product.id })).items;
  assert.equal(subscription.status, "active");
  assert.equal(subscription.amount, 2900);

  const start = new Date(subscription.current_period_start);
  const later = new Date(start);
  later.setUTCMonth(later.getUTCMonth() + 3);
  later.setUTCHours(later.getUTCHours() + 1);
  await advance(later);
  const orders = (await polar.orders.list({ subscription_id: subscription.id })).items;
  assert.deepEqual(
    orders.map((o) => o.billing_reason).sort(),
    ["subscription_create", "subscription_cycle", "subscription_cycle", "subscription_cycle"],
  );
  assert.ok(orders.every((o) => o.status === "paid" && o.total_amount === 2900));

  const canceled = await polar.subscriptions.update(subscription.id, {
    cancel_at_period_end: true,
    customer_cancellation_reason: "missing_features",
  });
  assert.equal(canceled.cancel_at_period_end, true);
  assert.equal(canceled.customer_cancellation_reason, "missing_features");
  const uncanceled = await polar.subscriptions.update(subscription.id, { cancel_at_period_end: false });
  assert.equal(uncanceled.cancel_at_period_end, false);
  const revoked = await polar.subscriptions.revoke(subscription.id);
  assert.equal(revoked.status, "canceled");
  assert.ok(revoked.ended_at);
  assert.equal((await polar.subscriptions.get(subscription.id)).status, "canceled");
});

test("a free subscription made by the API", async () => {
  const customer = await polar.customers.create({ email: "ts-free@example.com" });
  const free = await polar.products.create({
    name: "Free tier",
    recurring_interval: "month",
    prices: [{ amount_type: "fixed", price_amount: 0 }],
  });
  const made = await polar.subscriptions.create({ product_id: free.id, customer_id: customer.id });
  assert.equal(made.status, "active");
  assert.equal(made.amount, 0);
  const active = await polar.customers.list({ active: true });
  assert.ok(active.items.some((c) => c.id === customer.id));
});

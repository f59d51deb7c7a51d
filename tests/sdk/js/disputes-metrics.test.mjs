// Disputes and metrics with the official TypeScript SDK on floe's test processor: a
// purchase with Stripe's disputed test card (0259) opens a dispute, which is listed, read
// and accepted (then DisputeNotOpenError); the day's metrics count the orders, and the
// export and limits read as the SDK expects.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

test("a disputed purchase, accepted, and the day's metrics", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });
  const product = await polar.products.create({
    name: "Disputed licence",
    prices: [{ amount_type: "fixed", price_amount: 2500 }],
  });
  for (const card of ["pm_card_visa", "pm_card_createDispute"]) {
    const checkout = await polar.checkouts.create({
      products: [product.id],
      customer_email: `${card}@example.com`,
      customer_billing_address: { country: "DE" },
    });
    await buyer.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: card });
  }

  const listed = await polar.disputes.list({ status: "needs_response" });
  assert.equal(listed.items.length, 1);
  const [dispute] = listed.items;
  assert.equal(dispute.amount, 2500);
  assert.equal(dispute.reason, "fraudulent");
  assert.equal(dispute.customer.email, "pm_card_createDispute@example.com");
  assert.equal((await polar.disputes.get(dispute.id)).order_id, dispute.order_id);
  const accepted = await polar.disputes.accept(dispute.id);
  assert.equal(accepted.status, "lost");
  assert.equal(accepted.closed, true);
  await assert.rejects(
    polar.disputes.accept(dispute.id),
    (error) => error.constructor.name === "DisputeNotOpenError",
  );

  // Yesterday to tomorrow (UTC): today's orders whatever the hour.
  const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const metrics = await polar.metrics.get({
    start_date: day(-1),
    end_date: day(1),
    interval: "day",
    metrics: ["orders", "revenue", "net_revenue"],
  });
  assert.equal(metrics.periods.length, 3);
  assert.equal(metrics.totals.orders, 2);
  assert.equal(metrics.totals.revenue, 5000);
  // The lost dispute is taken off net revenue.
  assert.equal(metrics.totals.net_revenue, 2500);
  assert.deepEqual(Object.keys(metrics.metrics).sort(), ["net_revenue", "orders", "revenue"]);

  const csv = await polar.metrics.export({ start_date: day(-1), end_date: day(1), interval: "day", metrics: ["orders"] });
  assert.equal(csv.split(/\r?\n/)[0], "Timestamp,Orders");
  const limits = await polar.metrics.limits();
  assert.equal(limits.intervals.day.max_days, 366);
});

// The catalog with the official TypeScript SDK: a recurring product priced in two
// currencies (a fixed price and a metered price with a fractional rate in each), read
// back, listed, and repriced.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

test("a product in two currencies, read back and repriced", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const meter = await polar.meters.create({
    name: "API calls",
    filter: { conjunction: "and", clauses: [] },
    aggregation: { func: "count" },
  });
  const created = await polar.products.create({
    name: "Pro plan",
    recurring_interval: "month",
    prices: [
      { amount_type: "fixed", price_amount: 2900, price_currency: "usd" },
      { amount_type: "fixed", price_amount: 2700, price_currency: "eur" },
      { amount_type: "metered_unit", meter_id: meter.id, unit_amount: "0.05", price_currency: "usd" },
      { amount_type: "metered_unit", meter_id: meter.id, unit_amount: "0.045", price_currency: "eur" },
    ],
  });
  const shape = (product) =>
    product.prices.map((p) => [p.price_currency, p.amount_type, p.price_amount ?? p.unit_amount]);
  assert.deepEqual(shape(created), [
    ["usd", "fixed", 2900],
    ["eur", "fixed", 2700],
    ["usd", "metered_unit", "0.05"],
    ["eur", "metered_unit", "0.045"],
  ]);
  assert.equal(created.is_recurring, true);

  const read = await polar.products.get(created.id);
  assert.deepEqual(shape(read), shape(created));
  assert.equal(read.prices[2].meter.name, "API calls");
  const listed = await polar.products.list({ is_recurring: true });
  assert.deepEqual(listed.items.map((p) => p.id), [created.id]);

  // Keep the dollar prices, reprice in euros: the old euro prices are archived.
  const [usd, , usdMetered] = created.prices;
  const repriced = await polar.products.update(created.id, {
    prices: [
      { id: usd.id },
      { id: usdMetered.id },
      { amount_type: "fixed", price_amount: 2500, price_currency: "eur" },
      { amount_type: "metered_unit", meter_id: meter.id, unit_amount: "0.04", price_currency: "eur" },
    ],
  });
  assert.deepEqual(shape(repriced), [
    ["usd", "fixed", 2900],
    ["usd", "metered_unit", "0.05"],
    ["eur", "fixed", 2500],
    ["eur", "metered_unit", "0.04"],
  ]);
  assert.equal(repriced.prices[0].id, usd.id);
});

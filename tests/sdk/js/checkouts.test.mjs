// The sale with the official TypeScript SDK: a checkout created by the merchant, filled in
// and confirmed by the buyer with Stripe's test Visa on floe's test processor, then the
// paid order and the payment; a decline answered with the SDK's PaymentError; and the card a
// recurring purchase keeps, listed as the customer's default payment method; a license key
// granted by the purchase, rotated (the SDK's operation beyond the contract file).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

test("a checkout from creation to a paid order", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });
  const product = await polar.products.create({
    name: "Pro licence",
    prices: [{ amount_type: "fixed", price_amount: 4900 }],
  });
  const checkout = await polar.checkouts.create({ products: [product.id] });
  assert.ok(checkout.client_secret.startsWith("polar_c_"));
  assert.equal(checkout.total_amount, 4900);

  const filled = await buyer.checkouts.clientUpdate(checkout.client_secret, {
    customer_email: "ts@example.com",
    customer_billing_address: { country: "DE" },
  });
  assert.equal(filled.customer_email, "ts@example.com");
  const confirmed = await buyer.checkouts.clientConfirm(checkout.client_secret, {
    confirmation_token_id: "pm_card_visa",
  });
  assert.equal(confirmed.status, "confirmed");
  assert.equal((await polar.checkouts.get(checkout.id)).status, "succeeded");

  const orders = await polar.orders.list({ checkout_id: checkout.id });
  assert.equal(orders.items.length, 1);
  assert.equal(orders.items[0].status, "paid");
  assert.equal(orders.items[0].total_amount, 4900);
  const payments = await polar.payments.list({ order_id: orders.items[0].id });
  assert.deepEqual(payments.items.map((p) => [p.status, p.amount]), [["succeeded", 4900]]);
});

test("a declined card is the SDK's PaymentError and the checkout stays open", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });
  const product = await polar.products.create({
    name: "Declined licence",
    prices: [{ amount_type: "fixed", price_amount: 1500 }],
  });
  const checkout = await polar.checkouts.create({
    products: [product.id],
    customer_email: "declined@example.com",
    customer_billing_address: { country: "DE" },
  });
  await assert.rejects(
    buyer.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: "pm_card_chargeDeclined" }),
    (error) => error.constructor.name === "PaymentError" && /declined/.test(JSON.stringify(error)),
  );
  assert.equal((await polar.checkouts.get(checkout.id)).status, "open");
});

test("a card kept by a recurring purchase is the customer's default payment method", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });
  const monthly = await polar.products.create({
    name: "Monthly licence",
    recurring_interval: "month",
    prices: [{ amount_type: "fixed", price_amount: 900 }],
  });
  const checkout = await polar.checkouts.create({
    products: [monthly.id],
    customer_email: "cards-ts@example.com",
    customer_billing_address: { country: "DE" },
  });
  const confirmed = await buyer.checkouts.clientConfirm(checkout.client_secret, {
    confirmation_token_id: "pm_card_mastercard",
  });
  const methods = await polar.customers.listPaymentMethods(confirmed.customer_id);
  assert.equal(methods.pagination.total_count, 1);
  const [card] = methods.items;
  assert.equal(card.type, "card");
  assert.equal(card.is_default, true);
  assert.deepEqual([card.method_metadata.brand, card.method_metadata.last4], ["mastercard", "4444"]);
  assert.equal((await polar.customers.get(confirmed.customer_id)).default_payment_method_id, card.id);
});

test("a license key bought with a product is rotated through the SDK", async () => {
  const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
  const buyer = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });
  const benefit = await polar.benefits.create({
    type: "license_keys",
    description: "App licence",
    properties: { prefix: "TS" },
  });
  const product = await polar.products.create({
    name: "Licensed app",
    prices: [{ amount_type: "fixed", price_amount: 2900 }],
  });
  await polar.products.updateBenefits(product.id, { benefits: [benefit.id] });
  const checkout = await polar.checkouts.create({
    products: [product.id],
    customer_email: "keys-ts@example.com",
    customer_billing_address: { country: "DE" },
  });
  await buyer.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: "pm_card_visa" });
  // Granting happens after the order commits: wait for the key.
  let keys = { items: [] };
  for (let i = 0; i < 300 && keys.items.length === 0; i++) {
    keys = await polar.licenseKeys.list({ benefit_id: benefit.id });
    if (keys.items.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(keys.items.length, 1);
  const [key] = keys.items;
  const rotated = await polar.licenseKeys.rotate(key.id);
  assert.equal(rotated.id, key.id);
  assert.notEqual(rotated.key, key.key);
  assert.ok(rotated.key.startsWith("TS-"));
  assert.equal(rotated.status, "granted");
});

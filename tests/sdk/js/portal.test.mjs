// The customer portal with the official TypeScript SDK: the merchant opens a customer
// session, and the customer, with only its token, reads itself and its orders, changes its
// billing details, and cancels and uncancels its subscription; an organization token is
// refused on the portal, and another customer's order is not found.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
const anyone = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });

async function subscribe(email) {
  const product = await polar.products.create({
    name: "Portal plan",
    recurring_interval: "month",
    prices: [{ amount_type: "fixed", price_amount: 1200 }],
  });
  const checkout = await polar.checkouts.create({
    products: [product.id],
    customer_email: email,
    customer_billing_address: { country: "NL" },
  });
  const confirmed = await anyone.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: "pm_card_visa" });
  const [subscription] = (await polar.subscriptions.list({ customer_id: confirmed.customer_id })).items;
  return subscription;
}

test("a customer manages its own subscription and orders with a session", async () => {
  const subscription = await subscribe("portal-ada@example.com");
  const other = await subscribe("portal-bob@example.com");
  const session = await polar.customerSessions.create({ customer_id: subscription.customer_id });
  assert.ok(session.token.startsWith("polar_cst_"));
  assert.ok(session.customer_portal_url.includes(session.token));
  const portal = createPolar({ accessToken: session.token, baseUrl: floe.url });

  const me = await portal.customerPortal.customers.get();
  assert.equal(me.email, "portal-ada@example.com");
  const user = await portal.customerPortal.customerSession.getAuthenticatedUser();
  assert.equal(user.type, "customer");
  const updated = await portal.customerPortal.customers.update({ billing_name: "Ada B.V." });
  assert.equal(updated.billing_name, "Ada B.V.");

  const orders = (await portal.customerPortal.orders.list({})).items;
  assert.equal(orders.length, 1);
  assert.equal(orders[0].subscription_id, subscription.id);
  assert.equal(orders[0].metadata, undefined);
  const [otherOrder] = (await polar.orders.list({ customer_id: other.customer_id })).items;
  await assert.rejects(portal.customerPortal.orders.get(otherOrder.id), (error) => error.statusCode === 404);

  const canceled = await portal.customerPortal.subscriptions.update(subscription.id, { cancel_at_period_end: true });
  assert.equal(canceled.cancel_at_period_end, true);
  const uncanceled = await portal.customerPortal.subscriptions.update(subscription.id, { cancel_at_period_end: false });
  assert.equal(uncanceled.cancel_at_period_end, false);
  assert.equal((await polar.subscriptions.get(subscription.id)).cancel_at_period_end, false);

  // The merchant's token does not open the portal.
  await assert.rejects(polar.customerPortal.customers.get(), (error) => error.statusCode === 401);
});

test("a customer reads its balance after a move to a cheaper plan", async () => {
  const subscription = await subscribe("portal-wallet@example.com");
  const cheap = await polar.products.create({
    name: "Cheap plan",
    recurring_interval: "month",
    prices: [{ amount_type: "fixed", price_amount: 100 }],
  });
  // `reset` starts a new period now: the unused part of 12.00 outweighs the 1.00 charged.
  await polar.subscriptions.update(subscription.id, { product_id: cheap.id, proration_behavior: "reset" });
  const session = await polar.customerSessions.create({ customer_id: subscription.customer_id });
  const portal = createPolar({ accessToken: session.token, baseUrl: floe.url });
  const [wallet] = (await portal.customerPortal.wallets.list({})).items;
  assert.equal(wallet.currency, "usd");
  assert.equal(wallet.customer_id, subscription.customer_id);
  assert.ok(wallet.balance > 1000 && wallet.balance <= 1100, `balance ${wallet.balance}`);
  assert.deepEqual(await portal.customerPortal.wallets.get(wallet.id), wallet);
  const stranger = await polar.customerSessions.create({ customer_id: (await subscribe("portal-nobody@example.com")).customer_id });
  const strangers = createPolar({ accessToken: stranger.token, baseUrl: floe.url });
  await assert.rejects(strangers.customerPortal.wallets.get(wallet.id), (error) => error.statusCode === 404);
});

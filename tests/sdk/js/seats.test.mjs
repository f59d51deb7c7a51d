// Customer seats with the official TypeScript SDK: a seat-based subscription's seat is
// assigned by email, the invitation (written as an .eml file: this floe has no SMTP server)
// carries the token, anyone with it reads the claim info and claims the seat once, and the
// merchant revokes it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [], env: { FLOE_SWEEP_INTERVAL: "1" } });
after(() => floe.stop());

const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });
const anyone = createPolar({ accessToken: "not-a-token", baseUrl: floe.url });

async function invitationFor(email) {
  const dir = join(floe.dir, "mail");
  for (let i = 0; i < 200; i++) {
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      const text = readFileSync(join(dir, name), "utf8");
      const token = text.match(/polar_cst_seat_\w+/);
      if (text.includes(email) && token) return token[0];
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no invitation for ${email}`);
}

test("a seat is assigned, claimed with its invitation, and revoked", async () => {
  const product = await polar.products.create({
    name: "Studio seats",
    recurring_interval: "month",
    prices: [{ amount_type: "seat_based", seat_tiers: { seat_tier_type: "volume", tiers: [{ min_seats: 1, max_seats: null, price_per_seat: 800 }] } }],
  });
  const checkout = await polar.checkouts.create({
    products: [product.id],
    seats: 2,
    customer_email: "studio-owner@example.com",
    customer_billing_address: { country: "DE" },
  });
  await anyone.checkouts.clientConfirm(checkout.client_secret, { confirmation_token_id: "pm_card_visa" });
  const [subscription] = (await polar.subscriptions.list({ product_id: product.id })).items;
  assert.equal(subscription.seats, 2);

  const seat = await polar.customerSeats.assignSeat({ subscription_id: subscription.id, email: "artist@example.com" });
  assert.equal(seat.status, "pending");
  const token = await invitationFor("artist@example.com");
  const info = await anyone.customerSeats.getClaimInfo(token);
  assert.equal(info.product_name, "Studio seats");
  assert.equal(info.can_claim, true);
  const claimed = await anyone.customerSeats.claimSeat({ invitation_token: token });
  assert.equal(claimed.seat.status, "claimed");
  assert.ok(claimed.customer_session_token.startsWith("polar_cst_"));

  // The buyer took the other seat at the checkout (floe's own confirmation page).
  const listed = await polar.customerSeats.listSeats({ subscription_id: subscription.id });
  assert.equal(listed.total_seats, 2);
  assert.equal(listed.available_seats, 0);
  assert.deepEqual(listed.seats.map((s) => s.customer_id).sort(), [claimed.seat.customer_id, subscription.customer_id].sort());
  const revoked = await polar.customerSeats.revokeSeat(seat.id);
  assert.equal(revoked.status, "revoked");
  assert.equal((await polar.customerSeats.listSeats({ subscription_id: subscription.id })).available_seats, 1);
});

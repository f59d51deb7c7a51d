// Members of a team customer with the official TypeScript SDK: created by customer ID and by
// external ID (the owner made from the customer's email), listed, updated (ownership
// moved), and removed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPolar } from "@polar-sh/sdk/2026-10";
import { startFloe } from "./floe.mjs";

const floe = await startFloe({ scopes: [] });
after(() => floe.stop());

const polar = createPolar({ accessToken: floe.token, baseUrl: floe.url });

test("a team's members are managed by the merchant", async () => {
  const team = await polar.customers.create({ type: "team", email: "js-team@example.com", external_id: "js-team" });
  const ada = await polar.customers.members.create(team.id, { email: "js-ada@example.com", name: "Ada", external_id: "ada" });
  assert.equal(ada.role, "member");
  const bob = await polar.customers.members.createExternal("js-team", { email: "js-bob@example.com", role: "billing_manager" });
  assert.equal(bob.customer_id, team.id);
  const listed = (await polar.customers.members.list(team.id, {})).items;
  assert.deepEqual(listed.map((m) => m.role).sort(), ["billing_manager", "member", "owner"]);
  const owner = listed.find((m) => m.role === "owner");
  assert.equal(owner.email, "js-team@example.com");

  const promoted = await polar.customers.members.updateExternal("js-team", "ada", { role: "owner" });
  assert.equal(promoted.role, "owner");
  assert.equal((await polar.customers.members.get(team.id, owner.id)).role, "billing_manager");
  await polar.customers.members.delete(team.id, bob.id);
  await assert.rejects(polar.customers.members.get(team.id, bob.id), (error) => error.statusCode === 404);
  assert.equal((await polar.customers.members.list(team.id, {})).items.length, 2);
});

test("a member session manages the team in the portal", async () => {
  const team = await polar.customers.create({ type: "team", email: "js-crew@example.com" });
  const manager = await polar.customers.members.create(team.id, { email: "js-mgr@example.com", role: "billing_manager" });
  const session = await polar.customerSessions.create({ customer_id: team.id, member_id: manager.id });
  assert.ok(session.token.startsWith("polar_mst_"));
  const portal = createPolar({ accessToken: session.token, baseUrl: floe.url }).customerPortal;
  const user = await portal.customerSession.getAuthenticatedUser();
  assert.deepEqual([user.type, user.member_id, user.role], ["member", manager.id, "billing_manager"]);

  const added = await portal.members.addMember({ email: "js-new@example.com", name: "New" });
  assert.equal(added.role, "member");
  const listed = (await portal.members.listMembers({})).items;
  assert.deepEqual(listed.map((m) => m.role).sort(), ["billing_manager", "member", "owner"]);
  assert.equal((await portal.members.updateMember(added.id, { role: "billing_manager" })).role, "billing_manager");
  await assert.rejects(portal.members.updateMember(manager.id, { role: "member" }), (error) => error.statusCode === 422);
  await portal.members.removeMember(added.id);
  assert.equal((await portal.members.listMembers({})).items.length, 2);

  // The customer's own session serves no member routes (401), as at Polar.
  const own = await polar.customerSessions.create({ customer_id: team.id });
  const customers = createPolar({ accessToken: own.token, baseUrl: floe.url }).customerPortal;
  await assert.rejects(customers.members.listMembers({}), (error) => error.statusCode === 401);
});

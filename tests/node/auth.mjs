// tests/node/auth.mjs: a token's grants through the client. node.bats
// runs it with the token of "alice" (read users, write users.alice). The
// client does not retry a 4xx: it throws "Unexpected response status"
// with the status and the service's error body.
//
// @deno/kv reads one key (get, getMany, a check's read) as the range
// from the key to the end of the keyspace, limit 1, and keeps the entry
// if it is the key. The service reads such a range within the widest
// grant that covers the key, so the get answers as it would with every
// grant, and shows nothing the token may not read.
import { assert, assertEquals, assertRejects, collect, openRemote } from "./lib.mjs";

const kv = await openRemote();
assert((await kv.set(["users", "alice", "mail"], "a@example.org")).ok, "write under her grant");
assertEquals((await kv.get(["users", "alice", "mail"])).value, "a@example.org", "a get of her own key");
assertEquals((await kv.get(["users", "alice", "nothing"])).value, null, "a get of an absent key");
assertEquals((await kv.getMany([["users", "bob"], ["users", "carol"]])).map((e) => e.value),
	["bob's", null], "getMany under her read grant");
assertEquals((await kv.get(["users", "zzz"])).value, null, "a get past her last key");
await assertRejects(() => kv.get(["secrets", "x"]), /\b403\b.*may not read/, "a get outside her grants");
await assertRejects(() => kv.set(["users", "bob"], "mine"), /\b403\b.*this token may not write users\.bob/,
	"write outside her grant");
await assertRejects(() => collect(kv.list({ prefix: [] })), /\b403\b.*may not read every key/,
	"list everything");
await assertRejects(() => collect(kv.list({ prefix: ["secrets"] })), /\b403\b.*may not read secrets/,
	"list outside her grants");
await assertRejects(() => collect(kv.list({ start: ["users", "a"], end: ["v"] })), /\b403\b/,
	"a range that leaves her prefix");
// A key alone, read as the range from it to its first child, the empty
// string (below which no keypath lies), is under her grant.
const oneKey = (key) => collect(kv.list({ start: key, end: [...key, ""] }, { limit: 1 }));
assertEquals((await oneKey(["users", "alice", "mail"])).map((e) => [e.key, e.value]),
	[[["users", "alice", "mail"], "a@example.org"]], "her key by the one-key range");
assertEquals(await oneKey(["users", "alice", "nothing"]), [], "an absent key by the one-key range");
assertEquals((await oneKey(["users", "bob"])).map((e) => e.value), ["bob's"], "bob's key by the one-key range");
await assertRejects(() => oneKey(["secrets", "x"]), /\b403\b.*may not read secrets\.x/,
	"a one-key range outside her grants");
// What she may read, she lists by prefix.
const listed = await collect(kv.list({ prefix: ["users"] }));
assertEquals(listed.map((e) => [e.key.join("."), e.value]),
	[["users.alice.mail", "a@example.org"], ["users.bob", "bob's"]], "list her prefix");
const one = await collect(kv.list({ prefix: ["users", "alice"] }));
assertEquals(one.map((e) => e.key.join(".")), ["users.alice.mail"], "list her own keys");
// A check reads: a check outside her read grants refuses the whole commit.
await assertRejects(() => kv.atomic().check({ key: ["secrets", "x"], versionstamp: null })
	.set(["users", "alice", "n"], 1).commit(), /\b403\b.*may not read secrets\.x/, "a check outside her grants");
// A check inside them holds.
const r = await kv.atomic().check({ key: ["users", "alice", "n"], versionstamp: null })
	.set(["users", "alice", "m"], 2).commit();
assert(r.ok, "a check inside her grants");
const mine = await collect(kv.list({ prefix: ["users", "alice"] }));
assertEquals(mine.map((e) => [e.key.join("."), e.value]),
	[["users.alice.m", 2], ["users.alice.mail", "a@example.org"]], "nothing written by the refused commit");
kv.close();
console.log("ok");

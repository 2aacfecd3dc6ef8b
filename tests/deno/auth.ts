// tests/deno/auth.ts: a token's grants through the client. deno.bats runs
// it with the token of "alice" (read users, write users.alice).
import { assert, assertEquals, assertRejects, openRemote } from "./lib.ts";

const kv = await openRemote();
assert((await kv.set(["users", "alice", "mail"], "a@example.org")).ok, "write under her grant");
assertEquals((await kv.get(["users", "alice", "mail"])).value, "a@example.org", "read it back");
assertEquals((await kv.get(["users", "bob"])).value, "bob's", "read under her read grant");
await assertRejects(() => kv.set(["users", "bob"], "mine"), /403/, "write outside her grant");
// "alice\0x" encodes as her segment alice, then 00 FF: not under users.alice.
await assertRejects(() => kv.set(["users", "alice\0x"], "mine"), /403/, "a string that starts as her segment");
await assertRejects(() => kv.set(["users", "alice", 1], "mine").then(() => kv.set(["users", 1], "mine")),
	/403/, "a key of other kinds beside her grant");
assertEquals((await kv.get(["users", "alice", 1])).value, "mine", "a key of other kinds under her grant");
assertEquals((await kv.get(["users", "bob"])).value, "bob's", "nothing written");
await assertRejects(() => kv.get(["secrets", "x"]), /403/, "read outside her grants");
await assertRejects(() => Array.fromAsync(kv.list({ prefix: [] })), /403/, "list everything");
await assertRejects(() => Array.fromAsync(kv.list({ start: ["users", "a"], end: ["v"] })), /403/,
	"a range that leaves her prefix");
const listed = await Array.fromAsync(kv.list({ prefix: ["users"] }));
assertEquals(listed.map((e) => e.key.join(".")), ["users.alice.mail", "users.alice.1", "users.bob"],
	"list her prefix");
// A check reads: a check outside her read grants refuses the whole commit.
await assertRejects(() => kv.atomic().check({ key: ["secrets", "x"], versionstamp: null })
	.set(["users", "alice", "n"], 1).commit(), /403/, "a check outside her grants");
assertEquals((await kv.get(["users", "alice", "n"])).value, null, "nothing written");
kv.close();
console.log("ok");

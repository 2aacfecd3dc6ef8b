// tests/node/atomic.mjs: atomic() with checks that hold and fail, sum,
// min and max on KvU64 as the package's own SQLite KV answers them, and
// expireIn.
import { KvU64 } from "@deno/kv";
import { assert, assertEquals, assertRejects, openOracle, openRemote } from "./lib.mjs";

const kv = await openRemote();

// Checks: absent, then the versionstamp just read.
await kv.delete(["acct", "a"]);
let r = await kv.atomic().check({ key: ["acct", "a"], versionstamp: null })
	.set(["acct", "a"], 100).set(["acct", "b"], 0).commit();
assert(r.ok, "a check for absence holds on an absent key");
const a = await kv.get(["acct", "a"]);
assertEquals(a.versionstamp, r.versionstamp, "both keys carry the commit's versionstamp");
assertEquals((await kv.get(["acct", "b"])).versionstamp, r.versionstamp, "one versionstamp per commit");

r = await kv.atomic().check({ key: ["acct", "a"], versionstamp: null }).set(["acct", "a"], 1).commit();
assertEquals(r, { ok: false }, "a check for absence fails on a present key");
r = await kv.atomic().check(a).set(["acct", "a"], 90).set(["acct", "b"], 10).commit();
assert(r.ok, "a check of the current versionstamp holds");
const stale = await kv.atomic().check(a).set(["acct", "a"], 0).delete(["acct", "b"]).commit();
assertEquals(stale, { ok: false }, "a stale versionstamp fails the check");
assertEquals([(await kv.get(["acct", "a"])).value, (await kv.get(["acct", "b"])).value], [90, 10],
	"a failed check writes nothing");
r = await kv.atomic().check({ key: ["acct", "a"], versionstamp: "ffff0000000000000001" }).set(["acct", "a"], 0).commit();
assertEquals(r, { ok: false }, "a versionstamp never given out fails");

// Two checks, one of which fails: nothing of the commit is written.
const b = await kv.get(["acct", "b"]);
r = await kv.atomic().check(b).check({ key: ["acct", "c"], versionstamp: b.versionstamp })
	.set(["acct", "b"], -1).commit();
assertEquals(r, { ok: false }, "one failing check of two");
assertEquals((await kv.get(["acct", "b"])).value, 10, "nothing written by it");

// A commit with checks only answers the current versionstamp.
r = await kv.atomic().check({ key: ["acct", "a"], versionstamp: (await kv.get(["acct", "a"])).versionstamp }).commit();
assert(r.ok, "a commit of checks alone");

// sum, min and max: the same steps on the package's own KV give the same
// values.
const oracle = await openOracle();
const u = (n) => new KvU64(n);
const steps = [
	["sum on absent", (op) => op.sum(["n", "s"], 5n)],
	["sum", (op) => op.sum(["n", "s"], 10n)],
	["sum wraps", (op) => op.sum(["n", "s"], 0xffffffffffffffffn)],
	["min on absent", (op) => op.min(["n", "m"], 7n)],
	["min lower", (op) => op.min(["n", "m"], 3n)],
	["min higher", (op) => op.min(["n", "m"], 30n)],
	["max on absent", (op) => op.max(["n", "x"], 7n)],
	["max higher", (op) => op.max(["n", "x"], 0xfffffffffffffff0n)],
	["max lower", (op) => op.max(["n", "x"], 1n)],
	["set then sum", (op) => op.set(["n", "t"], u(1n)).sum(["n", "t"], 2n)],
];
for (const db of [kv, oracle]) {
	for (const k of ["s", "m", "x", "t"]) await db.delete(["n", k]);
}
const nkeys = [["n", "s"], ["n", "m"], ["n", "x"], ["n", "t"]];
for (const [name, step] of steps) {
	const got = await step(kv.atomic()).commit();
	const want = await step(oracle.atomic()).commit();
	assertEquals(got.ok, want.ok, name);
	assertEquals((await kv.getMany(nkeys)).map((e) => e.value),
		(await oracle.getMany(nkeys)).map((e) => e.value), `values after ${name}`);
}
assertEquals((await kv.get(["n", "s"])).value, u(14n), "5 + 10 + (2^64 - 1) wraps to 14");
assertEquals((await kv.get(["n", "x"])).value, u(0xfffffffffffffff0n), "max keeps the highest");

// sum on a value that is not a KvU64 is refused, and changes nothing.
await kv.set(["n", "plain"], 5);
await assertRejects(() => kv.atomic().sum(["n", "plain"], 1n).set(["n", "other"], 1).commit(),
	/\b409\b.*type_mismatch/, "sum on a number");
assertEquals((await kv.get(["n", "plain"])).value, 5, "the number stays");
assertEquals((await kv.get(["n", "other"])).value, null, "the rest of the commit is not written");

// expireIn: there at once, gone once it passed.
await kv.set(["ttl", "short"], "soon gone", { expireIn: 1500 });
await kv.set(["ttl", "long"], "stays", { expireIn: 3_600_000 });
await kv.atomic().set(["ttl", "atomic"], "soon gone too", { expireIn: 1500 }).commit();
assertEquals((await kv.get(["ttl", "short"])).value, "soon gone", "a key with expireIn reads at once");
assertEquals((await kv.get(["ttl", "atomic"])).value, "soon gone too", "so does one set in atomic()");
await new Promise((resolve) => setTimeout(resolve, 2000));
assertEquals((await kv.get(["ttl", "short"])).value, null, "an expired key reads as absent");
assertEquals((await kv.get(["ttl", "atomic"])).value, null, "so does one set in atomic()");
assertEquals((await kv.get(["ttl", "long"])).value, "stays", "a key not yet expired stays");
r = await kv.atomic().check({ key: ["ttl", "short"], versionstamp: null }).set(["ttl", "short"], 1).commit();
assert(r.ok, "an expired key counts as absent for a check");

// Queues are not served. Unlike the Deno CLI, this client sends an
// enqueue; the service refuses the whole commit.
await assertRejects(() => kv.atomic().set(["q", "with"], 1).enqueue("message").commit(),
	/\b400\b.*unsupported/, "enqueue");
assertEquals((await kv.get(["q", "with"])).versionstamp, null, "nothing of a commit with an enqueue is written");

kv.close();
oracle.close();
console.log("ok");

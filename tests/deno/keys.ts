// tests/deno/keys.ts: keys whose parts are of every kind Deno has
// (strings that are keypath segments and strings that are not, bytes,
// bigints, numbers, booleans) are stored, read, listed in Deno's own
// order, checked and deleted exactly as Deno's own KV does: the
// in-memory KV of the CLI is the oracle. The store is shared with the
// REST face: deno.bats then checks what curl sees of these keys.
import { assert, assertEquals, keysOf, openOracle, openRemote } from "./lib.ts";

const remote = await openRemote();
const oracle = await openOracle();

const b = (...xs: number[]) => new Uint8Array(xs);
// Under ["k"]: parts of each kind, and the values that the store's
// escapes treat specially (00, 01, control characters, '.', '/').
const keys: Deno.KvKey[] = [
	["k", "a"], ["k", "a", "b"], ["k", "a", 1], ["k", "a", "b", 2n], ["k", "a.b"], ["k", "a/b"],
	["k", ""], ["k", "\0"], ["k", "\x01"], ["k", "a\0"], ["k", "a\x1f"], ["k", "a\x7f"], ["k", "ab"],
	["k", "é"], ["k", b()], ["k", b(0)], ["k", b(0, 0)], ["k", b(1)], ["k", b(1, 2)], ["k", b(2)],
	["k", b(255)], ["k", b(0x61)], ["k", 0n], ["k", 1n], ["k", -1n], ["k", 255n], ["k", 256n],
	["k", -256n], ["k", 2n ** 64n], ["k", -(2n ** 64n)], ["k", 2n ** 80n], ["k", 0], ["k", -0.5],
	["k", 1], ["k", 1.5], ["k", -1e300], ["k", 1e300], ["k", Infinity], ["k", -Infinity],
	["k", false], ["k", true], ["k", true, "x"], ["k", b(1), "seg"], ["k", 7, b(0)],
	[1], [b(9)], [true], [""], ["k"], ["kz"],
];

// The whole store is listed below: start from nothing.
for await (const e of remote.list({ prefix: [] })) await remote.delete(e.key);
for (const kv of [remote, oracle]) {
	const op = kv.atomic();
	keys.forEach((k, i) => op.set(k, i));
	assert((await op.commit()).ok, "seed");
}

// Every key reads back what was set under it.
for (const [i, k] of keys.entries()) {
	assertEquals((await remote.get(k)).value, i, `get ${Deno.inspect(k)}`);
}
const many = await remote.getMany(keys.slice(0, 10));
assertEquals(many.map((e) => e.value), keys.slice(0, 10).map((_, i) => i), "getMany");

const selectors: [string, Deno.KvListSelector, Deno.KvListOptions][] = [
	["whole store", { prefix: [] }, {}],
	["whole store reverse", { prefix: [] }, { reverse: true }],
	["prefix", { prefix: ["k"] }, {}],
	["prefix reverse", { prefix: ["k"] }, { reverse: true }],
	["prefix a", { prefix: ["k", "a"] }, {}],
	["prefix bytes", { prefix: ["k", b(1)] }, {}],
	["prefix number", { prefix: ["k", 7] }, {}],
	["prefix true", { prefix: ["k", true] }, { reverse: true }],
	["bigints", { start: ["k", -(2n ** 64n)], end: ["k", 2n ** 80n] }, {}],
	["numbers", { start: ["k", -Infinity], end: ["k", Infinity] }, { reverse: true }],
	["strings to bytes", { start: ["k", b(0)], end: ["k", "ab"] }, {}],
	["prefix start", { prefix: ["k"], start: ["k", 1n] }, {}],
	["prefix end", { prefix: ["k"], end: ["k", 1.5] }, { reverse: true }],
	["limit", { prefix: ["k"] }, { limit: 7 }],
	["small batches", { prefix: [] }, { batchSize: 3 }],
	["small batches reverse", { prefix: [] }, { batchSize: 4, reverse: true }],
];
for (const [name, selector, options] of selectors) {
	const got = await keysOf(remote.list(selector, options));
	const want = await keysOf(oracle.list(selector, options));
	assert(want.length > 0, `${name} lists something`);
	assertEquals(got, want, name);
}

// Cursors page through them as the oracle pages.
for (const reverse of [false, true]) {
	const pages: Deno.KvKey[][] = [[], []];
	for (const [i, kv] of [remote, oracle].entries()) {
		let cursor: string | undefined = undefined;
		for (;;) {
			const iter = kv.list({ prefix: ["k"] }, { limit: 5, reverse, cursor });
			pages[i].push(...await keysOf(iter), ["|"]);
			if (iter.cursor === "") break;
			cursor = iter.cursor;
		}
	}
	assertEquals(pages[0], pages[1], `pages reverse=${reverse}`);
}

// Checks and deletes on such keys.
const cur = await remote.get(["k", 1.5]);
assert(!(await remote.atomic().check({ key: ["k", 1.5], versionstamp: null }).set(["k", 1.5], "x").commit()).ok,
	"a check that the key is absent fails");
assert((await remote.atomic().check(cur).set(["k", 1.5], "checked").commit()).ok, "a check that holds");
assertEquals((await remote.get(["k", 1.5])).value, "checked", "the checked write");
for (const kv of [remote, oracle]) {
	await kv.delete(["k", b(0)]);
	await kv.delete(["k", -1n]);
	await kv.delete(["k", "a.b"]);
}
assertEquals(await keysOf(remote.list({ prefix: [] })), await keysOf(oracle.list({ prefix: [] })),
	"after deletes");

remote.close();
oracle.close();
console.log("ok");

// tests/node/list.mjs: list with prefix, start, end, reverse, limit,
// cursor and batchSize orders keys exactly as the package's own SQLite
// KV does with the same keys: that KV, in memory, is the oracle.
import { assert, assertEquals, keysOf, openOracle, openRemote } from "./lib.mjs";

const remote = await openRemote();
const oracle = await openOracle();

// Segments that sort differently by segment and by whole string: a < a.b
// < a.ba < ab; bytes above ASCII; a key and keys below it.
const keys = [
	["l", "a"], ["l", "a", "b"], ["l", "a", "ba"], ["l", "a", "b", "c"], ["l", "ab"],
	["l", "a b"], ["l", "a-b"], ["l", "b"], ["l", "B"], ["l", "é"], ["l", "z"], ["l", "€"],
	["l", "😮"], ["l", "~"], ["l", "0"], ["l", "10"], ["l", "9"], ["l2"], ["k"], ["lz"],
];
// The whole store is listed too: it starts empty.
for await (const e of remote.list({ prefix: [] })) await remote.delete(e.key);
for (const kv of [remote, oracle]) {
	const op = kv.atomic();
	keys.forEach((k, i) => op.set(k, i));
	assert((await op.commit()).ok, "seed");
}

const selectors = [
	["prefix", { prefix: ["l"] }, {}],
	["prefix deeper", { prefix: ["l", "a"] }, {}],
	["prefix reverse", { prefix: ["l"] }, { reverse: true }],
	["prefix limit", { prefix: ["l"] }, { limit: 5 }],
	["prefix reverse limit", { prefix: ["l"] }, { reverse: true, limit: 4 }],
	["prefix start", { prefix: ["l"], start: ["l", "a", "b"] }, {}],
	["prefix end", { prefix: ["l"], end: ["l", "b"] }, {}],
	["prefix end reverse", { prefix: ["l"], end: ["l", "b"] }, { reverse: true }],
	["start end", { start: ["l", "a"], end: ["l", "z"] }, {}],
	["start end reverse", { start: ["l", "a"], end: ["l", "z"] }, { reverse: true }],
	["start end limit", { start: ["l", "a"], end: ["l", "z"] }, { limit: 3 }],
	["whole store", { prefix: [] }, {}],
	["whole store reverse", { prefix: [] }, { reverse: true }],
	["start end beyond", { start: ["l", "zz"], end: ["m"] }, {}],
	["one-key range", { start: ["l", "b"], end: ["l", "b", ""] }, {}],
	["absent prefix", { prefix: ["nothing"] }, {}],
	["small batches", { prefix: ["l"] }, { batchSize: 2 }],
	["small batches reverse", { prefix: ["l"] }, { batchSize: 3, reverse: true }],
	["small batches limit", { prefix: ["l"] }, { batchSize: 2, limit: 7 }],
	["non-string prefix", { prefix: [1] }, {}],
];
for (const [name, selector, options] of selectors) {
	const got = await keysOf(remote.list(selector, options));
	const want = await keysOf(oracle.list(selector, options));
	assertEquals(got, want, name);
	assert(want.length > 0 || name.includes("absent") || name.includes("non-string") ||
		name.includes("beyond"), `${name} lists something`);
}

// Values and versionstamps come with the entries.
let entries = 0;
for await (const e of remote.list({ prefix: ["l", "a"] })) {
	const one = await remote.get(e.key);
	assertEquals([e.value, e.versionstamp], [one.value, one.versionstamp], `entry ${e.key}`);
	assertEquals(e.value, keys.findIndex((k) => k.join(".") === e.key.join(".")), `value of ${e.key}`);
	entries++;
}
assertEquals(entries, 3, "entries under l.a");

// Pages through cursors, forwards and backwards, as the oracle pages.
// This client's cursor names the last key its iterator yielded (it is
// never empty, and an iterator that yielded nothing has none): a page
// shorter than the limit is the last.
for (const reverse of [false, true]) {
	const pages = [[], []];
	for (const [i, kv] of [remote, oracle].entries()) {
		let cursor = undefined;
		for (let n = 0; n < 20; n++) {
			const iter = kv.list({ prefix: ["l"] }, { limit: 3, reverse, cursor });
			const page = await keysOf(iter);
			pages[i].push(...page, ["|"]);
			if (page.length < 3) break;
			cursor = iter.cursor;
			pages[i].push([cursor]);
		}
	}
	assertEquals(pages[0], pages[1], `pages reverse=${reverse}`);
	assert(pages[0].length > 17, `pages reverse=${reverse} hold every key`);
}

remote.close();
oracle.close();
console.log("ok");

// tests/node/lib.mjs: what the Node.js test programs share: the store
// they test (the URL in their first argument, the token in
// DENO_KV_ACCESS_TOKEN as @deno/kv reads it), the package's own SQLite
// KV in memory as the oracle, and checks that stop the program with a
// message and a non-zero status.
import { inspect } from "node:util";
import { openKv } from "@deno/kv";

export const url = process.argv[2];
if (!url) {
	console.error("usage: node PROGRAM.mjs http://host/kv/.connect [ARGS...]");
	process.exit(2);
}
// The arguments after the URL.
export const args = process.argv.slice(3);

// The store under test. A 5xx would be retried ten times, sleeping a
// second more each time: a test that meets one fails sooner with 2.
export function openRemote(opts = {}) {
	return openKv(url, { maxRetries: 2, ...opts });
}

// The package's own KV (denokv's SQLite backend, in memory): what the
// same calls must answer.
export function openOracle() {
	return openKv(":memory:", { implementation: "sqlite", inMemory: true });
}

export function show(v) {
	return inspect(v, { depth: Infinity, colors: false, compact: true, breakLength: Infinity });
}

export function fail(message) {
	throw new Error(message);
}

export function assert(cond, message) {
	if (!cond) fail(message);
}

// Deep equality as util.inspect shows values: types, keys and KvU64s.
export function assertEquals(actual, expected, what) {
	const a = show(actual), e = show(expected);
	if (a !== e) fail(`${what}: got ${a}, expected ${e}`);
}

// Runs f and checks that it throws an error whose text matches pattern.
export async function assertRejects(f, pattern, what) {
	try {
		await f();
	} catch (e) {
		const text = String(e);
		if (!pattern.test(text)) fail(`${what}: the error ${text} does not match ${pattern}`);
		return;
	}
	fail(`${what}: no error`);
}

// Every entry of an async iterator (Node.js 20 has no Array.fromAsync).
export async function collect(iter) {
	const all = [];
	for await (const e of iter) all.push(e);
	return all;
}

export async function keysOf(iter) {
	const keys = [];
	for await (const e of iter) keys.push(e.key);
	return keys;
}

// tests/deno/lib.ts: what the Deno test programs share: the store they
// test (the URL in their first argument, the token in
// DENO_KV_ACCESS_TOKEN), Deno's own local KV as the oracle, and checks
// that stop the program with a message and a non-zero status.

export const url = Deno.args[0];
if (!url) {
	console.error("usage: deno run ... PROGRAM.ts http://host/kv/.connect");
	Deno.exit(2);
}

export function openRemote(): Promise<Deno.Kv> {
	return Deno.openKv(url);
}

// Deno's own KV, in memory: what the same calls must answer.
export function openOracle(): Promise<Deno.Kv> {
	return Deno.openKv(":memory:");
}

function show(v: unknown): string {
	return Deno.inspect(v, { depth: 10, colors: false, compact: true, breakLength: Infinity });
}

export function fail(message: string): never {
	throw new Error(message);
}

export function assert(cond: unknown, message: string): asserts cond {
	if (!cond) fail(message);
}

// Deep equality as Deno.inspect shows values: types, keys and KvU64s.
export function assertEquals(actual: unknown, expected: unknown, what: string) {
	const a = show(actual), e = show(expected);
	if (a !== e) fail(`${what}: got ${a}, expected ${e}`);
}

// Runs f and checks that it throws an error whose text matches pattern.
export async function assertRejects(f: () => Promise<unknown>, pattern: RegExp, what: string) {
	try {
		await f();
	} catch (e) {
		const text = String(e);
		if (!pattern.test(text)) fail(`${what}: the error ${text} does not match ${pattern}`);
		return;
	}
	fail(`${what}: no error`);
}

export async function keysOf(iter: Deno.KvListIterator<unknown>): Promise<Deno.KvKey[]> {
	const keys: Deno.KvKey[] = [];
	for await (const e of iter) keys.push(e.key);
	return keys;
}

// tests/deno/values.ts: get, set, delete and getMany, with values of every
// JSON type, and values with no JSON form, which Deno reads back as it
// wrote them.
import { assert, assertEquals, assertRejects, openOracle, openRemote } from "./lib.ts";

const kv = await openRemote();

const values: Record<string, unknown> = {
	null: null,
	true: true,
	false: false,
	zero: 0,
	int: 42,
	negative: -7,
	smi_edge: 2 ** 31 - 1,
	beyond_int32: 2 ** 31,
	safe_max: Number.MAX_SAFE_INTEGER,
	fraction: 0.1,
	tiny: 5e-324,
	huge: 1.7976931348623157e308,
	empty_string: "",
	latin1: "héllo wörld ÿ",
	bmp: "€ 漢字",
	astral: "a😮b",
	escapes: "quote \" backslash \\ newline \n tab \t nul \u0000",
	empty_array: [],
	empty_object: {},
	array: [1, "two", 3.5, true, false, null, [[]], { a: [] }],
	object: { a: 1, b: { c: [1, 2, { d: "é€😮" }] }, "": "empty key", "€": true, "1": "index-like" },
	once_holey: Array(3).fill(7),
	deep: JSON.parse("[".repeat(100) + "]".repeat(100)),
};

for (const [name, value] of Object.entries(values)) {
	const r = await kv.set(["values", name], value);
	assert(r.ok, `set ${name}`);
	const got = await kv.get(["values", name]);
	assertEquals(got.value, value, `get ${name}`);
	assertEquals(got.versionstamp, r.versionstamp, `versionstamp of ${name}`);
}

// The same object twice is JSON too: written out twice.
const shared = { x: 1 };
await kv.set(["values", "shared"], [shared, shared]);
assertEquals((await kv.get(["values", "shared"])).value, [{ x: 1 }, { x: 1 }], "shared object");

// getMany answers in the order asked, null for the absent.
const many = await kv.getMany([["values", "int"], ["values", "nothing"], ["values", "bmp"]]);
assertEquals(many.map((e) => e.value), [42, null, "€ 漢字"], "getMany values");
assertEquals(many[1].versionstamp, null, "getMany absent versionstamp");

// delete, and a delete of an absent key.
await kv.delete(["values", "int"]);
assertEquals((await kv.get(["values", "int"])).value, null, "deleted");
await kv.delete(["values", "never"]);

// No JSON form: kept as Deno wrote it, and read back as Deno's own KV
// reads it (the oracle); a shared object stays shared, a cycle a cycle.
const oracle = await openOracle();
const cyclic: Record<string, unknown> = { name: "loop" };
cyclic.self = cyclic;
const date = new Date(Date.UTC(2026, 11, 4, 12, 0, 0, 5));
const others: Record<string, unknown> = {
	undefined: undefined,
	bigint: 12345678901234567890123n,
	negative_bigint: -1n,
	date,
	map: new Map<unknown, unknown>([[1, "one"], ["k", { v: [1n] }]]),
	set: new Set([1, "two", date]),
	bytes: new Uint8Array([0, 1, 2, 255]),
	empty_bytes: new Uint8Array(0),
	nested_bytes: { b: new Uint8Array([1]), f: new Float64Array([0.5]) },
	nan: NaN,
	infinity: -Infinity,
	holes: [, 1, , 3],
	regexp: /x+y/gi,
	cycle: cyclic,
	error: new TypeError("bad"),
	boxed: [Object(1n), new Number(2), new String("s"), new Boolean(false)],
	in_json: { when: date, n: 1 },
};
for (const [name, value] of Object.entries(others)) {
	const r = await kv.set(["other", name], value);
	assert(r.ok, `set ${name}`);
	await oracle.set(["other", name], value);
	const got = await kv.get(["other", name]);
	assertEquals(got.value, (await oracle.get(["other", name])).value, `get ${name}`);
	assertEquals(got.versionstamp, r.versionstamp, `versionstamp of ${name}`);
}
oracle.close();
const listed = await Array.fromAsync(kv.list({ prefix: ["other"] }));
assertEquals(listed.length, Object.keys(others).length, "listed");

// Keys that Deno cannot encode, or that are too long for the store
// once its escapes double their bytes, are refused.
const long = new Uint8Array(1500).fill(1);
await assertRejects(() => kv.set(["big", long], 1), /invalid_key/, "a key whose stored form is too long");
assertEquals((await kv.get(["big", long])).value, null, "nothing written");

kv.close();
console.log("ok");

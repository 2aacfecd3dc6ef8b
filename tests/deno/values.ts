// tests/deno/values.ts: get, set, delete and getMany, with values of every
// JSON type, and values with no JSON form refused without a write.
import { assert, assertEquals, assertRejects, openRemote } from "./lib.ts";

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

// No JSON form: refused, and nothing is written.
const refused: Record<string, unknown> = {
	undefined: undefined,
	bigint: 1n,
	date: new Date(0),
	map: new Map([[1, 2]]),
	set: new Set([1]),
	bytes: new Uint8Array([1, 2, 3]),
	nested_bytes: { b: new Uint8Array([1]) },
	nan: NaN,
	infinity: -Infinity,
	holes: [, 1],
	regexp: /x/,
};
for (const [name, value] of Object.entries(refused)) {
	await assertRejects(() => kv.set(["refused", name], value), /invalid_value/, `set ${name}`);
	assertEquals((await kv.get(["refused", name])).versionstamp, null, `nothing written for ${name}`);
}

// Keys that Deno cannot encode, or that are too long for the store
// once its escapes double their bytes, are refused.
const long = new Uint8Array(1500).fill(1);
await assertRejects(() => kv.set(["big", long], 1), /invalid_key/, "a key whose stored form is too long");
assertEquals((await kv.get(["big", long])).value, null, "nothing written");

kv.close();
console.log("ok");

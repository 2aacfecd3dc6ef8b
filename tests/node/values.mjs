// tests/node/values.mjs: get, set, delete and getMany through @deno/kv,
// with values of every JSON type and values with no JSON form, and keys
// of every part kind.
import { assert, assertEquals, openOracle, openRemote, show } from "./lib.mjs";

const kv = await openRemote();

const values = {
	null: null,
	true: true,
	false: false,
	zero: 0,
	int: 42,
	negative: -7,
	smi_edge: 2 ** 31 - 1,
	beyond_int32: 2 ** 31,
	below_int32: -(2 ** 31) - 1,
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
	assert(/^[0-9a-f]{20}$/.test(r.versionstamp), `versionstamp of ${name}: ${r.versionstamp}`);
	const got = await kv.get(["values", name]);
	assertEquals(got.key, ["values", name], `key of ${name}`);
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
assertEquals(many.map((e) => e.key), [["values", "int"], ["values", "nothing"], ["values", "bmp"]],
	"getMany keys");
assertEquals(many[1].versionstamp, null, "getMany absent versionstamp");

// delete, and a delete of an absent key.
await kv.delete(["values", "int"]);
assertEquals(await kv.get(["values", "int"]), { key: ["values", "int"], value: null, versionstamp: null },
	"deleted");
await kv.delete(["values", "never"]);

// No JSON form: kept as the client wrote it (Node's own v8.serialize,
// which writes a Buffer and a typed array inside a value as a host object
// of Node's), and read back as the package's own KV reads it.
const oracle = await openOracle();
const date = new Date(Date.UTC(2026, 11, 4));
const others = {
	undefined: undefined,
	bigint: 12345678901234567890123n,
	date,
	map: new Map([[1, 2], ["k", { v: [1n] }]]),
	set: new Set([1, date]),
	uint8array: new Uint8Array([0, 1, 2, 255]),
	nested_bytes: { b: new Uint8Array([1]) },
	nan: NaN,
	infinity: -Infinity,
	holes: [, 1],
	regexp: /x/g,
	boxed: new String("s"),
	buffer: Buffer.from("abc"),
	nested_buffer: { b: Buffer.from([0, 1]), f: new Float64Array([0.5]) },
};
// The package's local KV gives a top-level Uint8Array back as a Buffer,
// its remote one (this service) as a Uint8Array: the same bytes.
const bytesOf = (v) => (Buffer.isBuffer(v) ? new Uint8Array(v) : v);
for (const [name, value] of Object.entries(others)) {
	assert((await kv.set(["other", name], value)).ok, `set ${name}`);
	await oracle.set(["other", name], value);
	assertEquals((await kv.get(["other", name])).value, bytesOf((await oracle.get(["other", name])).value),
		`get ${name}`);
}
oracle.close();

// Keys with parts of every kind are stored and read back.
for (const key of [[1], ["a", 1n], [true], [new Uint8Array([1])], ["a.b"], [""], ["a/b"]]) {
	assert((await kv.set(key, show(key))).ok, `set ${show(key)}`);
	assertEquals((await kv.get(key)).value, show(key), `get ${show(key)}`);
}

kv.close();
console.log("ok");

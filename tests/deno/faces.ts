// tests/deno/faces.ts: the two faces of one store. Reads what curl wrote
// over REST (tests/deno/deno.bats puts these values first), then writes
// what curl reads back after it.
import { assertEquals, openRemote } from "./lib.ts";

const kv = await openRemote();

// As deno.bats PUT them.
const fromRest: [string[], unknown][] = [
	[["rest", "object"], { name: "Ann", tags: ["a", "é"], n: 1.25, ok: true, none: null }],
	[["rest", "string"], "€ and 😮"],
	[["rest", "int"], 12],
	[["rest", "big"], 12345678901234567890],
	[["rest", "nested", "deeper"], [[1], { a: {} }]],
];
for (const [key, want] of fromRest) {
	assertEquals((await kv.get(key)).value, want, `REST's ${key.join(".")} read by Deno`);
}
const listed = [];
for await (const e of kv.list({ prefix: ["rest"] })) listed.push(e.key.join("."));
assertEquals(listed, ["rest.big", "rest.int", "rest.nested.deeper", "rest.object", "rest.string"],
	"REST's keys listed by Deno");

// For deno.bats to read over REST.
await kv.set(["deno", "object"], { from: "deno", list: [1, 2.5, "x"], nested: { t: true } });
await kv.set(["deno", "counter"], new Deno.KvU64(41n));
await kv.atomic().sum(["deno", "counter"], 1n).commit();
await kv.set(["deno", "gone"], 1);
await kv.delete(["deno", "gone"]);
const r = await kv.set(["deno", "stamp"], "v");
console.log(r.versionstamp);
kv.close();

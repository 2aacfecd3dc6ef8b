// tests/node/faces.mjs: the two faces of one store. Reads what curl wrote
// over REST (tests/node/node.bats puts these values first), then writes
// what curl reads back after it.
import { KvU64 } from "@deno/kv";
import { assertEquals, openRemote } from "./lib.mjs";

const kv = await openRemote();

// As node.bats PUT them.
const fromRest = [
	[["rest", "object"], { name: "Ann", tags: ["a", "é"], n: 1.25, ok: true, none: null }],
	[["rest", "string"], "€ and 😮"],
	[["rest", "int"], 12],
	[["rest", "big"], 12345678901234567890],
	[["rest", "nested", "deeper"], [[1], { a: {} }]],
];
for (const [key, want] of fromRest) {
	assertEquals((await kv.get(key)).value, want, `REST's ${key.join(".")} read by Node`);
}
const listed = [];
for await (const e of kv.list({ prefix: ["rest"] })) listed.push(e.key.join("."));
assertEquals(listed, ["rest.big", "rest.int", "rest.nested.deeper", "rest.object", "rest.string"],
	"REST's keys listed by Node");
// The versionstamp of a REST write is its ETag, which node.bats passes.
assertEquals((await kv.get(["rest", "int"])).versionstamp, process.argv[3], "REST's ETag as versionstamp");

// For node.bats to read over REST.
await kv.set(["node", "object"], { from: "node", list: [1, 2.5, "x"], nested: { t: true } });
await kv.set(["node", "counter"], new KvU64(41n));
await kv.atomic().sum(["node", "counter"], 1n).commit();
await kv.set(["node", "gone"], 1);
await kv.delete(["node", "gone"]);
const r = await kv.set(["node", "stamp"], "v");
console.log(r.versionstamp);
kv.close();

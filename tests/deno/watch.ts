// tests/deno/watch.ts: kv.watch() sees Deno's writes and a REST PUT (the
// second argument is the REST URL of the key watch.b, which deno.bats
// gives a token for in the third).
import { assertEquals, openRemote } from "./lib.ts";

const kv = await openRemote();
const [, restUrl, token] = Deno.args;
await kv.set(["watch", "a"], 1);
await kv.delete(["watch", "b"]);
const reader = kv.watch([["watch", "a"], ["watch", "b"], ["not", "a", "keypath", 1]]).getReader();
const values = async () => (await reader.read()).value!.map((e) => e.value);

// The first frame: every key as it is.
assertEquals(await values(), [1, null, null], "first frame");

// A write from Deno.
await kv.set(["watch", "a"], new Deno.KvU64(3n));
assertEquals(await values(), [new Deno.KvU64(3n), null, null], "after Deno's set");

// A write over REST, by curl.
const put = await new Deno.Command("curl", {
	args: ["-sS", "-X", "PUT", "-H", `Authorization: Bearer ${token}`, "-d", '{"value":{"from":"rest"}}', restUrl],
}).output();
assertEquals(put.code, 0, "curl PUT");
assertEquals(await values(), [new Deno.KvU64(3n), { from: "rest" }, null], "after REST's PUT");

// A delete.
await kv.delete(["watch", "a"]);
assertEquals(await values(), [null, { from: "rest" }, null], "after the delete");

await reader.cancel();
kv.close();
console.log("ok");

// tests/node/watch.mjs: kv.watch() sees Node's writes and a REST PUT (the
// second argument is the REST URL of the key watch.b, which node.bats
// gives a token for in the third). The PUT is Node's own fetch, as any
// other HTTP client's would be.
import { KvU64 } from "@deno/kv";
import { args, assertEquals, openRemote } from "./lib.mjs";

const kv = await openRemote();
const [restUrl, token] = args;
await kv.set(["watch", "a"], 1);
await kv.delete(["watch", "b"]);
const reader = kv.watch([["watch", "a"], ["watch", "b"], ["not", "a", "keypath", 1]]).getReader();
const values = async () => (await reader.read()).value.map((e) => e.value);

// The first frame: every key as it is.
assertEquals(await values(), [1, null, null], "first frame");

// A write from Node.
await kv.set(["watch", "a"], new KvU64(3n));
assertEquals(await values(), [new KvU64(3n), null, null], "after Node's set");

// A write over REST.
const put = await fetch(restUrl, {
	method: "PUT",
	headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
	body: '{"value":{"from":"rest"}}',
});
assertEquals(put.status, 200, "REST PUT");
assertEquals(await values(), [new KvU64(3n), { from: "rest" }, null], "after REST's PUT");

// A delete.
await kv.delete(["watch", "a"]);
assertEquals(await values(), [null, { from: "rest" }, null], "after the delete");

await reader.cancel();
kv.close();
console.log("ok");

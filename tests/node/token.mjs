// tests/node/token.mjs: where @deno/kv takes the token from. node.bats
// runs it with no DENO_KV_ACCESS_TOKEN and passes the token of "ops" and
// that of "lb" (valid, but with no grant). The client reads the option
// accessToken first, and DENO_KV_ACCESS_TOKEN only when the option is
// missing or empty; the service answers an unknown token 401 and a token
// with no grant 403 at the metadata exchange, so openKv fails.
import { assertEquals, assertRejects, openRemote } from "./lib.mjs";

const [ops, lb] = process.argv.slice(3);
delete process.env.DENO_KV_ACCESS_TOKEN;

await assertRejects(() => openRemote(), /DENO_KV_ACCESS_TOKEN/, "no token at all");

// The option alone.
let kv = await openRemote({ accessToken: ops });
await kv.set(["token", "option"], 1);
kv.close();

// The environment alone, and with an empty option.
process.env.DENO_KV_ACCESS_TOKEN = ops;
kv = await openRemote();
assertEquals((await kv.get(["token", "option"])).value, 1, "read with the token of the environment");
kv.close();
kv = await openRemote({ accessToken: "" });
await kv.set(["token", "env"], 2);
kv.close();

// The option wins over the environment.
await assertRejects(() => openRemote({ accessToken: "not-a-token" }), /\b401\b.*unauthorized/,
	"an unknown token in the option");
process.env.DENO_KV_ACCESS_TOKEN = "not-a-token";
kv = await openRemote({ accessToken: ops });
assertEquals((await kv.get(["token", "env"])).value, 2, "the option over an unknown token in the environment");
kv.close();
await assertRejects(() => openRemote(), /\b401\b.*unauthorized/, "an unknown token in the environment");
await assertRejects(() => openRemote({ accessToken: lb }), /\b403\b.*forbidden/, "a token with no grant");
process.env.DENO_KV_ACCESS_TOKEN = lb;
await assertRejects(() => openRemote(), /\b403\b.*forbidden/, "a token with no grant in the environment");
console.log("ok");

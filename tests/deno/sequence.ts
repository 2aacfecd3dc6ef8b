// tests/deno/sequence.ts: one client's long run of requests, ROUNDS (the
// second argument) of a set and a get that must read it back, enough to
// outlast the requests a web server answers on one connection.
import { assertEquals, openRemote } from "./lib.ts";

const rounds = Number(Deno.args[1] ?? 600);
const kv = await openRemote();
for (let i = 0; i < rounds; i++) {
	await kv.set(["seq", "n"], i);
	assertEquals((await kv.get(["seq", "n"])).value, i, `round ${i}`);
}
kv.close();
console.log("ok");

// tests/node/rate.mjs: the rate limit holds for @deno/kv's requests as
// for any other: reads succeed until the budget is spent, then the
// client throws the 429, which it does not retry (rate.bats gives this
// address a small budget).
import { assert, openRemote } from "./lib.mjs";

const kv = await openRemote();
let served = 0;
let refusal = "";
for (let i = 0; i < 30 && refusal === ""; i++) {
	try {
		await kv.get(["k"]);
		served++;
	} catch (e) {
		refusal = String(e);
	}
}
assert(served > 0, "no read was served");
assert(/status: 429\b/.test(refusal) && /rate_limited/.test(refusal), `refusal: ${refusal}`);
kv.close();
console.log(`ok ${served} served`);

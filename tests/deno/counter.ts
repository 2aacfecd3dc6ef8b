// tests/deno/counter.ts: one of several clients run at once by deno.bats:
// ITERATIONS sums of 1 on a KvU64, and as many increments of a plain
// number by check-and-set, retried until their check holds.
import { assert, openRemote } from "./lib.ts";

const iterations = Number(Deno.args[1] ?? 50);
const kv = await openRemote();
let retries = 0;
for (let i = 0; i < iterations; i++) {
	assert((await kv.atomic().sum(["race", "sum"], 1n).commit()).ok, "sum");
	for (;;) {
		const cur = await kv.get<number>(["race", "cas"]);
		const r = await kv.atomic().check(cur).set(["race", "cas"], (cur.value ?? 0) + 1).commit();
		if (r.ok) break;
		retries++;
	}
}
kv.close();
console.log(`ok ${retries} retries`);

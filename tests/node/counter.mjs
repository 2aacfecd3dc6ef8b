// tests/node/counter.mjs: one of several clients run at once by
// node.bats: ITERATIONS sums of 1 on a KvU64, and as many increments of
// a plain number by check-and-set, retried until their check holds.
import { assert, args, openRemote } from "./lib.mjs";

const iterations = Number(args[0] ?? 50);
const kv = await openRemote();
let retries = 0;
for (let i = 0; i < iterations; i++) {
	assert((await kv.atomic().sum(["race", "sum"], 1n).commit()).ok, "sum");
	for (let tries = 0; ; tries++) {
		assert(tries < 1000, "a check-and-set that never holds");
		const cur = await kv.get(["race", "cas"]);
		const r = await kv.atomic().check(cur).set(["race", "cas"], (cur.value ?? 0) + 1).commit();
		if (r.ok) break;
		retries++;
	}
}
kv.close();
console.log(`ok ${retries} retries`);

// bench/deno_ops.ts: one process of bench/run's Deno scenarios: Deno's own
// KV client doing sets and gets for a fixed time.
//
//   deno run --unstable-kv ... bench/deno_ops.ts run TARGET KEYS BYTES FIRST LOOPS CLIENTS START_MS SECONDS
//   deno run --unstable-kv ... bench/deno_ops.ts seed TARGET KEYS BYTES
//   deno run --unstable-kv ... bench/deno_ops.ts latency URL FILE KEYS BYTES N
//
// TARGET is a KV Connect URL (http://host:port/kv/.connect, with the token
// in DENO_KV_ACCESS_TOKEN) or the path of a local Deno KV (SQLite) file.
// Keys are ["bench", "kNNNNN"] for NNNNN below KEYS: over KV Connect, the
// keypaths bench.kNNNNN that bench/seed writes and wrk reads. Values are
// objects {id, n, pad} whose JSON text is BYTES long.
//
// `seed` writes every key once (for a local file; bench/seed fills kv's
// store). `run` opens the store, does one set and get before START_MS
// (milliseconds since the epoch, the same for every client of a run, so
// that the connection and the metadata exchange are not timed), then from
// START_MS for SECONDS runs LOOPS loops at once on its one Deno.Kv, the
// clients FIRST to FIRST + LOOPS - 1 of CLIENTS, each of which repeats:
// pick one of its keys at random (those whose number is the client's
// modulo CLIENTS, so that no other client writes them), set it to a new
// value, get it back; its next set waits for that get. A set counts as an op
// when it answers ok with a versionstamp; a get counts when it answers the
// value just set, with the versionstamp the set answered. Anything else is
// a failure, counted and not an op. It prints one line:
//
//   RESULT ops=N sets=N gets=N failed=N seconds=S rate=OPS_PER_S late_ms=N
//          set_p50_us=N set_p99_us=N get_p50_us=N get_p99_us=N first_failure=TEXT
//
// (late_ms: how late after START_MS the client was ready; seconds: from
// START_MS, or from when it was ready if later, to its last op's answer)
// and exits 1 when any op failed.
//
// `latency` times single requests, one at a time, on one kept connection
// of cleartext HTTP/2 to the service of the KV Connect URL, and single
// calls of Deno's client over it and on the local FILE: N times, each
// time on a key drawn at random, one after the other (after 20 untimed
// times): a REST PUT, a REST GET of the same key, a KV Connect
// snapshot_read of it sent by hand (protobuf, as Deno's get sends it), a
// kv.set and a kv.get of it over KV Connect, a kv.set and a kv.get on
// FILE. Each answer is checked: the GET answers the PUT's value, the
// snapshot_read holds it, the kv.get answers the kv.set's. It prints the
// median of each in microseconds:
//
//   LATENCY rest_put=N rest_get=N connect_read=N kv_set=N kv_get=N sqlite_set=N sqlite_get=N

function usage(): never {
	console.error("usage: deno_ops.ts run TARGET KEYS BYTES FIRST LOOPS CLIENTS START_MS SECONDS");
	console.error("       deno_ops.ts seed TARGET KEYS BYTES");
	console.error("       deno_ops.ts latency URL FILE KEYS BYTES N");
	Deno.exit(2);
}

function count(text: string | undefined, min: number): number {
	const n = Number(text);
	if (!Number.isInteger(n) || n < min) usage();
	return n;
}

const [mode, target] = Deno.args;
if (!["run", "seed", "latency"].includes(mode) || !target) usage();
const keys = count(Deno.args[mode === "latency" ? 3 : 2], 1);
const bytes = count(Deno.args[mode === "latency" ? 4 : 3], 64);

function keyOf(i: number): Deno.KvKey {
	return ["bench", "k" + String(i).padStart(5, "0")];
}

interface Value {
	id: string;
	n: number;
	pad: string;
}

// The value of key i at sequence n: its JSON text (as JSON.stringify
// writes it, and as kv stores it) is exactly `bytes` long.
function valueOf(i: number, n: number): Value {
	const v = { id: "k" + String(i).padStart(5, "0"), n, pad: "" };
	v.pad = "x".repeat(Math.max(0, bytes - JSON.stringify(v).length));
	return v;
}

if (mode === "latency") await latency();

const kv = await Deno.openKv(target);

if (mode === "seed") {
	// Commits of 100 keys: within Deno's limits on a commit's size.
	for (let i = 0; i < keys; i += 100) {
		const op = kv.atomic();
		for (let j = i; j < Math.min(i + 100, keys); j++) op.set(keyOf(j), valueOf(j, 0));
		const r = await op.commit();
		if (!r.ok) throw new Error(`seed: the commit at key ${i} failed`);
	}
	kv.close();
	console.log(`seeded ${keys} keys`);
	Deno.exit(0);
}

const first = count(Deno.args[4], 0);
const loops = count(Deno.args[5], 1);
const clients = count(Deno.args[6], 1);
const startMs = count(Deno.args[7], 0);
const seconds = count(Deno.args[8], 1);
if (first + loops > clients || clients > keys) usage();

let sets = 0, gets = 0, failed = 0, seq = 0;
let firstFailure = "";
const setUs: number[] = [], getUs: number[] = [];

function failure(what: string) {
	failed++;
	if (!firstFailure) firstFailure = what;
}

// One set and the get of the same key, a key of `client`'s; records their
// latencies when the run is being timed.
async function pair(client: number, timed: boolean) {
	// The client's keys: client, client + clients, ...
	const mine = Math.floor((keys - 1 - client) / clients) + 1;
	const i = client + clients * Math.floor(Math.random() * mine);
	const key = keyOf(i);
	const value = valueOf(i, ++seq);
	let t0 = performance.now();
	const w = await kv.set(key, value);
	let t1 = performance.now();
	if (!w.ok || typeof w.versionstamp !== "string" || w.versionstamp.length !== 20) {
		failure(`set ${key.join(".")}: ${JSON.stringify(w)}`);
		return;
	}
	if (timed) {
		sets++;
		setUs.push((t1 - t0) * 1000);
	}
	t0 = performance.now();
	const r = await kv.get<Value>(key);
	t1 = performance.now();
	const got = r.value;
	if (
		r.versionstamp !== w.versionstamp || got === null || got.id !== value.id ||
		got.n !== value.n || got.pad !== value.pad || Object.keys(got).length !== 3
	) {
		failure(`get ${key.join(".")}: versionstamp ${r.versionstamp} (set ${w.versionstamp}), n ${got?.n} (set ${value.n})`);
		return;
	}
	if (timed) {
		gets++;
		getUs.push((t1 - t0) * 1000);
	}
}

// Untimed: opens the connection (and, over KV Connect, the metadata
// exchange) before the clock starts.
await pair(first, false);
if (failed) {
	console.error(`deno_ops: the first set and get failed: ${firstFailure}`);
	Deno.exit(1);
}
const lateMs = Math.max(0, Date.now() - startMs);
if (lateMs === 0) await new Promise((r) => setTimeout(r, startMs - Date.now()));
const begin = performance.now();
const end = begin + seconds * 1000;
let last = begin;
async function loop(client: number) {
	while (performance.now() < end) {
		try {
			await pair(client, true);
		} catch (e) {
			failure(String(e));
		}
		last = Math.max(last, performance.now());
	}
}
await Promise.all(Array.from({ length: loops }, (_, j) => loop(first + j)));
kv.close();

function pct(v: number[], p: number): number {
	if (v.length === 0) return 0;
	const s = Float64Array.from(v).sort();
	return Math.round(s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]);
}

const elapsed = (last - begin) / 1000;
const ops = sets + gets;
console.log(
	`RESULT ops=${ops} sets=${sets} gets=${gets} failed=${failed} seconds=${elapsed.toFixed(3)}` +
		` rate=${(ops / elapsed).toFixed(1)} late_ms=${lateMs}` +
		` set_p50_us=${pct(setUs, 50)} set_p99_us=${pct(setUs, 99)}` +
		` get_p50_us=${pct(getUs, 50)} get_p99_us=${pct(getUs, 99)}` +
		` first_failure=${firstFailure.replace(/\s+/g, "_")}`,
);
Deno.exit(failed ? 1 : 0);

// The protobuf SnapshotRead of one key as Deno's get sends it: one range
// [key, key 0x00) with limit 1 (ranges = 1 { start = 1, end = 2,
// limit = 3 }), the key in KV Connect's encoding (each string part is
// 0x02, its bytes, 0x00). Every length here is below 128: one byte.
function snapshotRead(key: Deno.KvKey): Uint8Array<ArrayBuffer> {
	const k: number[] = [];
	for (const part of key) k.push(0x02, ...new TextEncoder().encode(String(part)), 0x00);
	const range = [0x0a, k.length, ...k, 0x12, k.length + 1, ...k, 0x00, 0x18, 0x01];
	return new Uint8Array([0x0a, range.length, ...range]);
}

async function latency(): Promise<never> {
	const file = Deno.args[2];
	const n = count(Deno.args[5], 1);
	const mount = target.replace(/\/\.connect$/, "");
	const client = Deno.createHttpClient({ http1: false, http2: true });
	const auth = { authorization: `Bearer ${Deno.env.get("DENO_KV_ACCESS_TOKEN") ?? ""}` };
	const remote = await Deno.openKv(target);
	const local = await Deno.openKv(file);
	const kinds = ["rest_put", "rest_get", "connect_read", "kv_set", "kv_get", "sqlite_set", "sqlite_get"];
	const times: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
	let seq = 0;
	async function timed<T>(kind: string, on: boolean, f: () => Promise<T>): Promise<T> {
		const t0 = performance.now();
		const r = await f();
		if (on) times[kind].push((performance.now() - t0) * 1000);
		return r;
	}
	function check(cond: boolean, what: string) {
		if (!cond) {
			console.error(`deno_ops latency: ${what}`);
			Deno.exit(1);
		}
	}
	for (let round = -20; round < n; round++) {
		const on = round >= 0;
		const i = Math.floor(Math.random() * keys);
		const key = keyOf(i);
		const url = `${mount}/${key.join(".")}`;
		let v = valueOf(i, ++seq);
		let r = await timed("rest_put", on, async () => {
			const res = await fetch(url, {
				client, method: "PUT", headers: { ...auth, "content-type": "application/json" },
				body: JSON.stringify({ value: v }),
			});
			return { status: res.status, text: await res.text() };
		});
		check(r.status === 200 && r.text.includes('"versionstamp":"'), `PUT ${url}: ${r.status} ${r.text}`);
		r = await timed("rest_get", on, async () => {
			const res = await fetch(url, { client, headers: auth });
			return { status: res.status, text: await res.text() };
		});
		check(r.status === 200 && r.text === JSON.stringify(v), `GET ${url}: ${r.status}, not the value put`);
		const body = snapshotRead(key);
		const b = await timed("connect_read", on, async () => {
			const res = await fetch(`${target}/v2/snapshot_read`, {
				client, method: "POST", headers: { ...auth, "x-denokv-version": "3" }, body,
			});
			return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
		});
		const text = new TextDecoder("latin1").decode(b.bytes);
		check(
			b.status === 200 && text.includes(v.id) && text.includes(v.pad),
			`snapshot_read of ${url}: ${b.status}, ${b.bytes.length} bytes without the value put`,
		);
		for (const [db, name] of [[remote, "kv"], [local, "sqlite"]] as const) {
			v = valueOf(i, ++seq);
			const w = await timed(`${name}_set`, on, () => db.set(key, v));
			check(w.ok, `${name} set ${url}`);
			const g = await timed(`${name}_get`, on, () => db.get<Value>(key));
			check(g.versionstamp === w.versionstamp && g.value?.n === v.n, `${name} get ${url}`);
		}
	}
	remote.close();
	local.close();
	client.close();
	console.log("LATENCY " + kinds.map((k) => `${k}=${pct(times[k], 50)}`).join(" "));
	Deno.exit(0);
}

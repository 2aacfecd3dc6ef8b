bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# The change feed: ?changes=true answered at once, as a long-poll and as an
# event stream. Every wait is bounded; no fixed sleep decides an outcome.

now_ms() { date +%s%3N; }

# vs_of: the versionstamp of the last answer (a write's, a list's, a feed's).
vs_of() { jq -r .versionstamp <<<"$body"; }

# feed PREFIX QUERY: GET /PREFIX?changes=true&QUERY
feed() { kv_req GET "/$1?changes=true${2:+&$2}"; }

# poll_bg NAME URL-QUERY: a long-poll in the background; its body goes to
# $BATS_TEST_TMPDIR/NAME.body, its status to NAME.code, the milliseconds it
# took to NAME.ms, the time it ended to NAME.at. Wait for it with poll_wait
# NAME, which sets body, code, took and arrived.
poll_bg() {
	local name=$1 query=$2 dir=$BATS_TEST_TMPDIR
	(
		t0=$(now_ms)
		curl -sS --max-time 30 -o "$dir/$name.body" -w '%{http_code}' \
			"$KV_URL$query" >"$dir/$name.code" 2>"$dir/$name.err" || true
		t1=$(now_ms)
		echo $((t1 - t0)) >"$dir/$name.ms"
		echo "$t1" >"$dir/$name.at"
	) &
	eval "pid_$name=\$!"
}

poll_wait() {
	local name=$1 pidvar="pid_$1"
	wait "${!pidvar}"
	body=$(cat "$BATS_TEST_TMPDIR/$name.body")
	code=$(cat "$BATS_TEST_TMPDIR/$name.code")
	took=$(cat "$BATS_TEST_TMPDIR/$name.ms")
	arrived=$(cat "$BATS_TEST_TMPDIR/$name.at")
	echo "< $name: $code after $took ms: $body"
}

# wait_parked N: until N long-polls are parked (a request that has not
# reached kvd yet would miss the write the test makes next). The service
# cannot say how many wait, so give the requests time to arrive: each
# must be in before the write, which a later check proves by its answer.
wait_arrived() { sleep "${1:-0.5}"; }

@test "(changes) a list carries the store's versionstamp" {
	kv_put /cl.a '{"value": 1}'
	local put_vs
	put_vs=$(vs_of)
	kv_req GET '/cl?list=true'
	assert_code 200
	assert_json '.versionstamp' "\"$put_vs\""
	kv_req GET '/?list=true&limit=1'
	assert_json '.versionstamp | test("^[0-9a-f]{20}$")' 'true'
}

@test "(changes) without since: no changes and the current versionstamp" {
	kv_put /cn.a '{"value": 1}'
	local put_vs
	put_vs=$(vs_of)
	feed cn
	assert_code 200
	assert_json '.' "{\"changes\":[],\"versionstamp\":\"$put_vs\",\"more\":false}"
}

@test "(changes) sets, deletes and commits come in order with their values" {
	feed co
	local since
	since=$(vs_of)
	kv_put /co.a '{"value": {"n": 1.50}}'
	local vs_a
	vs_a=$(vs_of)
	kv_req DELETE /co.a
	assert_json '.deleted' 'true'
	local vs_del
	vs_del=$(vs_of)
	kv_req POST / -H 'Content-Type: application/json' --data-binary \
		'{"mutations": [{"type": "set", "key": "co.b", "value": 2, "ttl": 60000},
		 {"type": "sum", "key": "co.n", "value": 5}, {"type": "delete", "key": "co.none"}]}'
	assert_code 200
	local vs_c
	vs_c=$(vs_of)
	feed co "since=$since"
	assert_code 200
	assert_json '[.changes[] | [.key, .op, .versionstamp]]' \
		"[[\"co.a\",\"set\",\"$vs_a\"],[\"co.a\",\"delete\",\"$vs_del\"],[\"co.b\",\"set\",\"$vs_c\"],[\"co.n\",\"set\",\"$vs_c\"]]"
	assert_json '.changes[1] | keys' '["key","op","versionstamp"]'
	assert_json '.changes[3].value' '5'
	assert_json '.changes[2].expiresAt | type' '"number"'
	assert_json '.versionstamp' "\"$vs_c\""
	assert_json '.more' 'false'
	# The value's digits come back as written.
	[[ "$body" == *'"value":{"n": 1.50}'* || "$body" == *'"value":{"n":1.50}'* ]]
	feed co "since=$since&values=false"
	assert_json '[.changes[] | has("value")] | any' 'false'
	assert_json '.changes[0].expiresAt' 'null'
}

@test "(changes) the prefix shows its own key and keys below it, never a sibling" {
	feed pf
	local since
	since=$(vs_of)
	kv_put /pf '{"value": 0}'
	kv_put /pf.a.b '{"value": 1}'
	kv_put /pfx.a '{"value": 2}'
	kv_put /pg '{"value": 3}'
	feed pf "since=$since"
	assert_json '[.changes[].key]' '["pf","pf.a.b"]'
	# The answer's versionstamp advances past the sibling's write.
	local last
	last=$(vs_of)
	kv_req GET '/?changes=true'
	assert_json '.versionstamp' "\"$last\""
	feed "" "since=$since"
	# (keys other tests wrote with a ttl may expire meanwhile)
	assert_json '[.changes[] | select(.op != "expire") | .key]' '["pf","pf.a.b","pfx.a","pg"]'
}

@test "(changes) a commit is never split across answers, and limit pages by commits" {
	feed pg2
	local since
	since=$(vs_of)
	local muts
	muts=$(jq -nc '[range(30) | {type: "set", key: "pg2.k\(.)", value: .}]')
	kv_req POST / --data-binary "{\"mutations\": $muts}"
	assert_code 200
	local big
	big=$(vs_of)
	for i in 1 2 3; do kv_put "/pg2.s$i" "{\"value\": $i}"; done
	feed pg2 "since=$since&limit=10"
	assert_code 200
	assert_json '.changes | length' '30'
	assert_json '[.changes[].versionstamp] | unique' "[\"$big\"]"
	assert_json '.versionstamp' "\"$big\""
	assert_json '.more' 'true'
	feed pg2 "since=$big&limit=2"
	assert_json '[.changes[].key]' '["pg2.s1","pg2.s2"]'
	assert_json '.more' 'true'
	feed pg2 "since=$(vs_of)&limit=2"
	assert_json '[.changes[].key]' '["pg2.s3"]'
	assert_json '.more' 'false'
}

@test "(changes) a since ahead of the store is 400, a bad one too, and list parameters do not mix" {
	feed "" 'since=ffffffffffffffffffff'
	assert_error 400 invalid_query
	feed "" 'since=12'
	assert_error 400 invalid_query
	feed "" 'since=0000000000000000000G'
	assert_error 400 invalid_query
	feed x 'wait=-1'
	assert_error 400 invalid_query
	feed x 'wait=soon'
	assert_error 400 invalid_query
	kv_req GET '/x?changes=true&list=true'
	assert_error 400 invalid_query
	kv_req GET '/x?changes=true&cursor=00'
	assert_error 400 invalid_query
	kv_req GET '/x?changes=true&reverse=false'
	assert_error 400 invalid_query
	kv_req GET '/x?changes=maybe'
	assert_error 400 invalid_query
	feed x 'limit=0'
	assert_error 400 invalid_query
}

@test "(changes) a long-poll answers on a PUT under its prefix" {
	feed lp
	local since
	since=$(vs_of)
	poll_bg p "/lp?changes=true&since=$since&wait=20000"
	wait_arrived
	kv_put /lp.a '{"value": 7}'
	poll_wait p
	[[ $code == 200 ]]
	assert_json '[.changes[] | [.key, .op, .value]]' '[["lp.a","set",7]]'
	((took < 15000))
}

@test "(changes) a long-poll answers on a DELETE and on a commit" {
	kv_put /ld.a '{"value": 1}'
	local since
	since=$(vs_of)
	poll_bg d "/ld?changes=true&since=$since&wait=20000"
	wait_arrived
	kv_req DELETE /ld.a
	poll_wait d
	assert_json '[.changes[] | [.key, .op]]' '[["ld.a","delete"]]'
	since=$(vs_of)
	poll_bg c "/ld?changes=true&since=$since&wait=20000"
	wait_arrived
	kv_req POST / --data-binary '{"mutations": [{"type": "max", "key": "ld.m", "value": 9}]}'
	poll_wait c
	assert_json '[.changes[] | [.key, .op, .value]]' '[["ld.m","set",9]]'
}

@test "(changes) a write to a sibling does not answer a long-poll; its wait ends with the current versionstamp" {
	feed sb
	local since
	since=$(vs_of)
	poll_bg s "/sb?changes=true&since=$since&wait=2000"
	wait_arrived
	kv_put /sbx.a '{"value": 1}'
	local sibling
	sibling=$(vs_of)
	poll_wait s
	[[ $code == 200 ]]
	assert_json '.changes' '[]'
	# It waited its 2 s out and answers a versionstamp at or past the write.
	((took >= 1800))
	[[ $(vs_of) > "$since" && ! $(vs_of) < "$sibling" ]]
}

@test "(changes) a long-poll without since waits for the next change" {
	poll_bg n "/nx?changes=true&wait=20000"
	wait_arrived
	kv_put /nx.a '{"value": 3}'
	poll_wait n
	assert_json '[.changes[].key]' '["nx.a"]'
}

@test "(changes) expiry shows as op expire within a second of expiresAt, with no write" {
	feed ex
	local since
	since=$(vs_of)
	kv_put /ex.a '{"value": 1, "ttl": 1500}'
	local exp
	exp=$(jq -r .expiresAt <<<"$body")
	since=$(vs_of)
	poll_bg e "/ex?changes=true&since=$since&wait=20000"
	poll_wait e
	assert_json '[.changes[] | [.key, .op]]' '[["ex.a","expire"]]'
	# When the answer came, not when this shell got round to looking.
	local late=$((arrived - exp))
	echo "answered $late ms after expiresAt"
	((late < 1000))
	# Read at once, the feed shows it too.
	feed ex "since=$since"
	assert_json '[.changes[].op]' '["expire"]'
}

@test "(changes) an event stream sends the changes there, then each new one, with ids" {
	feed ss
	local since
	since=$(vs_of)
	kv_put /ss.a '{"value": 1}'
	local first
	first=$(vs_of)
	local out=$BATS_TEST_TMPDIR/sse
	curl -sSN --max-time 6 -H 'Accept: text/event-stream' -D "$out.h" \
		"$KV_URL/ss?changes=true&since=$since&wait=4000" >"$out" &
	local pid=$!
	wait_arrived 1
	kv_put /ss.b '{"value": 2}'
	local second
	second=$(vs_of)
	# The second event arrives while the stream is open: well before
	# it ends at 4 s.
	local deadline=$(($(now_ms) + 3000))
	until grep -q "^id: $second" "$out"; do
		(($(now_ms) < deadline)) || { cat "$out"; fail "no event for the second write"; }
		sleep 0.05
	done
	wait "$pid" || true
	cat "$out"
	grep -qi '^content-type: text/event-stream' "$out.h"
	grep -q "^id: $first\$" "$out"
	grep -q '^event: changes$' "$out"
	[[ $(grep -c '^data: ' "$out") == 2 ]]
	grep '^data: ' "$out" | sed -n 2p | cut -c7- | jq -e '.changes[0].key == "ss.b"'
}

@test "(changes) a stream resumes from Last-Event-ID" {
	feed rs
	local since
	since=$(vs_of)
	kv_put /rs.a '{"value": 1}'
	local a
	a=$(vs_of)
	kv_put /rs.b '{"value": 2}'
	local out=$BATS_TEST_TMPDIR/resume
	curl -sSN --max-time 5 -H 'Accept: text/event-stream' -H "Last-Event-ID: $a" \
		"$KV_URL/rs?changes=true&wait=1000" >"$out" || true
	cat "$out"
	[[ $(grep -c '^data: ' "$out") == 1 ]]
	grep '^data: ' "$out" | cut -c7- | jq -e '[.changes[].key] == ["rs.b"]'
	curl -sS -H 'Accept: text/event-stream' -H 'Last-Event-ID: nonsense' \
		"$KV_URL/rs?changes=true" -o "$out" -w '%{http_code}' >"$out.code" || true
	[[ $(cat "$out.code") == 400 ]]
	jq -e '.error.code == "invalid_query"' "$out"
}

@test "(changes) a DELETE of nothing takes no versionstamp" {
	kv_req DELETE /dn.never
	assert_json '.' '{"key":"dn.never","deleted":false,"versionstamp":null}'
}

@test "(changes) a recursive delete shows each key it deleted, under its one versionstamp" {
	for k in a a.b a.c.d; do kv_put "/rdf.$k" '{"value": 1}' >/dev/null; done
	kv_put /rdfx '{"value": 1}'
	local since
	since=$(vs_of)
	kv_req DELETE '/rdf?recurse=true'
	assert_code 200
	assert_json '.deleted' '3'
	local vs
	vs=$(vs_of)
	# The prefix's feed: the whole store's would also show the expiry of
	# keys other tests wrote with a ttl, whenever the sweep removes them.
	feed rdf "since=$since"
	assert_json '[.changes[] | [.key, .op, .versionstamp]] | sort' \
		"[[\"rdf.a\",\"delete\",\"$vs\"],[\"rdf.a.b\",\"delete\",\"$vs\"],[\"rdf.a.c.d\",\"delete\",\"$vs\"]]"
}

bats_require_minimum_version 1.7.0
load '../lib/helper'

# Deno's own client, the Deno CLI, through KV Connect: each test runs one
# program of tests/deno against the store that the web server of
# KV_TEST_SERVER serves and that curl reads and writes at the same time.
# The CLI needs cleartext HTTP/2 with prior knowledge (h2c) on http://
# URLs: lighttpd, apache and apache-proxy take it on KV_URL's port
# beside HTTP/1.1, nginx only on a port of its own, KV_H2_URL. The
# programs and the curl calls that speak HTTP/2 use KV_H2_URL when there
# is one; plain curl keeps KV_URL. Auth is on; the programs use the token
# in DENO_KV_ACCESS_TOKEN.

setup_file() {
	if ! command -v deno >/dev/null; then
		echo "deno is not installed (script/bootstrap installs it)" >&2
		return 1
	fi
	TOK_OPS=$(kv_new_token) TOK_ALICE=$(kv_new_token) TOK_LB=$(kv_new_token)
	export TOK_OPS TOK_ALICE TOK_LB
	export KV_EXTRA_CONF="auth = on
[token ops]
hash  = $(kv_token_hash "$TOK_OPS")
write = *
admin = yes
[token alice]
hash  = $(kv_token_hash "$TOK_ALICE")
read  = users
write = users.alice
# valid, but no grant
[token lb]
hash = $(kv_token_hash "$TOK_LB")"
	kv_setup_file
	# The CLI keeps its cache here, away from the home of whoever runs it.
	export DENO_DIR=$BATS_FILE_TMPDIR/deno DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
	export H2_URL=${KV_H2_URL:-$KV_URL}
}
teardown_file() { kv_teardown_file; }

# deno_run TOKEN PROGRAM [ARGS...]: runs tests/deno/PROGRAM.ts with TOKEN
# against the service; $output and $status as bats's run sets them.
deno_run() {
	local token=$1 program=$2
	shift 2
	run -0 timeout 120 env DENO_KV_ACCESS_TOKEN="$token" deno run --unstable-kv \
		--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN \
		"$KV_SRCDIR/tests/deno/$program.ts" "$H2_URL/.connect" "$@"
}

ops() { kv_req "$@" -H "Authorization: Bearer $TOK_OPS"; }
# ops_h2: the same over HTTP/2 with prior knowledge, as the CLI speaks.
ops_h2() { KV_URL=$H2_URL ops "$@" --http2-prior-knowledge; }

@test "(deno) the metadata exchange answers the data path's absolute path" {
	ops_h2 POST /.connect -H 'Content-Type: application/json' \
		-d '{"supportedVersions":[1,2,3]}'
	assert_code 200
	assert_regex "${headers%%$'\n'*}" '^HTTP/2 200'
	assert_equal "$(kv_header Content-Type)" application/json
	assert_json '.version' 3
	local mount=${KV_URL#http://}
	mount=/${mount#*/}
	assert_json '.endpoints' "[{\"url\":\"$mount/.connect/v2\",\"consistency\":\"strong\"}]"
	assert_json '.token' "\"$TOK_OPS\""
	assert_json '.databaseId' '"00000000-0000-0000-0000-000000000000"'
	assert_json '.expiresAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[.][0-9]{3}Z$")' true
	ops POST /.connect -d '{"supportedVersions":[1]}'
	assert_error 400 unsupported
	ops GET /.connect
	assert_error 405 method_not_allowed
	ops POST /.connect/v2/nothing -d x
	assert_error 404 not_found
	ops POST /.connect/v2/watch -d x
	assert_error 400 invalid_body
}

@test "(deno) values of every JSON type and with no JSON form: each face reads what it can" {
	local since
	ops GET '/?changes=true'
	since=$(jq -r .versionstamp <<<"$body")
	deno_run "$TOK_OPS" values
	assert_output --partial ok
	# What Deno wrote is JSON over REST.
	ops GET /values.object
	assert_code 200
	# In JS's order of properties: integer-like names first.
	assert_json '.' '{"1":"index-like","a":1,"b":{"c":[1,2,{"d":"é€😮"}]},"":"empty key","€":true}'
	# What has no JSON form reads over REST as a clear refusal, and lists
	# say what it is in place of the value.
	ops GET /other.date
	assert_error 406 not_json
	ops GET /other.bytes
	assert_error 406 not_json
	assert_json '.error.message | test("Uint8Array")' true
	ops GET '/other?list=true'
	assert_code 200
	assert_json '[.entries[] | select(.key == "other.bytes" or .key == "other.date")] | map([.key, .encoding, has("value")])' \
		'[["other.bytes","bytes",false],["other.date","v8",false]]'
	ops POST '/?read=true' -H 'Content-Type: application/json' -d '{"keys":["other.bytes","values.zero"]}'
	assert_code 200
	assert_json '[.entries[] | [.encoding, .value]]' '[["bytes",null],[null,0]]'
	# A REST sum refuses them; a backup (kvctl dump's lines) leaves them out.
	ops POST / -H 'Content-Type: application/json' \
		-d '{"mutations":[{"type":"sum","key":"other.bigint","value":1}]}'
	assert_error 409 type_mismatch
	ops GET '/?backup=true'
	assert_code 200
	assert_equal "$(jq -r .key <<<"$body" | grep -c '^other\.')" 0
	assert_equal "$(jq -r .key <<<"$body" | grep -c '^values\.zero$')" 1
	# The change feed says what each set was in place of its value.
	ops GET "/other.date?changes=true&since=$since"
	assert_json '[.changes[] | [.op, .encoding, has("value")]]' '[["set","v8",false]]'
	# REST overwrites them as it would any value.
	kv_put /other.bytes '{"value":[0,1,2,255]}' -H "Authorization: Bearer $TOK_OPS"
	ops GET /other.bytes
	assert_equal "$body" '[0,1,2,255]'
}

@test "(deno) list orders keys as Deno's own KV, with every option" {
	deno_run "$TOK_OPS" list
	assert_output ok
}

@test "(deno) keys of every part kind: stored, listed and checked in Deno's own order" {
	local since
	ops GET '/?changes=true'
	since=$(jq -r .versionstamp <<<"$body")
	deno_run "$TOK_OPS" keys
	assert_output ok
	# REST sees the keys that are keypaths, and only those.
	ops GET '/k?list=true'
	assert_code 200
	assert_json '[.entries[].key]' '["k.a","k.a.b","k.ab","k.é"]'
	ops GET '/?list=true&depth=1'
	assert_json '[.entries[].key]' '["k","kz"]'
	ops GET '/k?list=true&depth=1'
	assert_json '[.entries[] | [.key, .hasValue, .hasChildren]]' \
		'[["k.a",true,true],["k.ab",true,false],["k.é",true,false]]'
	ops GET "/k?changes=true&since=$since"
	assert_code 200
	assert_json '[.changes[].key] | unique' '["k","k.a","k.a.b","k.ab","k.é"]'
	# A recursive delete takes every key under the prefix, whatever its
	# kind: 45 were written under ["k"] and 3 deleted.
	ops DELETE '/k?recurse=true'
	assert_code 200
	assert_json '.deleted' 42
	ops GET '/?list=true'
	assert_json '[.entries[].key]' '["kz"]'
}

@test "(deno) atomic checks, sum, min and max on KvU64, expireIn" {
	deno_run "$TOK_OPS" atomic
	assert_output ok
	# A KvU64 reads over REST as its decimal integer.
	ops GET /n.x
	assert_code 200
	assert_equal "$body" 18446744073709551600
}

@test "(deno) REST and Deno read each other's writes" {
	local key
	kv_put /rest.object '{"value":{"name":"Ann","tags":["a","é"],"n":1.25,"ok":true,"none":null}}' \
		-H "Authorization: Bearer $TOK_OPS"
	kv_put /rest.string '{"value":"€ and 😮"}' -H "Authorization: Bearer $TOK_OPS"
	kv_put /rest.int '{"value":12}' -H "Authorization: Bearer $TOK_OPS"
	kv_put /rest.big '{"value":12345678901234567890}' -H "Authorization: Bearer $TOK_OPS"
	kv_put /rest.nested.deeper '{"value":[[1],{"a":{}}]}' -H "Authorization: Bearer $TOK_OPS"
	deno_run "$TOK_OPS" faces
	ops GET /deno.object
	assert_equal "$body" '{"from":"deno","list":[1,2.5,"x"],"nested":{"t":true}}'
	ops GET /deno.counter
	assert_equal "$body" 42
	ops GET /deno.gone
	assert_error 404 not_found
	# The versionstamp Deno was given is the ETag REST shows.
	ops GET /deno.stamp
	assert_equal "$(kv_header ETag)" "\"${lines[-1]}\""
	# A REST write of a KvU64's key makes it a plain number for Deno too.
	kv_put /deno.counter '{"value":7}' -H "Authorization: Bearer $TOK_OPS"
	ops POST / -d '{"mutations":[{"type":"sum","key":"deno.counter","value":1}]}'
	assert_code 200
	ops GET /deno.counter
	assert_equal "$body" 8
}

@test "(deno) watch sees Deno's writes and a REST PUT" {
	run timeout 120 env DENO_KV_ACCESS_TOKEN="$TOK_OPS" deno run --unstable-kv \
		--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN --allow-run=curl \
		"$KV_SRCDIR/tests/deno/watch.ts" "$H2_URL/.connect" "$KV_URL/watch.b" "$TOK_OPS"
	echo "$output"
	assert_equal "${lines[-1]}" ok
}

@test "(deno) a token's grants hold through the client" {
	kv_put /users.bob "{\"value\":\"bob's\"}" -H "Authorization: Bearer $TOK_OPS"
	deno_run "$TOK_ALICE" auth
	# The CLI reports each refusal on stderr before it throws.
	assert_equal "${lines[-1]}" ok
	assert_line --partial "this token may not write users.bob"
	assert_line --partial "this token may not read every key"
	ops GET /users.bob
	assert_equal "$body" "\"bob's\""
}

# get_range TOKEN HEX: a snapshot_read of one range from the Deno key
# HEX to the end of the keyspace, limit 1, as Node's @deno/kv reads a key.
get_range() {
	local key n
	key=$(sed 's/../\\x&/g' <<<"$2")
	n=$((${#2} / 2))
	printf "\\x0a\\x$(printf %02x $((n + 7)))\\x0a\\x$(printf %02x "$n")$key\\x12\\x01\\xff\\x18\\x01" \
		>"$BATS_TEST_TMPDIR/body"
	kv_req POST /.connect/v2/snapshot_read --data-binary "@$BATS_TEST_TMPDIR/body" \
		-H "Authorization: Bearer $1"
}

@test "(deno) a read from a key to the end of the keyspace stays within the token's grants" {
	kv_put /users.bob "{\"value\":\"bob's\"}" -H "Authorization: Bearer $TOK_OPS"
	# The first key after every key under users: users.* < usersx.
	kv_put /usersx.secret '{"value":"hidden"}' -H "Authorization: Bearer $TOK_OPS"
	# ["users", "bob"]: the first key from it is bob's.
	get_range "$TOK_ALICE" 0275736572730002626f6200
	assert_code 200
	assert_equal "$(grep -c "bob's" <<<"$body")" 1
	# ["users", "zzz"]: nothing is left under users, and usersx.secret,
	# the next key in the store, is beyond her grants.
	get_range "$TOK_ALICE" 02757365727300027a7a7a00
	assert_code 200
	assert_equal "$(grep -c hidden <<<"$body")" 0
	get_range "$TOK_OPS" 02757365727300027a7a7a00
	assert_equal "$(grep -c hidden <<<"$body")" 1
	# A key no grant of hers covers is refused.
	get_range "$TOK_ALICE" 027365637265747300027800
	assert_error 403 forbidden
}

@test "(deno) an unknown token is 401 and a token without grants 403 at openKv" {
	run timeout 60 env DENO_KV_ACCESS_TOKEN=not-a-token deno run --unstable-kv \
		--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN \
		"$KV_SRCDIR/tests/deno/values.ts" "$H2_URL/.connect"
	assert_failure
	assert_output --partial unauthorized
	run timeout 60 env DENO_KV_ACCESS_TOKEN="$TOK_LB" deno run --unstable-kv \
		--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN \
		"$KV_SRCDIR/tests/deno/values.ts" "$H2_URL/.connect"
	assert_failure
	assert_output --partial forbidden
}

@test "(deno) concurrent clients: every sum and every check-and-set counts" {
	local clients=6 iterations=40 pids=() i
	for ((i = 0; i < clients; i++)); do
		env DENO_KV_ACCESS_TOKEN="$TOK_OPS" timeout 300 deno run --unstable-kv \
			--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN \
			"$KV_SRCDIR/tests/deno/counter.ts" "$H2_URL/.connect" "$iterations" \
			>"$BATS_TEST_TMPDIR/client$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail "client $i: $(cat "$BATS_TEST_TMPDIR/client$i")"
	done
	ops GET /race.sum
	assert_equal "$body" $((clients * iterations))
	ops GET /race.cas
	assert_equal "$body" $((clients * iterations))
}

@test "(deno) one client's 1200 requests go on across new connections" {
	# nginx answers 1000 requests on one connection (keepalive_requests)
	# and then ends it with GOAWAY: the client must carry on on a new
	# connection without losing a request.
	deno_run "$TOK_OPS" sequence 600
	assert_output ok
	ops GET /seq.n
	assert_equal "$body" 599
}

# post_bytes PATH FORMAT: POSTs the bytes printf makes of FORMAT (bash
# strings hold no NUL byte) to the data path's PATH.
post_bytes() {
	printf "$2" >"$BATS_TEST_TMPDIR/body"
	ops POST "/.connect/v2/$1" --data-binary "@$BATS_TEST_TMPDIR/body"
}

@test "(deno) malformed protobuf is 400 and changes nothing" {
	local before path
	ops GET '/?list=true'
	before=$body
	for path in snapshot_read atomic_write; do
		post_bytes "$path" '\xff\xff\xff\xff'
		assert_error 400 invalid_body
		# a field longer than the body
		post_bytes "$path" '\x0a\x05\x0a\x03\x02a'
		assert_error 400 invalid_body
	done
	# A set whose V8 value ends after its header.
	post_bytes atomic_write '\x12\x0f\x0a\x03\x02a\x00\x12\x06\x0a\x02\xff\x0f\x10\x01\x18\x01'
	assert_error 400 invalid_value
	# A set of a V8 host object cut short.
	post_bytes atomic_write '\x12\x11\x0a\x03\x02a\x00\x12\x08\x0a\x04\xff\x0f\x5c\x00\x10\x01\x18\x01'
	assert_error 400 invalid_value
	# An enqueue.
	post_bytes atomic_write '\x1a\x03\x0a\x01\x01'
	assert_error 400 unsupported
	# A range with no limit.
	post_bytes snapshot_read '\x0a\x06\x0a\x01\x02\x12\x01\x03'
	assert_error 400 invalid_body
	ops GET '/?list=true'
	assert_equal "$body" "$before"
}

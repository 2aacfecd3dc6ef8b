bats_require_minimum_version 1.7.0
load '../lib/helper'
load 'programs'

# Node.js programs on Deno's KV client for Node, the npm package
# @deno/kv, through KV Connect: each test runs one program of tests/node
# with the real node against the store that the web server of
# KV_TEST_SERVER serves (lighttpd, apache, apache-proxy or nginx: the
# client's fetch speaks HTTP/1.1, which every one of them takes on its
# ordinary port) and that curl reads and writes at the same time. Auth is
# on; the programs take the token from DENO_KV_ACCESS_TOKEN, or from the
# option accessToken where a test says so.

setup_file() {
	node_programs
	TOK_OPS=$(kv_new_token) TOK_ALICE=$(kv_new_token) TOK_LB=$(kv_new_token)
	export TOK_OPS TOK_ALICE TOK_LB
	export KV_EXTRA_CONF="auth = on
[token ops]
hash  = $(kv_token_hash "$TOK_OPS")
write = *
[token alice]
hash  = $(kv_token_hash "$TOK_ALICE")
read  = users
write = users.alice
# valid, but no grant
[token lb]
hash = $(kv_token_hash "$TOK_LB")"
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# node_run TOKEN PROGRAM [ARGS...]: runs tests/node/PROGRAM.mjs with TOKEN
# in DENO_KV_ACCESS_TOKEN against the service; $output and $status as
# bats's run sets them; a program that fails fails the test with its
# output.
node_run() {
	local token=$1 program=$2
	shift 2
	run timeout 120 env DENO_KV_ACCESS_TOKEN="$token" \
		node "$NODE_PROGRAMS/$program.mjs" "$KV_URL/.connect" "$@"
	((status == 0)) || fail "$program.mjs exited $status: $output"
}

ops() { kv_req "$@" -H "Authorization: Bearer $TOK_OPS"; }

@test "(node) the metadata exchange answers over HTTP/1.1, as the client's fetch speaks it" {
	ops POST /.connect --http1.1 -H 'Content-Type: application/json' \
		-d '{"supportedVersions":[1,2,3]}'
	assert_code 200
	assert_equal "$(kv_header Content-Type)" application/json
	[[ $(head -n 1 <<<"$headers") == "HTTP/1.1 200"* ]] || fail "not HTTP/1.1: $(head -n 1 <<<"$headers")"
	# Exactly the members @deno/kv accepts: it refuses any other.
	assert_json 'keys' '["databaseId","endpoints","expiresAt","token","version"]'
	assert_json '.version' 3
	assert_json '.endpoints | length' 1
	assert_json '.endpoints[0] | keys' '["consistency","url"]'
}

@test "(node) get, set, delete and getMany with values of every kind, keys of every kind" {
	node_run "$TOK_OPS" values
	assert_output ok
	# What Node wrote is JSON over REST.
	ops GET /values.object
	assert_code 200
	# In JS's order of properties: integer-like names first.
	assert_equal "$body" '{"1":"index-like","a":1,"b":{"c":[1,2,{"d":"é€😮"}]},"":"empty key","€":true}'
	ops GET /values.below_int32
	assert_equal "$body" -2147483649
	# What has no JSON form is no JSON over REST either.
	ops GET /other.date
	assert_error 406 not_json
	ops GET /other.uint8array
	assert_error 406 not_json
}

@test "(node) list orders keys as the package's own KV, with every option" {
	node_run "$TOK_OPS" list
	assert_output ok
	# What the list wrote and kept, as REST lists it.
	ops GET '/l?list=true&limit=3'
	assert_code 200
	assert_json '[.entries[] | [.key, .value]]' '[["l.0",14],["l.10",15],["l.9",16]]'
}

@test "(node) atomic checks, sum, min and max on KvU64, expireIn" {
	node_run "$TOK_OPS" atomic
	assert_output ok
	# A KvU64 reads over REST as its decimal integer.
	ops GET /n.x
	assert_code 200
	assert_equal "$body" 18446744073709551600
	ops GET /n.s
	assert_equal "$body" 14
	ops GET /acct.a
	assert_equal "$body" 90
	ops GET /ttl.atomic
	assert_error 404 not_found
	ops GET /ttl.long
	assert_code 200
	[[ $(kv_header KV-Expires-At) =~ ^[0-9]{13}$ ]] || fail "no KV-Expires-At: $(kv_header KV-Expires-At)"
}

@test "(node) REST and Node read each other's writes" {
	local auth=(-H "Authorization: Bearer $TOK_OPS") etag
	kv_put /rest.object '{"value":{"name":"Ann","tags":["a","é"],"n":1.25,"ok":true,"none":null}}' "${auth[@]}"
	kv_put /rest.string '{"value":"€ and 😮"}' "${auth[@]}"
	kv_put /rest.int '{"value":12}' "${auth[@]}"
	etag=$(kv_header ETag)
	kv_put /rest.big '{"value":12345678901234567890}' "${auth[@]}"
	kv_put /rest.nested.deeper '{"value":[[1],{"a":{}}]}' "${auth[@]}"
	node_run "$TOK_OPS" faces "${etag//\"/}"
	ops GET /node.object
	assert_equal "$body" '{"from":"node","list":[1,2.5,"x"],"nested":{"t":true}}'
	ops GET /node.counter
	assert_equal "$body" 42
	ops GET /node.gone
	assert_error 404 not_found
	# The versionstamp Node was given is the ETag REST shows.
	ops GET /node.stamp
	assert_equal "$(kv_header ETag)" "\"${lines[-1]}\""
}

@test "(node) watch sees Node's writes and a REST PUT" {
	node_run "$TOK_OPS" watch "$KV_URL/watch.b" "$TOK_OPS"
	assert_output ok
	ops GET /watch.b
	assert_equal "$body" '{"from":"rest"}'
}

@test "(node) the token comes from accessToken, else DENO_KV_ACCESS_TOKEN; 401 and 403 at openKv" {
	run -0 timeout 120 env -u DENO_KV_ACCESS_TOKEN \
		node "$NODE_PROGRAMS/token.mjs" "$KV_URL/.connect" "$TOK_OPS" "$TOK_LB"
	assert_output ok
	ops GET /token.option
	assert_equal "$body" 1
	ops GET /token.env
	assert_equal "$body" 2
}

@test "(node) a token's grants hold through the client, its gets included" {
	kv_put /users.bob "{\"value\":\"bob's\"}" -H "Authorization: Bearer $TOK_OPS"
	node_run "$TOK_ALICE" auth
	assert_output ok
	ops GET /users.bob
	assert_equal "$body" "\"bob's\""
	ops GET /users.alice.mail
	assert_equal "$body" '"a@example.org"'
	ops GET /users.alice.n
	assert_error 404 not_found
	kv_req GET /users.alice.mail -H "Authorization: Bearer $TOK_ALICE"
	assert_code 200
}

@test "(node) concurrent clients: every sum and every check-and-set counts" {
	local clients=6 iterations=40 pids=() i
	for ((i = 0; i < clients; i++)); do
		env DENO_KV_ACCESS_TOKEN="$TOK_OPS" timeout 300 \
			node "$NODE_PROGRAMS/counter.mjs" "$KV_URL/.connect" "$iterations" \
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

bats_require_minimum_version 1.7.0
load '../lib/helper'
load 'programs'

# Rate limits through @deno/kv: its requests draw on the same budget as
# any other client's (here the address's, auth being off).

setup_file() {
	node_programs
	export KV_EXTRA_CONF=$'rate = 1/m\nburst = 6'
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(node) the rate limit answers the client 429 once its budget is spent" {
	run -0 timeout 120 env DENO_KV_ACCESS_TOKEN=anyone \
		node "$NODE_PROGRAMS/rate.mjs" "$KV_URL/.connect"
	# Of the six, the metadata exchange took one and the harness's
	# health checks at start some.
	assert_line --regexp '^ok [1-5] served$'
	# curl from the same address is refused too.
	kv_req GET /k
	assert_error 429 rate_limited
}

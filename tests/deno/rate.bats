bats_require_minimum_version 1.7.0
load '../lib/helper'

# Rate limits through Deno's client: its requests draw on the same budget
# as any other client's (here the address's, auth being off). The client
# speaks HTTP/2: under nginx it takes the h2c port, KV_H2_URL.

setup_file() {
	export KV_EXTRA_CONF=$'rate = 1/m\nburst = 6'
	kv_setup_file
	export DENO_DIR=$BATS_FILE_TMPDIR/deno DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
}
teardown_file() { kv_teardown_file; }

@test "(deno) the rate limit answers the client 429 once its budget is spent" {
	run -0 timeout 120 env DENO_KV_ACCESS_TOKEN=anyone deno run --unstable-kv \
		--allow-net=127.0.0.1 --allow-env=DENO_KV_ACCESS_TOKEN \
		"$KV_SRCDIR/tests/deno/rate.ts" "${KV_H2_URL:-$KV_URL}/.connect"
	# Of the six, the metadata exchange took one and the harness's
	# health checks at start some.
	assert_line --regexp '^ok [1-5] served$'
	# curl from the same address is refused too.
	kv_req GET /k
	assert_error 429 rate_limited
}

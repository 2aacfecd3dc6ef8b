bats_require_minimum_version 1.7.0
load '../lib/helper'

# Rate limits: a token bucket per client (the token's name, or the remote
# address without a known token) of `burst` requests refilled at `rate`,
# shared by every kvd process of the store. Every answer after the limiter
# carries RateLimit-Limit, -Remaining and -Reset; a spent budget is
# 429 rate_limited with Retry-After.

# One request earned back every 5 s: slow enough that a loaded machine
# cannot blur the counts, fast enough that a test can wait for it.
RATE=12 BURST=10 INTERVAL_S=5

setup_file() {
	local name conf="auth = on
rate = $RATE/m
burst = $BURST"
	for name in hdr burst shared; do
		local var="TOK_${name^^}"
		printf -v "$var" '%s' "$(kv_new_token)"
		export "${var?}"
		conf+="
[token $name]
hash = $(kv_token_hash "${!var}")
read = *"
	done
	export KV_EXTRA_CONF=$conf KV_PROCS=4
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

req_as() {
	local tok="TOK_${1^^}"
	kv_req "$2" "$3" -H "Authorization: Bearer ${!tok}" "${@:4}"
}

# assert_uint NAME: the header NAME of the last response is a whole number; prints it.
header_uint() {
	local v
	v=$(kv_header "$1")
	[[ "$v" =~ ^[0-9]+$ ]] || {
		fail "header $1 is '$v', not a whole number"
		return 1
	}
	printf '%s\n' "$v"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "(rate) allowed answers carry RateLimit-Limit, -Remaining and -Reset" {
	req_as hdr GET /no.such.key
	assert_error 404 not_found
	assert_equal "$(kv_header RateLimit-Limit)" "$BURST"
	assert_equal "$(kv_header RateLimit-Remaining)" "$((BURST - 1))"
	assert_equal "$(kv_header RateLimit-Reset)" "$INTERVAL_S"
	req_as hdr GET /
	assert_code 200
	assert_equal "$(kv_header RateLimit-Limit)" "$BURST"
	local remaining
	remaining=$(header_uint RateLimit-Remaining)
	((remaining <= BURST - 1)) || fail "RateLimit-Remaining $remaining after two requests"
	assert_equal "$(kv_header Retry-After)" ''
}

@test "(rate) a burst runs into 429 rate_limited with Retry-After and RateLimit headers" {
	local i allowed=0 start elapsed_ms limited=0 retry
	start=$(now_ms)
	for ((i = 0; i < 3 * BURST; i++)); do
		req_as burst GET /no.such.key >/dev/null
		if ((code == 429)); then
			limited=1
			break
		fi
		assert_error 404 not_found
		allowed=$((allowed + 1))
	done
	elapsed_ms=$(($(now_ms) - start))
	((limited)) || fail "no 429 after $allowed requests"
	# the burst, plus what the rate earned back meanwhile
	((allowed >= BURST)) || fail "only $allowed requests allowed before the 429; the burst is $BURST"
	((allowed <= BURST + RATE * elapsed_ms / 60000 + 1)) ||
		fail "$allowed requests allowed in $elapsed_ms ms: more than $BURST + $RATE/m"
	kv_req GET /no.such.key -H "Authorization: Bearer $TOK_BURST"
	assert_error 429 rate_limited
	retry=$(header_uint Retry-After)
	((retry >= 1 && retry <= INTERVAL_S)) || fail "Retry-After $retry for a rate of $RATE/m"
	assert_equal "$(kv_header RateLimit-Limit)" "$BURST"
	assert_equal "$(kv_header RateLimit-Remaining)" 0
	local reset
	reset=$(header_uint RateLimit-Reset)
	((reset >= 1 && reset <= BURST * INTERVAL_S)) || fail "RateLimit-Reset $reset"
	# once Retry-After has passed, the next request fits
	sleep "$retry"
	req_as burst GET /no.such.key
	assert_error 404 not_found
}

@test "(rate) one budget per token across 4 FastCGI processes" {
	local n=$((4 * BURST)) cfg="$BATS_TEST_TMPDIR/burst.curl" out="$BATS_TEST_TMPDIR/burst.out"
	local i start elapsed_ms allowed limited other procs
	for ((i = 0; i < n; i++)); do
		((i > 0)) && echo next
		echo "url = \"$KV_URL/shared.k$i\""
		echo "header = \"Authorization: Bearer $TOK_SHARED\""
		echo 'output = "/dev/null"'
		echo 'write-out = "%{http_code}\n"'
	done >"$cfg"
	start=$(now_ms)
	curl -sS --max-time 20 --parallel --parallel-immediate --parallel-max 16 -K "$cfg" >"$out"
	elapsed_ms=$(($(now_ms) - start))
	allowed=$(grep -c '^404$' "$out" || true)
	limited=$(grep -c '^429$' "$out" || true)
	other=$(grep -vc '^\(404\|429\)$' "$out" || true)
	echo "$n requests in $elapsed_ms ms: $allowed allowed, $limited limited, $other other"
	((other == 0)) || fail "answers other than 404 and 429: $(sort "$out" | uniq -c)"
	((allowed >= BURST)) || fail "only $allowed allowed; the burst is $BURST"
	# four processes with a bucket each would allow up to four bursts
	((allowed <= BURST + RATE * elapsed_ms / 60000 + 1)) ||
		fail "$allowed allowed in $elapsed_ms ms: more than $BURST + $RATE/m, the budget is not shared"
	# and the requests were served by several processes
	procs=$(ps -e -o pgid=,comm= | awk -v g="$KV_SERVER_PID" '$1 == g && $2 == "kvd"' | wc -l)
	echo "kvd processes: $procs"
	((procs >= 4)) || fail "only $procs kvd processes served the burst"
}

@test "(rate) without a known token the remote address is the bucket" {
	local i limited=0
	# the 401s of unknown tokens count against the address: guessing costs budget
	for ((i = 0; i < 3 * BURST; i++)); do
		kv_req GET /a.key -H "Authorization: Bearer $(kv_new_token)" >/dev/null
		if ((code == 429)); then
			limited=1
			break
		fi
		assert_code 401
		assert_equal "$(kv_header RateLimit-Limit)" "$BURST"
	done
	((limited)) || fail "no 429 for unknown tokens from one address"
	assert_error 429 rate_limited
	# no header at all: the same address, the same (empty) bucket; a
	# request may have been earned back meanwhile, no more
	kv_req GET /a.key
	[[ $code == 429 || $code == 401 ]] || fail "expected 429 or 401, got $code"
	assert_equal "$(kv_header RateLimit-Remaining)" 0
	# a known token has its own bucket
	req_as hdr GET /a.key
	assert_error 404 not_found
}

@test "(rate) the buckets live in a file of the store directory" {
	[[ -s "$KV_STORE/kv-ratelimit.2" ]] || fail "no $KV_STORE/kv-ratelimit.2"
}

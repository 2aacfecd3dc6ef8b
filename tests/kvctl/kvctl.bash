# tests/kvctl/kvctl.bash: what the kvctl tests share, on top of tests/lib/helper.bash
#
# Each file serves a store through a real lighttpd (kv_setup_file) and runs
# the real kvctl against it at the same time: kv_setup_file exports KV_CONF,
# which names the served store, and kvctl reads it as the service does.
load '../lib/helper'

: "${KVCTL:=$KV_BUILDDIR/src/kvctl}"
export KVCTL

now_ms() { date +%s%3N; }

# get_answer PATH: one line that holds everything a GET of PATH answers
# that a client can see: status, ETag, KV-Expires-At and the exact body.
get_answer() {
	kv_req GET "$1" >/dev/null
	printf '%s %s %s %s\n' "$code" "$(kv_header ETag)" "$(kv_header KV-Expires-At)" "$body"
}

# assert_usage_error: the last `run --separate-stderr kvctl ...` failed
# with a non-zero status and exactly one line on stderr, from kvctl.
assert_one_line_error() {
	assert_failure
	[[ -n "$stderr" ]] || { fail "nothing on stderr"; return 1; }
	(($(printf '%s\n' "$stderr" | wc -l) == 1)) || { fail "more than one line on stderr: $stderr"; return 1; }
	[[ "$stderr" == "kvctl: "* ]] || { fail "stderr does not start with kvctl: $stderr"; return 1; }
}

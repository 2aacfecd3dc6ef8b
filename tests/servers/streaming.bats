bats_require_minimum_version 1.7.0
load '../lib/helper'

# A streamed answer reaches the client as kvd writes it, not once kvd has
# written it all: what a backup of a large store needs. The backup of a
# 32 MiB store is stopped (SIGSTOP to every kvd process) as soon as its
# first bytes reach the client: streamed, the client has part of it and
# waits; held by the web server until its end, the client has all of it
# before kvd is stopped. The stream then resumes and must end complete.
# Apache (mod_fcgid and mod_proxy_fcgi) and nginx stream; lighttpd, with
# conf/lighttpd.conf, holds the whole answer (its
# server.stream-response-body is 0, the default) and is pinned as such.

server() { echo "${KV_TEST_SERVER:-lighttpd}"; }

: "${KV_SEED:=$KV_BUILDDIR/bench/seed}"
KEYS=4000
VALUE_BYTES=8192

kv_before_start() {
	if [[ ! -x "$KV_SEED" ]]; then
		echo "no $KV_SEED (build it: make bench/seed)" >&2
		return 1
	fi
	"$KV_SEED" "$KV_CONF" "$KEYS" "$VALUE_BYTES" >&2
}
setup_file() {
	export KV_EXTRA_CONF='max_value = 16384'
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# Never leave a kvd stopped, whatever failed.
teardown() { kv_kvd_signal CONT; }

@test "(servers) a backup's stream reaches the client as kvd writes it" {
	local out=$BATS_TEST_TMPDIR/backup.jsonl curl_pid size stopped_size deadline
	curl -sS --max-time 120 -o "$out" "$KV_URL/?backup=true" &
	curl_pid=$!
	deadline=$((SECONDS + 60))
	until [[ -s $out ]] || ((SECONDS > deadline)); do
		kill -0 "$curl_pid" 2>/dev/null || break
		sleep 0.01
	done
	kv_kvd_signal STOP
	[[ -s $out ]] || fail "no byte of the backup within 60 s"
	# What the server had from kvd reaches the client; then nothing more.
	sleep 1
	stopped_size=$(stat -c %s "$out")
	sleep 1
	size=$(stat -c %s "$out")
	case $(server) in
	lighttpd)
		! kill -0 "$curl_pid" 2>/dev/null ||
			fail "lighttpd streamed the backup: this test pins that it held it"
		;;
	*)
		kill -0 "$curl_pid" 2>/dev/null ||
			fail "the whole backup ($size bytes) reached the client before kvd could write it all"
		assert_equal "$size" "$stopped_size"
		;;
	esac
	kv_kvd_signal CONT
	wait "$curl_pid" || fail "curl failed after the stream resumed"
	echo "kvd stopped with $stopped_size of $(stat -c %s "$out") bytes at the client"
	assert_equal "$(wc -l <"$out")" "$KEYS"
	assert_equal "$(tail -n 1 "$out" | jq -r .key)" "bench.k0$((KEYS - 1))"
}

# tests/lib/reload.bash: a change to kv.conf takes effect within 2 s in
# every process that serves the store (docs/API.md), through whichever
# server KV_TEST_SERVER names; the bodies of tests/servers/reload.bats and
# tests/cgi-apache/reload.bats. Load after helper.bash.
#
# Two tokens, keep and gone, are in the file at the start; a test removes
# gone (or breaks the file) and checks what the service answers then.

# reload_setup_file: mint the tokens, auth on with both, start the server.
reload_setup_file() {
	local kvctl=${KVCTL:-$KV_BUILDDIR/src/kvctl} keep gone
	keep=$("$kvctl" token keep) || return 1
	gone=$("$kvctl" token gone) || return 1
	KEEP=$(head -n 1 <<<"$keep")
	GONE=$(head -n 1 <<<"$gone")
	KEEP_SECTION=$(sed -n '/^\[token keep\]/,$p' <<<"$keep")
	GONE_SECTION=$(sed -n '/^\[token gone\]/,$p' <<<"$gone")
	export KEEP GONE KEEP_SECTION GONE_SECTION
	KV_EXTRA_CONF="auth = on"
	export KV_EXTRA_CONF
	kv_setup_file || return 1
	# The file with both tokens, which each test starts from.
	BOTH_CONF=$(cat "$KV_CONF")$'\n'"$KEEP_SECTION"$'\n'"$GONE_SECTION"
	export BOTH_CONF
}

# reload_write TEXT: kv.conf becomes TEXT, edited in place (same inode).
reload_write() {
	printf '%s\n' "$1" >"$KV_CONF"
}

# reload_replace TEXT: kv.conf becomes TEXT by rename, as careful editors
# and deploy tools do (a new inode).
reload_replace() {
	printf '%s\n' "$1" >"$KV_CONF.new"
	chmod 644 "$KV_CONF.new"
	mv -f "$KV_CONF.new" "$KV_CONF"
}

# reload_health TOKEN: print the status of the health check with TOKEN.
reload_health() {
	curl -s -o /dev/null --max-time 20 -w '%{http_code}' \
		-H "Authorization: Bearer $1" "$KV_URL/"
}

# reload_blast TOKEN: 48 health checks, 8 at a time, so that every process
# of the server gets some; print each distinct status with its count.
reload_blast() {
	seq 48 | xargs -P 8 -I{} curl -s -o /dev/null --max-time 20 -w '%{http_code}\n' \
		-H "Authorization: Bearer $1" "$KV_URL/" | sort | uniq -c | sed 's/^ *//'
}

# reload_expect_blast TOKEN STATUS: every one of reload_blast's requests
# answered STATUS.
reload_expect_blast() {
	local got
	got=$(reload_blast "$1")
	echo "blast: $got"
	[[ "$got" == "48 $2" ]] || { tail -40 "$KV_LOG"; fail "expected 48 answers $2, got: $got"; }
}

# reload_now_ms: milliseconds on the wall clock.
reload_now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# reload_within_2s TOKEN STATUS START_MS: poll the health check with TOKEN
# until it answers STATUS; fail when that takes more than 2 s after
# START_MS.
reload_within_2s() {
	local token=$1 want=$2 start=$3 got elapsed
	while :; do
		got=$(reload_health "$token")
		elapsed=$(($(reload_now_ms) - start))
		[[ "$got" == "$want" ]] && break
		((elapsed <= 2000)) || {
			fail "still $got, not $want, ${elapsed} ms after the change"
			return 1
		}
		sleep 0.05
	done
	echo "$want after ${elapsed} ms"
}

# reload_wait_until START_MS: sleep until 2 s after START_MS.
reload_wait_until() {
	local left=$((2000 - ($(reload_now_ms) - $1)))
	((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# reload_load_start FILE: two clients sending health checks with KEEP in a
# loop, their statuses into FILE, until reload_load_stop.
reload_load_start() {
	local out=$1
	: >"$out"
	RELOAD_LOAD_PIDS=()
	for _ in 1 2; do
		(
			while [[ ! -e "$out.stop" ]]; do
				reload_health "$KEEP" >>"$out.$BASHPID"
				echo >>"$out.$BASHPID"
			done
		) 3>&- &
		RELOAD_LOAD_PIDS+=($!)
	done
}

# reload_load_stop FILE: stop the clients; every request they sent was
# answered 200 (none lost, none refused while the file changed).
reload_load_stop() {
	local out=$1 got
	touch "$out.stop"
	wait "${RELOAD_LOAD_PIDS[@]}"
	cat "$out".[0-9]* >"$out"
	got=$(sort "$out" | uniq -c | sed 's/^ *//' | tr '\n' ' ')
	echo "during the change: $got"
	[[ -n "$got" ]] || fail "the clients sent nothing"
	[[ "$got" =~ ^[0-9]+\ 200\ $ ]] || fail "not every request during the change answered 200: $got"
}

# reload_change WRITER TEXT TOKEN STATUS: kv.conf becomes TEXT through
# WRITER (reload_write or reload_replace); the health check with TOKEN must
# answer STATUS within 2 s, and 2 s on every process must answer it, the
# idle ones too (they look at the file only at their next request).
reload_change() {
	local writer=$1 text=$2 token=$3 want=$4 start
	start=$(reload_now_ms)
	"$writer" "$text"
	reload_within_2s "$token" "$want" "$start"
	reload_wait_until "$start"
	reload_expect_blast "$token" "$want"
}

# reload_both: kv.conf with both tokens, in effect everywhere.
reload_both() {
	reload_change reload_replace "$BOTH_CONF" "$GONE" 200
}

# The test bodies.

reload_revoke_in_place() {
	reload_both
	reload_expect_blast "$KEEP" 200
	reload_change reload_write "$(sed '/^\[token gone\]/,$d' <<<"$BOTH_CONF")" "$GONE" 401
	reload_expect_blast "$KEEP" 200
}

reload_revoke_by_rename() {
	reload_both
	# A rename changes the file at once: no request may see anything but
	# the old file or the new one. (An edit in place can be read
	# half-written, as docs/API.md says.)
	reload_load_start "$BATS_TEST_TMPDIR/load"
	reload_change reload_replace "$(sed '/^\[token gone\]/,$d' <<<"$BOTH_CONF")" "$GONE" 401
	reload_expect_blast "$KEEP" 200
	reload_load_stop "$BATS_TEST_TMPDIR/load"
}

reload_bad_line() {
	local bad line
	reload_both
	kv_put /keep.a '{"value":1}' -H "Authorization: Bearer $KEEP"
	assert_code 200
	# The bad line goes before the token sections, which end the file.
	bad=$(sed 's/^auth = on$/auth = on\ncache_size = 1/' <<<"$BOTH_CONF")
	line=$(grep -n '^cache_size = 1$' <<<"$bad" | cut -d: -f1)
	reload_change reload_write "$bad" "$KEEP" 500
	kv_req GET /keep.a -H "Authorization: Bearer $KEEP"
	assert_error 500 configuration
	[[ $(jq -r .error.message <<<"$body") == "line $line: must be a byte count from "* ]] ||
		fail "the message does not name the line and the rule"
	# Whatever the request: no token, a bad key, a write.
	kv_req GET /
	assert_error 500 configuration
	kv_req GET '/a..b'
	assert_error 500 configuration
	kv_put /keep.a '{"value":2}' -H "Authorization: Bearer $KEEP"
	assert_error 500 configuration
	# The log has the file and the line.
	kv_log_contains "kv\.conf:$line: must be a byte count"
	reload_change reload_write "$BOTH_CONF" "$KEEP" 200
	kv_req GET /keep.a -H "Authorization: Bearer $KEEP"
	assert_code 200
	assert_equal "$body" 1
}

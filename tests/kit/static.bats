bats_require_minimum_version 1.7.0
# tests/kit/static.bats: the static kvd and kvctl in a root file system
# that has no library at all (KV_TEST_SERVER=static-chroot, whatever the
# caller set): they are static programs, kvd serves from the root through
# lighttpd, and kvctl run in the root reads and backs up the live store.
# tests/static.test runs this file and the HTTP smoke subset this way.
load '../lib/helper'

setup_file() {
	export KV_TEST_SERVER=static-chroot
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# in_root [VAR=VALUE...] PROGRAM ARGS...: run a program of the root inside
# it, with the root's configuration.
in_root() {
	env KV_CONF=/kv.conf "$@"
}

@test "(static) ldd finds no library in kvd or kvctl, and finds the ordinary kvd's" {
	run ldd "$KV_ROOT/kvd"
	assert_output --partial "not a dynamic executable"
	run ldd "$KV_ROOT/kvctl"
	assert_output --partial "not a dynamic executable"
	# The check could fail: the ordinary build names its libraries.
	run ldd "$KV_BIN"
	assert_success
	assert_output --partial "libdb-5.3.so"
	assert_output --partial "libfcgi.so"
}

@test "(static) the root holds kvd, kvctl, kv.conf, the store and /tmp, and no library" {
	run bash -c 'cd "$KV_ROOT" && ls -A | sort | tr "\n" " "'
	assert_output "kv.conf kvctl kvd store tmp "
	run find "$KV_ROOT" -name '*.so*'
	assert_output ""
	# The ordinary kvd cannot even start in such a root: its loader is missing.
	local bare="$BATS_FILE_TMPDIR/bare"
	mkdir -p "$bare"
	cp "$KV_BIN" "$bare/kvd"
	run -127 chroot "$bare" /kvd
}

@test "(static) every kvd lighttpd started runs inside the root" {
	local pid n=0
	for pid in $(pgrep -x kvd); do
		if [[ "$(readlink "/proc/$pid/root" 2>/dev/null)" == "$KV_ROOT" ]]; then
			n=$((n + 1))
		fi
	done
	((n == ${KV_PROCS:-4})) || fail "expected ${KV_PROCS:-4} kvd processes in $KV_ROOT, found $n"
	kv_put /static.a '{"value": "served from the root"}'
	assert_code 200
	kv_req GET /static.a
	assert_code 200
	assert_json '.' '"served from the root"'
}

@test "(static) kvctl in the root reads the live store's stats" {
	local i
	for i in 1 2 3; do
		kv_put "/stats.k$i" "{\"value\": $i}"
		assert_code 200
	done
	run --separate-stderr in_root KV_DATA=/store chroot "$KV_ROOT" /kvctl stats
	assert_success
	assert_equal "$stderr" ""
	# Every key of this file so far: the one of the test above and these three.
	assert_line "keys_live: 4"
	assert_line --regexp '^last_versionstamp: [0-9a-f]{20}$'
}

@test "(static) kvctl in the root backs up the live store, and the backup restores every key" {
	kv_put /backup.k '{"value": {"nested": [1, 2, 3]}}'
	assert_code 200
	run --separate-stderr in_root chroot "$KV_ROOT" /kvctl backup /tmp/backup
	assert_success
	[[ -n "$(ls -A "$KV_ROOT/tmp/backup")" ]] || fail "the backup directory is empty"
	run --separate-stderr in_root KV_DATA=/tmp/restored chroot "$KV_ROOT" /kvctl restore /tmp/backup
	assert_success
	run --separate-stderr in_root chroot "$KV_ROOT" /kvctl dump
	assert_success
	local live=$output
	run --separate-stderr in_root KV_DATA=/tmp/restored chroot "$KV_ROOT" /kvctl dump
	assert_success
	assert_equal "$output" "$live"
	assert_line --partial '"key":"backup.k"'
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 5
}

@test "(static) kvctl in the root says it has no --url, and touches nothing" {
	run --separate-stderr in_root chroot "$KV_ROOT" /kvctl --url "$KV_URL" dump
	assert_failure 1
	assert_output ""
	assert_regex "$stderr" 'built without --url'
}

@test "(static) kvd and kvctl never read OpenSSL's configuration file" {
	# A FIFO that nobody writes: a program that opens it to read its
	# configuration waits there, and timeout ends it.
	mkfifo "$KV_ROOT/tmp/openssl.cnf"
	kv_put /static.tls '{"value": "no configuration read"}'
	assert_code 200
	run --separate-stderr env OPENSSL_CONF=/tmp/openssl.cnf KV_CONF=/kv.conf \
		timeout -k 2 10 chroot "$KV_ROOT" /kvctl token static
	assert_success
	local token=${lines[0]}
	[[ "$token" =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "no token on the first line: $token"
	# kvd checks that token (its SHA-256) for one plain CGI request.
	printf 'store = /store\nauth = on\n[token static]\nhash = sha256:%s\nread = static\n' \
		"$(printf '%s' "$token" | sha256sum | cut -d ' ' -f 1)" >"$KV_ROOT/tmp/auth.conf"
	run --separate-stderr cgi_in_root "Bearer $token"
	assert_success
	refute_output --partial 'Status: 4'
	assert_output --partial '"no configuration read"'
	# The check could fail: the same request without the token is refused.
	run --separate-stderr cgi_in_root ""
	rm -f "$KV_ROOT/tmp/openssl.cnf" "$KV_ROOT/tmp/auth.conf"
	assert_success
	assert_output --partial 'Status: 401'
}

# cgi_in_root AUTHORIZATION: GET /static.tls from the root's kvd as one plain
# CGI request, under /tmp/auth.conf and the FIFO as OpenSSL's configuration.
cgi_in_root() {
	env -i KV_CONF=/tmp/auth.conf OPENSSL_CONF=/tmp/openssl.cnf \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=GET \
		REQUEST_URI=/kv/static.tls SCRIPT_NAME=/kv QUERY_STRING= REMOTE_ADDR=127.0.0.1 \
		${1:+HTTP_AUTHORIZATION="$1"} \
		timeout -k 2 10 "$(command -v chroot)" "$KV_ROOT" /kvd </dev/null
}

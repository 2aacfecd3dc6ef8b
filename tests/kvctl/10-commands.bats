bats_require_minimum_version 1.5.0
load kvctl
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# Every command against the store that lighttpd serves at the same time.

@test "(kvctl) --help lists every command; COMMAND --help describes it" {
	run "$KVCTL" --help
	assert_success
	help=$output
	for c in stats sweep dump load backup restore verify upgrade token; do
		[[ "$help" == *"  $c "* ]] || fail "kvctl --help does not list $c"
		run "$KVCTL" "$c" --help
		assert_success
		assert_line --index 0 --partial "usage: kvctl [-c FILE] $c"
	done
}

@test "(kvctl) stats counts live and expired keys and bytes of values while serving" {
	kv_put /st.a '{"value": "abc"}'
	kv_put /st.b '{"value": [1, 2]}'
	kv_put /st.gone '{"value": 1, "ttl": 1}'
	sleep 0.05
	run --separate-stderr "$KVCTL" stats
	assert_success
	assert_line 'keys_live: 2'
	assert_line 'keys_expired: 1'
	assert_line 'value_bytes: 11'
	assert_line --regexp '^database_bytes: [1-9][0-9]*$'
	assert_line --regexp '^log_bytes: [1-9][0-9]*$'
	assert_line --regexp '^last_checkpoint: [0-9]{4}-[0-9]{2}-[0-9]{2}T'
	assert_line --regexp '^cache_hit_rate: [0-9]+\.[0-9]{2}%$'
	vs=$(jq -r .versionstamp <<<"$(kv_put /st.c '{"value": 2}' | tail -n 1)")
	run "$KVCTL" stats
	assert_line "last_versionstamp: $vs"
	# Four writes into a fresh store, the last of which removed st.gone:
	# five changes in the log, complete from the start.
	assert_line 'changes_kept: 5'
	assert_line --regexp '^changes_bytes: [1-9][0-9]*$'
	assert_line 'changes_complete_after: 00000000000000000000'
	kv_req GET /st.a
	assert_code 200
}

@test "(kvctl) sweep removes expired keys and keeps live ones" {
	kv_put /sw.live '{"value": 1}'
	for i in 1 2 3; do kv_put "/sw.dead$i" '{"value": 1, "ttl": 1}' >/dev/null; done
	sleep 0.05
	run --separate-stderr "$KVCTL" sweep
	assert_success
	assert_output --regexp '^swept [0-9]+ expired keys$'
	run "$KVCTL" stats
	assert_line 'keys_expired: 0'
	kv_req GET /sw.live
	assert_code 200
	run "$KVCTL" verify
	assert_success
}

@test "(kvctl) dump writes JSON lines of the live keys under a prefix, segment-wise" {
	kv_put /d.a '{"value": {"n": 12345678901234567890}}'
	kv_put /d.a.b '{"value": "x\"y", "ttl": 3600000}'
	kv_put /d.ab '{"value": 1}'
	kv_put /dd.a '{"value": 1}'
	kv_put /d.dead '{"value": 1, "ttl": 1}'
	sleep 0.05
	run --separate-stderr "$KVCTL" dump d
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp '^\{"key":"d\.a","value":\{"n": 12345678901234567890\},"expiresAt":null,"versionstamp":"[0-9a-f]{20}"\}$'
	assert_line --index 1 --regexp '^\{"key":"d\.a\.b","value":"x\\"y","expiresAt":[0-9]+,"versionstamp":"[0-9a-f]{20}"\}$'
	assert_line --index 2 --partial '{"key":"d.ab",'
	# The versionstamp and expiry are the ones the service answers with.
	kv_req GET /d.a.b
	etag=$(kv_header ETag)
	exp=$(kv_header KV-Expires-At)
	assert_equal "$(jq -r '"\"" + .versionstamp + "\" " + (.expiresAt | tostring)' <<<"${lines[1]}")" "$etag $exp"
	run "$KVCTL" dump d.a
	assert_equal "${#lines[@]}" 1
	run "$KVCTL" dump
	assert_success
	assert_output --partial '{"key":"dd.a",'
	refute_output --partial 'd.dead'
}

@test "(kvctl) a dump of a store under writes is a consistent snapshot" {
	# Keys seq.1, seq.2, ... written one after the other sort as seq.1,
	# seq.10, seq.100, seq.11, ...: a scan that saw the store change under
	# it would show a later key without an earlier one.
	seq 1 20000 | awk '{ printf "{\"key\":\"bulk.%06d\",\"value\":%d,\"expiresAt\":null,\"versionstamp\":\"00000000000000000001\"}\n", $1, $1 }' |
		"$KVCTL" load >/dev/null
	(
		for i in $(seq 1 400); do
			curl -s -o /dev/null -X PUT "$KV_URL/seq.$i" --data-binary '{"value": 1}'
		done
	) 3>&- &
	writer=$!
	dumps=0
	while kill -0 "$writer" 2>/dev/null; do
		"$KVCTL" dump seq >"$BATS_TEST_TMPDIR/seq.jsonl"
		n=$(wc -l <"$BATS_TEST_TMPDIR/seq.jsonl")
		got=$(jq -r '.key | ltrimstr("seq.")' "$BATS_TEST_TMPDIR/seq.jsonl" | sort -n | tr '\n' ' ')
		want=$( ((n == 0)) || seq 1 "$n" | tr '\n' ' ')
		assert_equal "$got" "$want"
		dumps=$((dumps + 1))
	done
	wait "$writer"
	echo "# $dumps dumps under writes" >&3
	run "$KVCTL" dump seq
	assert_equal "${#lines[@]}" 400
}

@test "(kvctl) verify finds the served store sound" {
	kv_put /v.a '{"value": 1, "ttl": 3600000}'
	kv_put /v.b '{"value": 2}'
	run --separate-stderr "$KVCTL" verify
	assert_success
	assert_output 'the databases and the expiry index are sound'
}

@test "(kvctl) token prints a token once and the kv.conf lines with its SHA-256" {
	run --separate-stderr "$KVCTL" token alice
	assert_success
	token=${lines[0]}
	[[ "$token" =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "token '$token' is not 43 base64url characters"
	want=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
	assert_line '[token alice]'
	assert_line "hash = sha256:$want"
	assert_line --regexp '^read = '
	assert_line --regexp '^write = '
	refute_output --partial "$token"$'\n'"$token"
	run "$KVCTL" token alice
	[[ "${lines[0]}" != "$token" ]] || fail "two tokens are the same"
}

@test "(kvctl) token grants read and write on everything unless told, and counts the lines to paste" {
	run --separate-stderr "$KVCTL" token me
	assert_success
	assert_line 'read = *'
	assert_line 'write = *'
	refute_line --partial 'admin'
	assert_line '# Paste the 4 lines below at the end of kv.conf.'
	assert_equal "$(sed -n '/^\[token me\]/,$p' <<<"$output" | wc -l)" 4
	run --separate-stderr "$KVCTL" token me --read 'users,é.x' --write users.john --admin
	assert_success
	assert_line 'read = users,é.x'
	assert_line 'write = users.john'
	assert_line 'admin = yes'
	assert_line '# Paste the 5 lines below at the end of kv.conf.'
	assert_equal "$(sed -n '/^\[token me\]/,$p' <<<"$output" | wc -l)" 5
	# --admin alone: the admin grant gives no key, and none is added.
	run --separate-stderr "$KVCTL" token --admin ops
	assert_success
	assert_line '[token ops]'
	assert_line 'admin = yes'
	refute_line --regexp '^(read|write) = '
	assert_line '# Paste the 3 lines below at the end of kv.conf.'
	run --separate-stderr "$KVCTL" token me --write '*'
	assert_line 'write = *'
	refute_line --regexp '^read = '
}

@test "(kvctl) token refuses prefixes that break the keypath rules, and unknown options" {
	local bad
	for bad in 'a..b' '.a' 'a.' '' 'a,,b' 'a,' 'a/b' 'a, b' ' a'; do
		run --separate-stderr "$KVCTL" token me --read "$bad"
		assert_one_line_error
		assert_equal "$status" 2
		[[ -z "$output" ]] || fail "--read '$bad' printed a token: $output"
	done
	run --separate-stderr "$KVCTL" token me --write
	assert_one_line_error
	run --separate-stderr "$KVCTL" token me --read a --read b
	assert_one_line_error
	run --separate-stderr "$KVCTL" token me --root
	assert_one_line_error
	run --separate-stderr "$KVCTL" token --admin
	assert_one_line_error
	run --separate-stderr "$KVCTL" token me you
	assert_one_line_error
}

@test "(kvctl) bad arguments exit non-zero with one line on stderr" {
	run --separate-stderr "$KVCTL"
	assert_one_line_error
	assert_equal "$status" 2
	run --separate-stderr "$KVCTL" frobnicate
	assert_one_line_error
	assert_equal "$status" 2
	run --separate-stderr "$KVCTL" --bogus stats
	assert_one_line_error
	run --separate-stderr "$KVCTL" stats extra
	assert_one_line_error
	run --separate-stderr "$KVCTL" dump a b
	assert_one_line_error
	run --separate-stderr "$KVCTL" dump 'a..b'
	assert_one_line_error
	run --separate-stderr "$KVCTL" backup
	assert_one_line_error
	run --separate-stderr "$KVCTL" token 'bad name'
	assert_one_line_error
	run --separate-stderr "$KVCTL" sweep --fast
	assert_one_line_error
	run --separate-stderr "$KVCTL" -c "$BATS_FILE_TMPDIR/no-such.conf" stats
	assert_one_line_error
	run --separate-stderr env KV_DATA="$BATS_FILE_TMPDIR/no-such-dir" "$KVCTL" stats
	assert_one_line_error
	run --separate-stderr "$KVCTL" restore "$BATS_FILE_TMPDIR/no-such-backup"
	assert_one_line_error
	# A store of another user: files kvctl made there would lock it out.
	mkdir "$BATS_TEST_TMPDIR/theirs"
	if [[ $(id -u) == 0 ]]; then
		chown nobody "$BATS_TEST_TMPDIR/theirs"
		run --separate-stderr env KV_DATA="$BATS_TEST_TMPDIR/theirs" "$KVCTL" stats
	else
		run --separate-stderr env KV_DATA=/ "$KVCTL" stats
	fi
	assert_one_line_error
	[[ "$stderr" == *"run kvctl as the user that owns the store directory"* ]] || fail "$stderr"
	[[ -z "$(ls -A "$BATS_TEST_TMPDIR/theirs")" ]] || fail "kvctl wrote into another user's store"
	printf 'bad.conf.line\n' >"$BATS_FILE_TMPDIR/bad.conf"
	run --separate-stderr "$KVCTL" -c "$BATS_FILE_TMPDIR/bad.conf" stats
	assert_one_line_error
}

@test "(kvctl) load refuses a bad line, names it, and writes nothing of its batch" {
	printf '%s\n' '{"key":"lb.a","value":1,"expiresAt":null,"versionstamp":"00000000000000000001"}' \
		'{"key":"lb.b","value":[1,,2],"expiresAt":null,"versionstamp":"00000000000000000001"}' \
		>"$BATS_TEST_TMPDIR/bad.jsonl"
	run --separate-stderr "$KVCTL" load "$BATS_TEST_TMPDIR/bad.jsonl"
	assert_one_line_error
	assert_equal "$stderr" "kvctl: load: $BATS_TEST_TMPDIR/bad.jsonl line 2: not JSON, or nested deeper than the service allows"
	kv_req GET /lb.a
	assert_code 404
	for line in '{"key":"a..b","value":1,"versionstamp":"00000000000000000001"}' \
		'{"key":"lb.c","value":1,"versionstamp":"1"}' \
		'{"key":"lb.c","value":1,"expiresAt":-5,"versionstamp":"00000000000000000001"}' \
		'{"key":"lb.c","value":1,"extra":2,"versionstamp":"00000000000000000001"}' \
		'{"key":"lb.c","value":1,"key":"lb.d","versionstamp":"00000000000000000001"}' \
		'{"value":1,"versionstamp":"00000000000000000001"}' \
		'[1]'; do
		run --separate-stderr "$KVCTL" load <<<"$line"
		assert_one_line_error
		assert_output ''
	done
}

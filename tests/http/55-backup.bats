bats_require_minimum_version 1.7.0
load '../lib/helper'

# Backups over HTTP: GET /kv/?backup=true streams the lines of `kvctl dump`
# from a snapshot, POST /kv/?load=true checks every line and writes them;
# both need a token with admin = yes. The download is loaded into a fresh
# store by the real kvd run as a plain CGI program on that store, and both
# stores are compared through `kvctl dump`.

: "${KVCTL:=$KV_BUILDDIR/src/kvctl}"

setup_file() {
	TOK_ADMIN=$(kv_new_token) TOK_READER=$(kv_new_token)
	export TOK_ADMIN TOK_READER
	export KV_EXTRA_CONF="auth = on
max_load = 64K
[token admin]
hash = $(kv_token_hash "$TOK_ADMIN")
admin = yes
[token reader]
hash = $(kv_token_hash "$TOK_READER")
read = *
write = *"
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

# as NAME METHOD PATH [curl args...]
as() {
	local tok="TOK_${1^^}"
	kv_req "$2" "$3" -H "Authorization: Bearer ${!tok}" "${@:4}"
}

# dump_of CONF: `kvctl dump` of the store CONF names, as the store's owner
# (Apache's workers are www-data).
dump_of() {
	local store owner
	store=$(sed -n 's/^store *= *//p' "$1" | tail -1)
	owner=$(stat -c %U "$store")
	runuser -u "$owner" -- env KV_CONF="$1" KV_DATA= "$KVCTL" dump
}

# cgi_load CONF FILE: POST FILE to /kv/?load=true through kvd run once as a
# plain CGI program on the store of CONF; sets code and body.
cgi_load() {
	local out="$BATS_TEST_TMPDIR/load.out"
	env -i PATH=/usr/bin:/bin KV_CONF="$1" GATEWAY_INTERFACE=CGI/1.1 \
		SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=POST \
		REQUEST_URI='/kv/?load=true' SCRIPT_NAME=/kv QUERY_STRING=load=true \
		CONTENT_LENGTH="$(wc -c <"$2")" "$KV_BIN" <"$2" >"$out"
	code=$(sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$out" | tr -d '\r')
	body=$(awk 'f { print } /^\r?$/ { f = 1 }' "$out")
	echo "< $code $body"
}

# fresh_conf NAME [LINES]: a kv.conf for a new, empty store; prints its path.
fresh_conf() {
	local dir="$BATS_TEST_TMPDIR/$1"
	mkdir -p "$dir/store"
	printf 'store = %s\nauth = off\n%s\n' "$dir/store" "${2:-}" >"$dir/kv.conf"
	printf '%s\n' "$dir/kv.conf"
}

# download FILE: the backup, through real curl, into FILE.
download() {
	curl -sS --fail --max-time 60 -H "Authorization: Bearer $TOK_ADMIN" \
		"$KV_URL/?backup=true" -o "$1"
}

put() {
	as reader PUT "$1" -H 'Content-Type: application/json' --data-binary "$2" >/dev/null
	assert_code 200
}

@test "(backup) the download is kvctl dump's lines, and loads into a fresh store unchanged" {
	put /bk.plain '{"value":{"a":[1,2,{"b":null}],"s":"é \u0001"}}'
	put /bk.ttl '{"value":"lives","ttl":3600000}'
	put /bk.number '{"value":12345678901234567890}'
	put /bk.breaks "$(printf '{"value":[1,\n2]}')"
	put /other.key '{"value":true}'
	as reader PUT /bk.gone -H 'Content-Type: application/json' --data-binary '{"value":1,"ttl":1}' >/dev/null
	sleep 0.01
	put /bk.plain '{"value":"second"}'

	as admin GET '/?backup=true'
	assert_code 200
	assert_equal "$(kv_header Content-Type)" application/x-ndjson
	download "$BATS_TEST_TMPDIR/backup.jsonl"
	# The snapshot's versionstamp: that of the last write.
	as reader GET /bk.plain >/dev/null
	local last
	last=$(kv_header ETag | tr -d '"')
	as admin HEAD '/?backup=true'
	assert_code 200
	assert_equal "$(kv_header KV-Versionstamp)" "$last"

	local want
	want=$(dump_of "$KV_CONF")
	assert_equal "$(cat "$BATS_TEST_TMPDIR/backup.jsonl")" "$want"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/backup.jsonl")" 5
	run ! grep -q bk.gone "$BATS_TEST_TMPDIR/backup.jsonl"

	local conf
	conf=$(fresh_conf fresh)
	cgi_load "$conf" "$BATS_TEST_TMPDIR/backup.jsonl"
	assert_equal "$code" 200
	assert_json '.loaded' 5
	assert_json '.skipped' 0
	assert_json '.versionstamp' "\"$(jq -r '.versionstamp' "$BATS_TEST_TMPDIR/backup.jsonl" | sort | tail -1)\""
	# Every key, value, expiry and versionstamp is the same.
	assert_equal "$(dump_of "$conf")" "$want"
}

@test "(backup) no token is 401, a token without admin 403, admin 200" {
	kv_req GET '/?backup=true'
	assert_error 401 unauthorized
	kv_req POST '/?load=true' --data-binary ''
	assert_error 401 unauthorized
	as reader GET '/?backup=true'
	assert_error 403 forbidden
	as reader POST '/?load=true' --data-binary ''
	assert_error 403 forbidden
	as admin GET '/?backup=true'
	assert_code 200
	as admin POST '/?load=true' --data-binary ''
	assert_code 200
	assert_json '.loaded' 0
}

@test "(backup) the admin grant alone reads, writes and lists nothing" {
	put /adm.key '{"value":1}'
	as admin GET /adm.key
	assert_error 403 forbidden
	as admin PUT /adm.key --data-binary '{"value":2}'
	assert_error 403 forbidden
	as admin GET '/?list=true'
	assert_error 403 forbidden
	as admin POST / --data-binary '{"mutations":[]}'
	assert_error 403 forbidden
}

@test "(backup) another query parameter next to backup is 400 invalid_query" {
	as admin GET '/?backup=true&list=true'
	assert_error 400 invalid_query
	as admin GET '/?backup=maybe'
	assert_error 400 invalid_query
}

@test "(load) a bad line is 400 naming the line, and nothing is written" {
	local f="$BATS_TEST_TMPDIR/bad.jsonl"
	{
		printf '{"key":"bad.one","value":1,"expiresAt":null,"versionstamp":"00000000000000000001"}\n'
		printf '\n'
		printf '{"key":"bad.two","value":2,"expiresAt":null,"versionstamp":"00000000000000000002"}\n'
		printf '{"key":"bad..three","value":3,"expiresAt":null,"versionstamp":"00000000000000000003"}\n'
	} >"$f"
	download "$BATS_TEST_TMPDIR/before.jsonl"
	(($(wc -l <"$BATS_TEST_TMPDIR/before.jsonl") > 0))
	as admin POST '/?load=true' --data-binary "@$f"
	assert_error 400 invalid_body
	assert_json '.error.message' '"line 4: the key is not a valid keypath; nothing was written"'
	as reader GET /bad.one
	assert_error 404 not_found
	download "$BATS_TEST_TMPDIR/after.jsonl"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/after.jsonl")" "$(cat "$BATS_TEST_TMPDIR/before.jsonl")"

	printf '{"key":"bad.x","value":[1,}\n' >"$f"
	as admin POST '/?load=true' --data-binary "@$f"
	assert_error 400 invalid_body
	assert_json '.error.message | startswith("line 1: ")' true
}

@test "(load) into a store that took writes: new versionstamps above the old, and again is safe" {
	put /ld.existing '{"value":"stays"}'
	local f="$BATS_TEST_TMPDIR/load.jsonl"
	{
		printf '{"key":"ld.a","value":{"x":1},"expiresAt":null,"versionstamp":"00000000000000000001"}\n'
		printf '{"key":"ld.b","value":"b","expiresAt":%s,"versionstamp":"00000000000000000002"}\n' \
			$(($(date +%s%3N) + 3600000))
		printf '{"key":"ld.old","value":0,"expiresAt":1000,"versionstamp":"00000000000000000003"}\r\n'
	} >"$f"
	as reader GET /ld.existing >/dev/null
	local before
	before=$(kv_header ETag | tr -d '"')
	as admin POST '/?load=true' --data-binary "@$f"
	assert_code 200
	assert_json '.loaded' 2
	assert_json '.skipped' 1
	local vs
	vs=$(jq -r .versionstamp <<<"$body")
	[[ "$vs" > "$before" ]]
	as reader GET /ld.a
	assert_code 200
	assert_equal "$body" '{"x":1}'
	[[ "$(kv_header ETag | tr -d '"')" > "$before" ]]
	as reader GET /ld.b
	assert_code 200
	[[ -n "$(kv_header KV-Expires-At)" ]]
	as reader GET /ld.old
	assert_error 404 not_found
	as reader GET /ld.existing
	assert_equal "$body" '"stays"'
	as admin POST '/?load=true' --data-binary "@$f"
	assert_code 200
	assert_json '.loaded' 2
	put /ld.after '{"value":1}'
	as reader GET /ld.after >/dev/null
	[[ "$(kv_header ETag | tr -d '"')" > "$vs" ]]
}

@test "(load) a body over max_load is 413 body_too_large, nothing written" {
	local f="$BATS_TEST_TMPDIR/big.jsonl" i
	for ((i = 0; i < 700; i++)); do
		printf '{"key":"big.k%d","value":"%s","expiresAt":null,"versionstamp":"00000000000000000001"}\n' \
			"$i" "0123456789"
	done >"$f"
	(($(wc -c <"$f") > 65536))
	as admin POST '/?load=true' --data-binary "@$f"
	assert_error 413 body_too_large
	as reader GET /big.k0
	assert_error 404 not_found
}

@test "(load) refused with 503 while the service is read-only" {
	local conf
	conf=$(fresh_conf ro 'read_only = on')
	printf '{"key":"ro.a","value":1,"expiresAt":null,"versionstamp":"00000000000000000001"}\n' \
		>"$BATS_TEST_TMPDIR/ro.jsonl"
	cgi_load "$conf" "$BATS_TEST_TMPDIR/ro.jsonl"
	assert_equal "$code" 503
	assert_json '.error.code' '"unavailable"'
	assert_equal "$(dump_of "$conf")" ""
}

@test "(kvctl --url) dump and load through this server" {
	put /url.a '{"value":[1,2]}'
	download "$BATS_TEST_TMPDIR/dl.jsonl"
	KV_TOKEN=$TOK_ADMIN run --separate-stderr "$KVCTL" --url "$KV_URL" dump
	assert_success
	assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/dl.jsonl")"
	local n
	n=$(wc -l <"$BATS_TEST_TMPDIR/dl.jsonl")
	KV_TOKEN=$TOK_ADMIN run --separate-stderr "$KVCTL" --url "$KV_URL" load "$BATS_TEST_TMPDIR/dl.jsonl"
	assert_success
	assert_output --regexp "^loaded $n keys; 0 already expired, left out; versionstamp [0-9a-f]{20}\$"
	as reader GET /url.a
	assert_equal "$body" '[1,2]'
}

@test "(backup) a store of 5000 keys streams whole, as kvctl dumps it" {
	local f="$BATS_TEST_TMPDIR/many.jsonl" owner pad
	pad=$(head -c 200 /dev/zero | tr '\0' p)
	for ((i = 0; i < 5000; i++)); do
		printf '{"key":"many.k%05d","value":"%s","expiresAt":null,"versionstamp":"00000000000000000001"}\n' "$i" "$pad"
	done >"$f"
	owner=$(stat -c %U "$KV_STORE")
	chmod a+r "$f"
	runuser -u "$owner" -- env KV_CONF="$KV_CONF" KV_DATA= "$KVCTL" load "$f" >/dev/null
	download "$BATS_TEST_TMPDIR/many.backup"
	(($(wc -c <"$BATS_TEST_TMPDIR/many.backup") > 1000000))
	assert_equal "$(grep -c '"many\.k' "$BATS_TEST_TMPDIR/many.backup")" 5000
	assert_equal "$(cat "$BATS_TEST_TMPDIR/many.backup")" "$(dump_of "$KV_CONF")"
}

bats_require_minimum_version 1.7.0
load '../lib/helper'

# The cgi-bin kit's own promises, through Apache as a shared host runs it
# (KV_TEST_SERVER=cgi or cgid; cgi by default here): its .htaccess makes
# kv.fcgi a CGI script, passes Authorization on and serves nothing else,
# and cgi-bin/README.txt's steps work as written: a token minted with
# `kvctl token me`, the lines it says to paste pasted at the end of
# kv.conf, then the README's curl; a narrower token minted with
# `kvctl token app --read app --write app.cache` beside it, and step 5's
# `kvctl token backup --admin` for backups over HTTP.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	local kvctl=${KVCTL:-$KV_BUILDDIR/src/kvctl} minted app admin
	minted=$("$kvctl" token me) || return 1
	app=$("$kvctl" token app --read app --write app.cache) || return 1
	admin=$("$kvctl" token backup --admin) || return 1
	TOKEN=$(head -n 1 <<<"$minted")
	APP_TOKEN=$(head -n 1 <<<"$app")
	ADMIN_TOKEN=$(head -n 1 <<<"$admin")
	export TOKEN APP_TOKEN ADMIN_TOKEN
	# auth = on, as the kit's kv.conf says, then the lines each printout
	# says to paste: its last N lines.
	KV_EXTRA_CONF="auth = on
$(kv_paste_lines "$minted")"
	KV_EXTRA_CONF+="
$(kv_paste_lines "$app")"
	KV_EXTRA_CONF+="
$(kv_paste_lines "$admin")"
	export KV_EXTRA_CONF
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(cgi kit) README.txt's curl with the token answers the health check" {
	kv_req GET / -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_json '.service' '"kv"'
	assert_json '.status' '"ok"'
}

@test "(cgi kit) without the token kvd answers 401: the header is what decides" {
	kv_req GET /
	assert_error 401 unauthorized
	kv_req GET / -H "Authorization: Bearer x$TOKEN"
	assert_error 401 unauthorized
}

@test "(cgi kit) the service is mounted at the script's URL: users.john is .../kv.fcgi/users.john" {
	kv_put /users.john '{"value":{"a":1}}' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_json '.key' '"users.john"'
	kv_req GET /users.john -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_equal "$body" '{"a":1}'
}

@test "(cgi kit) kvctl token me, pasted as printed, reads, writes and lists the whole store" {
	kv_put /me.john '{"value":2}' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	kv_req GET '/?list=true' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_json '[.entries[].key] | index("me.john") != null' true
}

@test "(cgi kit) a token minted with --read and --write gets those grants and no more" {
	kv_put /app.cache.x '{"value":1}' -H "Authorization: Bearer $APP_TOKEN"
	assert_code 200
	kv_req GET /app.cache.x -H "Authorization: Bearer $APP_TOKEN"
	assert_code 200
	kv_put /app.settings '{"value":1}' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	kv_req DELETE /app.settings -H "Authorization: Bearer $APP_TOKEN"
	assert_error 403 forbidden
	kv_req GET /app.settings -H "Authorization: Bearer $APP_TOKEN"
	assert_code 200
	kv_req GET /users.john -H "Authorization: Bearer $APP_TOKEN"
	assert_error 403 forbidden
}

@test "(cgi kit) step 5: a backup over HTTP with the --admin token, posted back, loads every key" {
	local out=$BATS_TEST_TMPDIR/kv.jsonl n
	kv_put /bk.a '{"value":{"n":1}}' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	kv_put /bk.b '{"value":"two","ttl":3600000}' -H "Authorization: Bearer $TOKEN"
	assert_code 200
	# README.txt's curl, as written but for the host's URL.
	run curl -sS -H "Authorization: Bearer $ADMIN_TOKEN" -o "$out" -w '%{http_code}' \
		"$KV_URL/?backup=true"
	assert_success
	assert_output 200
	run jq -c 'select(.key | startswith("bk.")) | [.key, .value]' "$out"
	assert_output '["bk.a",{"n":1}]
["bk.b","two"]'
	# The admin grant reads no key, and a token without it takes no backup.
	kv_req GET /bk.a -H "Authorization: Bearer $ADMIN_TOKEN"
	assert_error 403 forbidden
	kv_req GET '/?backup=true' -H "Authorization: Bearer $TOKEN"
	assert_error 403 forbidden
	# POSTed back to ?load=true with the same token.
	n=$(wc -l <"$out")
	kv_req POST '/?load=true' -H "Authorization: Bearer $ADMIN_TOKEN" --data-binary @"$out"
	assert_code 200
	assert_json '.loaded' "$n"
	kv_req GET /bk.b -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_equal "$body" '"two"'
}

@test "(cgi kit) the .htaccess serves nothing but kv.fcgi: every other file is Apache's 403" {
	local kit="$KV_RUNDIR/home/user/public_html/cgi-bin" dir=${KV_URL%/kv.fcgi} f
	# What an editor, an upload or a careful customer leaves beside the kit.
	cp "$KV_CONF" "$kit/kv.conf.bak"
	cp "$KV_CONF" "$kit/kv.conf~"
	cp "$kit/kvd" "$kit/kvd.old"
	cp "$KV_SRCDIR/cgi-bin/README.txt" "$kit/README.txt"
	echo '<p>hello</p>' >"$kit/index.html"
	chmod 644 "$kit/kv.conf.bak" "$kit/kv.conf~" "$kit/README.txt" "$kit/index.html"
	for f in kvd kvd.old kv.conf kv.conf.bak 'kv.conf~' README.txt .htaccess index.html ''; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$dir/$f")
		echo "'$f': $code"
		[[ "$code" == 403 ]] || fail "$dir/$f answered $code, not 403"
	done
	# Nor through the script's URL: Apache resolves the dot segments first.
	kv_req GET /../kv.conf.bak -H "Authorization: Bearer $TOKEN"
	assert_code 403
	[[ "$body" != *sha256:* ]] || fail "kv.conf.bak's token hashes were served"
	# kv.fcgi itself still answers, with and without a path.
	kv_req GET / -H "Authorization: Bearer $TOKEN"
	assert_code 200
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $TOKEN" "$dir/kv.fcgi")
	[[ "$code" == 200 ]] || fail "$dir/kv.fcgi answered $code"
}

@test "(cgi kit) step 6: a kvd without its execute bit gets the host's HTML 500, and chmod 755 mends it" {
	local kit="$KV_RUNDIR/home/user/public_html/cgi-bin"
	[[ -x $kit/kvd ]] || fail "no kit kvd at $kit"
	chmod 644 "$kit/kvd"
	kv_req GET / -H "Authorization: Bearer $TOKEN"
	chmod 755 "$kit/kvd"
	# Under mod_fcgid the running processes go on serving: only a process
	# it would start now fails, so the 500 is pinned for plain CGI alone.
	if [[ $KV_TEST_SERVER != cgi-fcgid ]]; then
		assert_code 500
		assert_regex "$(kv_header Content-Type)" '^text/html'
	fi
	kv_req GET / -H "Authorization: Bearer $TOKEN"
	assert_code 200
	assert_json '.status' '"ok"'
}

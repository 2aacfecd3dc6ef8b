bats_require_minimum_version 1.7.0
load '../lib/helper'
load 'clients'

# concurrency.bats's clients with the settings the cgi-bin kit ships in its
# kv.conf (sync = on: every commit flushed to the disk; cache_size = 4M;
# max_value, max_body, open), auth aside: KV_EXTRA_CONF is that file's
# settings but `store` and `auth`.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	KV_EXTRA_CONF=$(grep -Ev '^[[:space:]]*(#|$|store[[:space:]]*=|auth[[:space:]]*=)' \
		"$KV_SRCDIR/cgi-bin/kv.conf")
	grep -qx 'sync = on' <<<"$KV_EXTRA_CONF" || KV_EXTRA_CONF+=$'\nsync = on'
	export KV_EXTRA_CONF
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(cgi sync on) the kit's settings are in force" {
	run cat "$KV_CONF"
	assert_line 'sync = on'
	assert_line 'cache_size = 4M'
	refute_line 'auth = on'
}

@test "(cgi sync on) 8 clients x 50 sum commits on one key end at exactly 400" {
	sum_one_key 8 50 cgi.counter
}

@test "(cgi sync on) 8 clients x 30 PUTs of their own keys, every 200 read back" {
	put_get 8 30
}

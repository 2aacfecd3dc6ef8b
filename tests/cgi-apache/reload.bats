bats_require_minimum_version 1.7.0
load '../lib/helper'
load '../lib/reload'

# The cgi-bin kit on a shared host (KV_TEST_SERVER=cgi, cgid or cgi-fcgid;
# cgi by default here), where the customer's only lever is kv.conf beside
# kv.fcgi: an edit takes effect within 2 s, under plain CGI (each request
# reads the file) and under mod_fcgid (each process looks at it at most
# once a second and builds its state again), and a bad line is the JSON
# 500 configuration naming the line, not Apache's HTML page.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	reload_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(cgi kit reload) a token removed by an edit in place stops working within 2 s" {
	reload_revoke_in_place
}

@test "(cgi kit reload) a token removed by replacing kv.conf stops working within 2 s; no request fails meanwhile" {
	reload_revoke_by_rename
}

@test "(cgi kit reload) a bad line answers JSON 500 configuration naming the line; fixing it restores service within 2 s" {
	reload_bad_line
}

@test "(cgi kit reload) a kv.conf that www-data cannot read answers JSON 500 configuration, without its path" {
	local start
	reload_both
	start=$(reload_now_ms)
	chmod 600 "$KV_CONF"
	reload_within_2s "$KEEP" 500 "$start"
	kv_req GET / -H "Authorization: Bearer $KEEP"
	assert_error 500 configuration
	assert_json '.error.message' '"cannot read: Permission denied"'
	kv_log_contains "kv\.conf: cannot read: Permission denied"
	start=$(reload_now_ms)
	chmod 644 "$KV_CONF"
	reload_within_2s "$KEEP" 200 "$start"
}

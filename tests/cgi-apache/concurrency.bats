bats_require_minimum_version 1.7.0
load '../lib/helper'
load 'clients'

# The cgi-bin kit as plain CGI behind Apache (KV_TEST_SERVER=cgi: mod_cgi
# and prefork, the default here; cgid: mod_cgid and event), under clients
# at once: every request is a kvd process of its own, all of them joining
# one Berkeley DB environment. Each commit must be answered 200 with a
# versionstamp of its own, nothing lost and nothing counted twice. Nothing
# is retried: a 503 or Apache's 500 is a failure here. The test bodies are
# in clients.bash; sync-on.bats runs some of them with the kit's settings.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	kv_setup_file
}
teardown_file() { kv_teardown_file; }

@test "(cgi concurrency) one client, 50 sum commits in a row: all 200, the counter at 50" {
	# The harness on its own: without concurrency, kvd under plain CGI works.
	sum_one_key 1 50 cgi.seq
}

@test "(cgi concurrency) 8 clients x 100 sum commits on one key end at exactly 800" {
	sum_one_key 8 100 cgi.counter
}

@test "(cgi concurrency) 12 clients x 30 sum commits alternating over two keys" {
	sum_two_keys 12 30 cgi.alt.a cgi.alt.b
}

@test "(cgi concurrency) 8 clients x 30 PUTs of their own keys, every 200 read back" {
	put_get 8 30
}

bats_require_minimum_version 1.7.0
load '../lib/helper'
load '../lib/reload'

# A change to kv.conf takes effect within 2 s in every FastCGI process,
# under lighttpd, Apache with mod_fcgid and nginx with spawn-fcgi (run once
# per server by tests/lighttpd.test, tests/apache.test, tests/nginx.test):
# each process looks at the file at most once a second, before a request
# and after one, and builds its state again when the file changed. Clients
# sending requests meanwhile get every answer.

setup_file() { reload_setup_file; }
teardown_file() { kv_teardown_file; }

@test "(reload) a token removed by an edit in place stops working within 2 s" {
	reload_revoke_in_place
}

@test "(reload) a token removed by replacing kv.conf stops working within 2 s; no request fails meanwhile" {
	reload_revoke_by_rename
}

@test "(reload) a bad line answers JSON 500 configuration naming the line; fixing it restores service within 2 s" {
	reload_bad_line
}

bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# How kvd ends a FastCGI connection the web server does not keep, spoken
# to on kvd's own socket by tests/lib/fcgi_close.py (run once per server by
# tests/lighttpd.test, tests/apache.test, tests/apache-proxy.test and
# tests/nginx.test: each starts kvd its own way). A request read to its end
# has nothing more to come, so its connection closes at once and the
# process goes on to the next request; one whose input was left unread (a
# body over max_body) gets libfcgi's lingering close, which reads on until
# the web server closes, so that input still arriving cannot reset the
# connection under the 413.

# kvd_socket: the listening socket of one of the server's kvd processes
# (lighttpd's kvd.sock-N, spawn-fcgi's kvd.sock, or mod_fcgid's in its
# directory), after a request through the server has started one.
kvd_socket() {
	local sock
	run -0 curl -s -o /dev/null -w '%{http_code}' "$KV_URL/"
	sock=$(find "$KV_RUNDIR" -type s \( -name 'kvd.sock*' -o -path '*/fcgid/*' \) | head -n 1)
	[[ -n "$sock" ]] || { echo "no kvd socket under $KV_RUNDIR" >&2; return 1; }
	echo "$sock"
}

@test "(close) a request read to its end: 200, stored, and its connection closed at once" {
	local sock
	sock=$(kvd_socket)
	run -0 python3 "$KV_SRCDIR/tests/lib/fcgi_close.py" "$sock" "/${KV_URL#http://*/}" close.whole read-whole
	[ "$output" = "200 closed" ]
	run -0 curl -s "$KV_URL/close.whole"
	[ "$output" = '{"closed":"at once"}' ]
}

@test "(close) a body left unread: 413, nothing stored, and the connection read on until the server closes" {
	local sock
	sock=$(kvd_socket)
	run -0 python3 "$KV_SRCDIR/tests/lib/fcgi_close.py" "$sock" "/${KV_URL#http://*/}" close.unread left-unread
	[ "$output" = "413 written" ]
	run -0 curl -s -o /dev/null -w '%{http_code}' "$KV_URL/close.unread"
	[ "$output" = 404 ]
}

bats_require_minimum_version 1.7.0
load '../lib/helper'
setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

# 600 requests waiting on kvd at once, as clients of a long wait would: with
# every kvd process stopped (SIGSTOP), 600 GETs are sent together; the web
# server must hold every one of them open, not refuse or drop any, and
# every one must be answered 200 once kvd goes on. Under Apache each
# waiting request holds a worker thread (conf/apache-proxy.conf and
# conf/apache.conf allow 1024). mod_fcgid starts new processes for
# requests that find none free, so under it the check only asks that all
# 600 end answered.

WAITING=600

server() { echo "${KV_TEST_SERVER:-lighttpd}"; }

# Never leave a kvd stopped, whatever failed.
teardown() { kv_kvd_signal CONT; }

@test "(servers) 600 requests wait on a stopped kvd and are all answered once it goes on" {
	local codes=$BATS_TEST_TMPDIR/codes held i deadline
	kv_put /waiting '{"value":1}'
	assert_code 200
	kv_kvd_pids >/dev/null || fail "no kvd process is running"
	kv_kvd_signal STOP
	for ((i = 0; i < WAITING; i++)); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 100 "$KV_URL/waiting" >>"$codes" &
	done
	deadline=$((SECONDS + 30))
	held=0
	while ((SECONDS < deadline)); do
		held=$(ss -Htn state established "( sport = :$KV_PORT )" | wc -l)
		((held >= WAITING)) && break
		sleep 0.5
	done
	echo "connections held: $held; answered while kvd was stopped: $(wc -l <"$codes" 2>/dev/null || echo 0)"
	if [[ $(server) != apache ]]; then
		((held >= WAITING)) || fail "only $held of $WAITING connections were held"
		[[ ! -s $codes ]] || fail "answers came while kvd was stopped: $(sort "$codes" | uniq -c)"
	fi
	kv_kvd_signal CONT
	wait
	assert_equal "$(sort "$codes" | uniq -c | awk '{ print $2 ":" $1 }')" "200:$WAITING"
	run kv_log_contains 'AH00484'
	assert_failure
}

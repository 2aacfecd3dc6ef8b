bats_require_minimum_version 1.5.0
load deb

# The installed service after the HTTP suite's smoke subset: its log, its
# store, kvctl on it, tokens, and the upgrade procedure.
setup_file() { kv_setup_file; }

@test "(deb) a failed request's line on kvd's stderr, the journal under systemd, carries its request id" {
	kv_req GET /deb.no.such.key -H 'X-Request-Id: deb-check-7f3a'
	assert_equal "$code" 404
	assert_equal "$(kv_header X-Request-Id)" deb-check-7f3a
	run grep -F 'id=deb-check-7f3a 404 not_found: GET /kv/deb.no.such.key' "$DEB_LOG"
	assert_success
	assert_output --regexp '^kvd\[[0-9]+\]: id=deb-check-7f3a '
}

@test "(deb) the data is in /var/lib/kv, owned by kv; kvctl reads it as kv from /etc/kv/kv.conf" {
	kv_put /deb.k '{"value": {"from": "deb"}}'
	assert_equal "$code" 200
	run runuser -u kv -- /usr/bin/kvctl dump deb
	assert_success
	assert_output --partial '{"key":"deb.k","value":{"from": "deb"}'
	run find /var/lib/kv -not -user kv
	assert_output ""
}

@test "(deb) a token from kvctl token takes effect in /etc/kv/kv.conf without a restart" {
	printout=$(runuser -u kv -- /usr/bin/kvctl token deb-ops)
	token=$(head -n 1 <<<"$printout")
	echo "$token" >"$KV_DEB_WORK/token"
	{
		sed 's/^auth = off$/auth = on/' /etc/kv/kv.conf
		kv_paste_lines "$printout"
	} >/etc/kv/kv.conf.new
	mv /etc/kv/kv.conf.new /etc/kv/kv.conf
	deadline=$((SECONDS + 5))
	until kv_req GET /deb.k >/dev/null; [[ "$code" == 401 ]] || ((SECONDS > deadline)); do
		sleep 0.2
	done
	assert_equal "$code" 401
	kv_req GET /deb.k -H "Authorization: Bearer $token"
	assert_equal "$code" 200
}

@test "(deb) kvctl upgrade refuses the served store, and reports it current once the service is stopped" {
	run --separate-stderr runuser -u kv -- /usr/bin/kvctl upgrade
	assert_failure
	assert_equal "$stderr" "kvctl: upgrade of /var/lib/kv: other processes are using the store: stop the service (every kvd) and any other kvctl first"
	deb_stop
	run --separate-stderr runuser -u kv -- /usr/bin/kvctl upgrade
	assert_success
	# Its own line comes last: Berkeley DB's failchk may print, before it,
	# notes on the handles the stopped kvd processes left.
	output=${lines[-1]}
	assert_output --regexp '^the store in /var/lib/kv is at format 1, the current one: nothing to convert \([0-9]+ records checked\)$'
}

@test "(deb) the next release installs over a changed kv.conf and keeps it; the store serves on after kvctl upgrade" {
	next=$(deb_next) || fail "cannot repack the package"
	# As an unattended upgrade runs it: keep the administrator's file.
	run env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
		-o Dpkg::Options::=--force-confold "$next"
	assert_success
	assert_equal "$(dpkg-query -W -f='${Version}' kv)" "$(deb_version)+next"
	grep -q '^\[token deb-ops\]$' /etc/kv/kv.conf
	run grep -c '^# a line of the next release$' /etc/kv/kv.conf /etc/kv/kv.conf.dpkg-dist
	assert_output $'/etc/kv/kv.conf:0\n/etc/kv/kv.conf.dpkg-dist:1'
	run --separate-stderr runuser -u kv -- /usr/bin/kvctl upgrade
	assert_success
	output=${lines[-1]}
	assert_output --regexp '^the store in /var/lib/kv is at format 1, the current one: nothing to convert'
	deb_start
	kv_req GET /deb.k -H "Authorization: Bearer $(cat "$KV_DEB_WORK/token")"
	assert_equal "$code" 200
	assert_equal "$body" '{"from": "deb"}'
}

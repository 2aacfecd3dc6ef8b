bats_require_minimum_version 1.5.0
load deb

# What stays and what goes: remove keeps the configuration and the store;
# purge deletes both. The system user stays (debian/postrm says why).

@test "(deb) remove takes the programs and units, and keeps the configuration, the store and the user" {
	deb_stop
	run env DEBIAN_FRONTEND=noninteractive apt-get -q remove -y kv
	assert_success
	assert_equal "$(dpkg-query -W -f='${db:Status-Status}' kv)" config-files
	for path in /usr/bin/kvd /usr/bin/kvctl /lib/systemd/system/kv.service \
		/lib/systemd/system/kv.socket /lib/systemd/system/kv-replicate.service /usr/share/kv /usr/share/man/man8/kvd.8.gz; do
		[[ ! -e "$path" ]] || fail "$path is still there"
	done
	grep -q '^\[token deb-ops\]$' /etc/kv/kv.conf
	[[ -f /var/lib/kv/kv.db ]] || fail "the store is gone"
	assert_equal "$(stat -c %U /var/lib/kv)" kv
	getent passwd kv >/dev/null
}

@test "(deb) purge deletes the configuration and the store, and leaves the user" {
	run env DEBIAN_FRONTEND=noninteractive apt-get -q purge -y kv
	assert_success
	run dpkg-query -W -f='${db:Status-Status}' kv
	[[ "$output" == not-installed || "$status" != 0 ]] || fail "kv is still known to dpkg: $output"
	[[ ! -e /etc/kv ]] || fail "/etc/kv is still there: $(ls -la /etc/kv)"
	[[ ! -e /var/lib/kv ]] || fail "/var/lib/kv is still there"
	getent passwd kv >/dev/null
}

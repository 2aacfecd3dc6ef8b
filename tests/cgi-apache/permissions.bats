bats_require_minimum_version 1.7.0
load '../lib/helper'

# The store's permissions on a shared host without suEXEC, through the kit
# under Apache (KV_TEST_SERVER=cgi or cgid; cgi by default here), where
# scripts run as www-data: a store www-data may not use is a permanent
# 500 store_permission with one log line that says what to fix, and with
# store_group and store_mode the customer's account (a user made for this
# file, in a group made for it that www-data joins, removed at the end)
# runs kvctl on the store www-data's scripts serve, as cgi-bin/README.txt
# says. Permission checks do not bite root, so every step runs as
# www-data (the scripts) or as the customer (kvctl, through runuser).
# Plain CGI only (tests/apache-fcgid.test leaves it out): fresh_store
# swaps the store under processes that would keep it open.

setup_file() {
	: "${KV_TEST_SERVER:=cgi}"
	export KV_TEST_SERVER
	if [[ $(id -u) != 0 ]]; then
		echo "kv: this file makes a user and a group: run it as root" >&2
		return 1
	fi
	KV_GROUP=kvg$$
	KV_CUSTOMER=kvc$$
	export KV_GROUP KV_CUSTOMER
	groupadd "$KV_GROUP"
	useradd -M -N -g "$KV_GROUP" -s /usr/sbin/nologin "$KV_CUSTOMER"
	# What a host without suEXEC must do for store_group: www-data in the
	# customer's group. Apache takes its groups when it starts, below.
	gpasswd -a www-data "$KV_GROUP" >/dev/null
	kv_setup_file
	# kvctl where the customer may run it: the build tree may be private.
	cp "${KVCTL:-$KV_BUILDDIR/src/kvctl}" "$KV_RUNDIR/kvctl"
	chmod 755 "$KV_RUNDIR/kvctl"
	BASE_CONF=$(cat "$KV_CONF")
	export BASE_CONF
}

teardown_file() {
	kv_teardown_file
	userdel "$KV_CUSTOMER" 2>/dev/null || true
	groupdel "$KV_GROUP" 2>/dev/null || true
}

# fresh_store OWNER:GROUP MODE [CONF LINES]: an empty store directory as
# the customer would make it, and kv.conf with the lines given. Under
# plain CGI no process keeps the store open between requests.
fresh_store() {
	rm -rf "${KV_STORE:?}"/* "${KV_STORE:?}"/.[!.]*
	chown "$1" "$KV_STORE"
	# chmod keeps a directory's set-group-ID bit unless told in letters.
	chmod g-s "$KV_STORE"
	chmod "$2" "$KV_STORE"
	printf '%s\n%s\n' "$BASE_CONF" "${3:-}" >"$KV_CONF"
}

# as_customer CMD...: run as the customer's account.
as_customer() {
	runuser -u "$KV_CUSTOMER" -- "$@"
}

# log_since N: the log's lines after its first N.
log_since() {
	tail -n +"$(($1 + 1))" "$KV_LOG"
}

# every_file_is GROUP MODE: each file of the store has that group and mode.
every_file_is() {
	local f got
	for f in "$KV_STORE"/*; do
		got=$(stat -c '%G %a' "$f")
		[[ "$got" == "$1 $2" ]] || fail "$f is '$got', not '$1 $2'"
	done
}

@test "(cgi kit) a store directory www-data may not write: 500 store_permission, no Retry-After, one log line" {
	fresh_store root:root 755
	local before
	before=$(wc -l <"$KV_LOG")
	kv_req GET /
	assert_error 500 store_permission
	[[ -z "$(kv_header Retry-After)" ]] || fail "a permanent cause came with Retry-After"
	[[ "$body" != *"$KV_STORE"* && "$body" != *www-data* ]] || fail "the message shows a path or a user"
	kv_put /a '{"value":1}'
	assert_error 500 store_permission
	[[ -z "$(ls -A "$KV_STORE")" ]] || fail "files appeared: $(ls -A "$KV_STORE")"
	# One line per request (a process each, under CGI), which says it all.
	log_since "$before"
	assert_equal "$(log_since "$before" | grep -c 'the store cannot be used')" 2
	log_since "$before" | grep -F "the store cannot be used: $KV_STORE (owner root, group root, mode 0755) is not readable, writable and searchable by www-data (group www-data); fix: " ||
		fail "no line names the directory, its owner, the user and the fix"
	log_since "$before" | grep -F "set store_group" || fail "the fix does not mention store_group"
}

@test "(cgi kit) files www-data may not write in a directory it may (chmod 777): 500 naming the file" {
	fresh_store root:root 755
	# The store made by another user (root here), then the directory opened up.
	run "$KV_RUNDIR/kvctl" -c "$KV_CONF" stats
	assert_success
	chmod 777 "$KV_STORE"
	chmod 640 "$KV_STORE"/*
	local before
	before=$(wc -l <"$KV_LOG")
	kv_req GET /a
	assert_error 500 store_permission
	[[ -z "$(kv_header Retry-After)" ]] || fail "a permanent cause came with Retry-After"
	log_since "$before" | grep -E "the store cannot be used: $KV_STORE/[^ ]+ \(owner root, group root, mode 0640\) is not readable and writable by www-data \(group www-data\); fix: " ||
		fail "no line names the file, its owner, the user and the fix"
	assert_equal "$(log_since "$before" | grep -c 'the store cannot be used')" 1
}

@test "(cgi kit) without store_group the customer's kvctl cannot use what www-data made, and says what to fix" {
	fresh_store "$KV_CUSTOMER:$KV_GROUP" 777
	kv_put /a '{"value":1}'
	assert_code 200
	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" stats
	assert_failure
	echo "$stderr"
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ "$stderr" == *"(owner www-data, group www-data, mode 0640) is not readable and writable by $KV_CUSTOMER (group $KV_GROUP); fix: "*"store_group"* ]] ||
		fail "kvctl does not say which file, which user and how to fix it"
}

@test "(cgi kit) with store_group and store_mode, www-data and the customer share the store: stats, backup, dump, sweep" {
	# cgi-bin/README.txt, hosts without suEXEC: the two lines in kv.conf,
	# and the store directory the group's, set-group-ID.
	fresh_store "$KV_CUSTOMER:$KV_GROUP" 2770 "store_group = $KV_GROUP
store_mode = 0660"
	local i
	for i in 1 2 3; do
		kv_put "/k.$i" "{\"value\":$i}"
		assert_code 200
	done
	kv_put /gone '{"value":0,"ttl":1}'
	assert_code 200
	every_file_is "$KV_GROUP" 660
	assert_equal "$(stat -c '%U %G %a' "$KV_STORE/kv.db")" "www-data $KV_GROUP 660"
	assert_equal "$(stat -c '%G %a' "$KV_STORE")" "$KV_GROUP 2770"

	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" stats
	assert_success
	mkdir "$BATS_FILE_TMPDIR/backups"
	chown "$KV_CUSTOMER" "$BATS_FILE_TMPDIR/backups"
	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" backup "$BATS_FILE_TMPDIR/backups/1"
	assert_success
	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" dump k
	assert_success
	assert_equal "${#lines[@]}" 3
	sleep 0.1 # the ttl of /gone has passed
	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" sweep
	assert_success
	# What the customer's kvctl wrote (logs, a checkpoint) www-data uses.
	for i in 4 5 6; do
		kv_put "/k.$i" "{\"value\":$i}"
		assert_code 200
	done
	kv_req GET /k.1
	assert_code 200
	every_file_is "$KV_GROUP" 660
	# The backup follows store_mode too, and restores as the store.
	local f
	for f in "$BATS_FILE_TMPDIR/backups/1"/*; do
		assert_equal "$(stat -c '%a' "$f")" 660
	done
}

@test "(cgi kit) store_group on a directory www-data cannot give the group: 500 with the chgrp to run, which kvctl runs as the owner" {
	fresh_store "$KV_CUSTOMER:root" 777 "store_group = $KV_GROUP
store_mode = 0660"
	local before
	before=$(wc -l <"$KV_LOG")
	kv_req GET /
	assert_error 500 store_permission
	log_since "$before" | grep -F "store_group is $KV_GROUP, but files created in $KV_STORE would not belong to it" ||
		fail "the log does not say why store_group cannot hold"
	log_since "$before" | grep -F "fix: as its owner, chgrp $KV_GROUP $KV_STORE && chmod g+s $KV_STORE"
	# The owner's kvctl sets the group and the set-group-ID bit itself.
	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" stats
	assert_success
	assert_equal "$(stat -c '%G' "$KV_STORE")" "$KV_GROUP"
	[[ -g "$KV_STORE" ]] || fail "the directory is not set-group-ID"
	kv_put /a '{"value":1}'
	assert_code 200
	every_file_is "$KV_GROUP" 660
}

@test "(cgi kit) without a shared group: a 0777 directory and store_mode 0666 let the customer's kvctl in, and every account" {
	# cgi-bin/README.txt's fallback, with its risk: the files are anyone's.
	fresh_store "$KV_CUSTOMER:$KV_GROUP" 777 "store_mode = 0666"
	chgrp root "$KV_STORE" # not the customer's group: no sharing through it
	kv_put /a '{"value":1}'
	assert_code 200
	every_file_is www-data 666
	run --separate-stderr as_customer "$KV_RUNDIR/kvctl" -c "$KV_CONF" dump
	assert_success
	assert_equal "${#lines[@]}" 1
	kv_put /b '{"value":2}'
	assert_code 200
	# The risk said plainly: an account with no part in it reads the data.
	run runuser -u nobody -- head -c 1 "$KV_STORE/kv.db"
	assert_success
}

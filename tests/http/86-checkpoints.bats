bats_require_minimum_version 1.7.0
load '../lib/helper'

# Checkpoints: once 16 MiB of log were written since the last one, the
# next process to ask (at its first write and every 64th) checkpoints
# after its reply, and Berkeley DB removes the log files recovery no
# longer needs: the store follows its live data, not its history.

setup_file() { kv_setup_file; }
teardown_file() { kv_teardown_file; }

@test "(checkpoints) rewriting the same keys does not pile up log files" {
	[[ -n "$KV_STORE" ]] || fail "this test reads the store directory, which KV_TEST_URL does not give"
	local i logs cfg=$BATS_TEST_TMPDIR/puts.curl codes
	printf '{"value":"%s"}' "$(head -c 60000 /dev/zero | tr '\0' x)" >"$BATS_TEST_TMPDIR/big.json"
	# 1000 writes of 60 KB over the same 20 keys log about 120 MB (each
	# write logs the new value and the one it replaces): twelve log files
	# of 10 MB without a checkpoint, for 1.2 MB of live data. With them:
	# a checkpoint is due after 16 MiB, and each of up to 4 processes
	# asks every 64 of its own writes, so up to 256 writes (about 30 MB)
	# may pass before one asks; with the file being written, at most 6.
	# One curl sends them all, one after another (a config file of 1000
	# requests joined by `next`), each answer's status on a line.
	for ((i = 0; i < 1000; i++)); do
		((i == 0)) || echo next
		printf 'url = "%s/ck.k%d"\nrequest = PUT\nheader = "Content-Type: application/json"\n' "$KV_URL" $((i % 20))
		printf 'data-binary = "@%s"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nsilent\n' "$BATS_TEST_TMPDIR/big.json"
	done >"$cfg"
	codes=$(curl --config "$cfg" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
	[[ "$codes" == " 1000 200 " ]] || fail "1000 PUTs answered: $codes"
	logs=$(find "$KV_STORE" -maxdepth 1 -name 'log.*' | wc -l)
	((logs >= 1 && logs <= 6)) || fail "$logs log files in the store: $(ls -l "$KV_STORE")"
	kv_req GET /ck.k7
	assert_code 200
	assert_equal "${#body}" 60002
}

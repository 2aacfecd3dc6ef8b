bats_require_minimum_version 1.7.0
load '../lib/helper'
load 'storm'

# The kill storm through Apache with mod_fcgid's own pool. mod_fcgid starts
# new processes slowly (at most one per spawn interval, and only for a
# request that found none free), so the kills come every 1 to 2 s: about 25
# in 40 s.
setup_file() { KV_TEST_SERVER=apache kv_setup_file; }
teardown_file() { kv_teardown_file; }

@test "(storm, apache) a kill storm loses no acknowledged write; the service comes back by itself" {
	storm_run one 40 10 20
}

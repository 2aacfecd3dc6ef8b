bats_require_minimum_version 1.7.0
load '../lib/helper'
load 'storm'

# The kill storm through nginx: 4 kvd processes, 6 writers for 40 s, a
# SIGKILL of a random kvd every 0.2 to 0.7 s; three times in a row on one
# server, each a pass or a failure on its own (see storm.bash).
setup_file() { KV_TEST_SERVER=nginx KV_PROCS=4 kv_setup_file; }
teardown_file() { kv_teardown_file; }

@test "(storm, nginx) a kill storm loses no acknowledged write; the service comes back by itself (1)" {
	storm_run one 40 2 7
}

@test "(storm, nginx) a kill storm loses no acknowledged write; the service comes back by itself (2)" {
	storm_run two 40 2 7
}

@test "(storm, nginx) a kill storm loses no acknowledged write; the service comes back by itself (3)" {
	storm_run three 40 2 7
}

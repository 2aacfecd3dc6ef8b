/* ratelimit_holder.c: a process stuck while it holds the rate limiter's lock
 *
 * Usage: ratelimit_holder STORE_DIR
 *
 * Maps STORE_DIR/RL_FILE, takes the table's mutex as kvd does, prints
 * "held" on stdout and stops itself with SIGSTOP: a process stopped (by a
 * debugger, say) in the microsecond it holds the lock. The test kills it
 * with SIGKILL, and the next kvd to lock finds EOWNERDEAD; continued
 * instead, it lets go and exits 0. Exits 1, saying why on stderr, when the
 * file is not a whole table or the lock cannot be had within 5 s. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "ratelimit_table.h"

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "ratelimit_holder: %s: %s\n", what, why);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	struct timespec deadline;
	struct rl_table *t;
	char path[4096];
	struct stat st;
	int fd, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: ratelimit_holder STORE_DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], RL_FILE);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		return fail(path, strerror(errno));
	if (st.st_size != (off_t)sizeof(*t))
		return fail(path, "not the size of a table");
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED)
		return fail(path, strerror(errno));
	if (t->h.magic != RL_MAGIC || t->h.version != RL_VERSION ||
	    t->h.guard_before != RL_GUARD || t->h.guard_after != RL_GUARD)
		return fail(path, "no valid header");
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 5;
	rc = pthread_mutex_clocklock(&t->h.mutex, CLOCK_MONOTONIC, &deadline);
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(&t->h.mutex);
	if (rc != 0)
		return fail("the table's lock", strerror(rc));
	printf("held\n");
	fflush(stdout);
	raise(SIGSTOP);
	pthread_mutex_unlock(&t->h.mutex);
	return EXIT_SUCCESS;
}

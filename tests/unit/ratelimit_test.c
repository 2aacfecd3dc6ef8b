/* ratelimit_test.c: client names of addresses, and the shared table's file
 * removed, replaced, truncated, scribbled over or locked by a stuck process
 *
 * The table tests run in a temporary store directory, with kvd's log
 * (stderr) captured to count what it said. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ratelimit.h"
#include "ratelimit_table.h"
#include "unit.h"

#define BURST 3

static char dir[] = "/tmp/kv-ratelimit-test.XXXXXX";
static char path[sizeof(dir) + sizeof(RL_FILE) + 1];
static char log_path[sizeof(dir) + 16];
static char race_log_path[sizeof(dir) + 16];

static void check_key(const char *addr, const char *want)
{
	char out[128];
	size_t n = rl_address_key(addr, out, sizeof(out));

	CHECK(strcmp(out, want) == 0 && n == strlen(want));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "  %s: got %s, want %s\n", addr, out, want);
}

static void test_address_key(void)
{
	char small[8];

	check_key("192.0.2.1", "a:192.0.2.1");
	/* One bucket per /64, however the address is written. */
	check_key("2001:db8:1:2:3:4:5:6", "a:2001:db8:1:2::/64");
	check_key("2001:DB8:1:2::1", "a:2001:db8:1:2::/64");
	check_key("2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "a:2001:db8:1:2::/64");
	check_key("2001:db8:1:3::1", "a:2001:db8:1:3::/64");
	check_key("2001:db8::1", "a:2001:db8::/64");
	check_key("fe80::1:2:3:4", "a:fe80::/64");
	check_key("::1", "a:::/64");
	/* IPv4-mapped: the IPv4 address's own bucket. */
	check_key("::ffff:192.0.2.1", "a:192.0.2.1");
	check_key("::FFFF:c000:201", "a:192.0.2.1");
	/* Deprecated IPv4-compatible form: an IPv6 address like any other. */
	check_key("::192.0.2.1", "a:::/64");
	/* Anything else is used as it is. */
	check_key("fe80::1%eth0", "a:fe80::1%eth0");
	check_key("not an address", "a:not an address");
	check_key("", "a:");
	/* Cut to the buffer, terminated. */
	CHECK(rl_address_key("2001:db8::1", small, sizeof(small)) == 7 &&
	      strcmp(small, "a:2001:") == 0);
}

/* --- The table's file ---------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends stderr to the file at p. */
static void capture_log(const char *p)
{
	int fd;

	fflush(stderr);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	if (fd >= 0)
		close(fd);
}

/* Prints the lines of the log at p that do not contain skip (when not NULL). */
static void print_log(const char *p, const char *skip)
{
	char line[1024];
	FILE *f;

	fflush(stderr);
	if ((f = fopen(p, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (skip == NULL || strstr(line, skip) == NULL)
			fputs(line, stdout);
	fclose(f);
}

/* How many lines of the log at p contain needle. */
static int logged_in(const char *p, const char *needle)
{
	char line[1024];
	FILE *f;
	int n = 0;

	fflush(stderr);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static int logged(const char *needle)
{
	return logged_in(log_path, needle);
}

static off_t file_size(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static enum rl_status take(struct ratelimit *rl, const char *key)
{
	struct rl_verdict v;

	return rl_take(rl, key, strlen(key), &v);
}

/* Takes until refused (at most 2 * BURST); returns how many were allowed. */
static int spend(struct ratelimit *rl, const char *key)
{
	int allowed = 0;

	while (allowed < 2 * BURST && take(rl, key) == RL_ALLOW)
		allowed++;
	return allowed;
}

/* Writes len bytes of pattern over the file, from offset; truncating it to
 * that length first when trunc. */
static void scribble(off_t offset, size_t len, bool trunc)
{
	unsigned char *junk = malloc(len);
	int fd = open(path, O_WRONLY | (trunc ? O_TRUNC : 0));
	bool ok;

	for (size_t i = 0; i < len; i++)
		junk[i] = (unsigned char)(i * 2654435761u >> 13);
	ok = fd >= 0 && pwrite(fd, junk, len, offset) == (ssize_t)len;
	CHECK(ok);
	if (fd >= 0)
		close(fd);
	free(junk);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

static void test_damage(struct ratelimit *rl)
{
	char copy[sizeof(path) + 8];
	int resets = 0;

	CHECK(take(rl, "a:fresh") == RL_ALLOW);
	CHECK(file_size() == (off_t)sizeof(struct rl_table));
	CHECK(logged("created the table") == 1);
	CHECK(spend(rl, "t:x") == BURST);

	/* Truncated: noticed before the access, rebuilt, counted again. */
	CHECK(truncate(path, 0) == 0);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("was truncated; a new table") == 1);
	CHECK(logged("rate limits reset") == ++resets);
	CHECK(file_size() == (off_t)sizeof(struct rl_table));
	CHECK(spend(rl, "t:x") == BURST - 1);

	/* Scribbled over in place, whole. */
	scribble(0, sizeof(struct rl_table), false);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("had no valid header") == 1);
	CHECK(logged("rate limits reset") == ++resets);
	CHECK(spend(rl, "t:x") == BURST - 1);

	/* Just the guard after the mutex. */
	scribble(offsetof(struct rl_header, guard_after), 8, false);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("rate limits reset") == ++resets);
	CHECK(spend(rl, "t:x") == BURST - 1);

	/* Rewritten shorter, and longer. */
	scribble(0, 1000, true);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("rate limits reset") == ++resets);
	CHECK(spend(rl, "t:x") == BURST - 1);
	scribble(0, 2 * sizeof(struct rl_table), true);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("rate limits reset") == ++resets);
	CHECK(file_size() == (off_t)sizeof(struct rl_table));
	CHECK(spend(rl, "t:x") == BURST - 1);

	/* Removed: a new table at once, not the old one kept. */
	CHECK(unlink(path) == 0);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("was removed; a new table") == 1);
	CHECK(logged("rate limits reset") == ++resets);
	CHECK(file_size() == (off_t)sizeof(struct rl_table));

	/* Replaced by another whole table (a copy from before the bucket was
	 * spent): followed, with no reset. */
	snprintf(copy, sizeof(copy), "%s.copy", path);
	copy_file(path, copy);
	CHECK(spend(rl, "t:x") == BURST - 1);
	CHECK(rename(copy, path) == 0);
	CHECK(spend(rl, "t:x") == BURST - 1);
	CHECK(logged("rate limits reset") == resets);

	/* Moved away: it keeps its link, so that takes the stat() of the
	 * name, within a second. */
	snprintf(copy, sizeof(copy), "%s.away", path);
	CHECK(rename(path, copy) == 0);
	usleep(1100 * 1000);
	CHECK(take(rl, "t:x") == RL_ALLOW);
	CHECK(logged("rate limits reset") == ++resets);
	unlink(copy);

	/* Garbage in the mutex alone, the guards intact: whatever the C
	 * library makes of it, the answer comes within the lock's timeout. */
	CHECK(spend(rl, "t:x") == BURST - 1);
	{
		struct rl_header h;
		int64_t start;
		enum rl_status st;

		scribble(offsetof(struct rl_header, mutex), sizeof(h.mutex), false);
		start = now_ms();
		st = take(rl, "t:x");
		printf("garbage in the mutex: status %d after %lld ms\n", (int)st,
		       (long long)(now_ms() - start));
		CHECK(st == RL_ALLOW || st == RL_DENY || st == RL_UNCHECKED);
		CHECK(now_ms() - start < 1000);
	}
}

/* A process that maps the table, takes its lock, says so on fd and waits
 * to be killed. */
static void hold_lock(int fd)
{
	int file = open(path, O_RDWR);
	struct rl_table *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	int rc;

	if (t == MAP_FAILED)
		_exit(1);
	rc = pthread_mutex_lock(&t->h.mutex);
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(&t->h.mutex);
	if (rc != 0 || write(fd, "L", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void test_stuck_holder(struct ratelimit *rl)
{
	int64_t start, elapsed;
	int fds[2];
	char c;
	pid_t pid;

	/* A whole table first, whatever the last test left. */
	CHECK(unlink(path) == 0);
	CHECK(take(rl, "t:y") == RL_ALLOW);
	CHECK(pipe(fds) == 0);
	fflush(NULL);
	if ((pid = fork()) == 0)
		hold_lock(fds[1]);
	CHECK(pid > 0 && read(fds[0], &c, 1) == 1);

	/* Fail open: passed uncounted, within the timeout, logged once. */
	start = now_ms();
	CHECK(take(rl, "t:y") == RL_UNCHECKED);
	elapsed = now_ms() - start;
	CHECK(elapsed >= 40 && elapsed < 1000);
	CHECK(take(rl, "t:y") == RL_UNCHECKED);
	CHECK(logged("rate limits not checked") == 1);

	/* Its holder dies: the next locker takes the lock over. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	CHECK(take(rl, "t:y") == RL_ALLOW);
	CHECK(logged("held by a process that died") == 1);
	CHECK(logged("rate limits checked again") == 1);
	CHECK(spend(rl, "t:y") == BURST - 2);
}

/* The file truncated and restored over and over while the table is in
 * use: some truncations land between the size check and the access, where
 * only the SIGBUS guard stands. No status but the four, no death. */
static void test_truncation_race(struct ratelimit *rl)
{
	int64_t deadline = now_ms() + 1000;
	int counts[4] = { 0 };
	pid_t pid;

	/* Hundreds of rebuilds: a log of its own, summed up. */
	capture_log(race_log_path);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		for (;;) {
			int fd = open(path, O_RDWR);

			if (fd >= 0) {
				if (ftruncate(fd, 0) != 0 ||
				    ftruncate(fd, sizeof(struct rl_table)) != 0)
					_exit(1);
				close(fd);
			}
		}
	}
	CHECK(pid > 0);
	while (now_ms() < deadline) {
		enum rl_status st = take(rl, "t:z");

		CHECK(st >= RL_ALLOW && st <= RL_UNCHECKED);
		if (st >= RL_ALLOW && st <= RL_UNCHECKED)
			counts[st]++;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(unlink(path) == 0);
	CHECK(take(rl, "t:other") == RL_ALLOW);
	printf("truncation race: %d allowed, %d denied, %d unavailable, %d unchecked; "
	       "%d faults taken back\n", counts[RL_ALLOW], counts[RL_DENY],
	       counts[RL_UNAVAILABLE], counts[RL_UNCHECKED],
	       logged_in(race_log_path, "during an access"));
}

static void test_table(void)
{
	struct config cfg;
	struct ratelimit *rl;

	if (mkdtemp(dir) == NULL) {
		perror(dir);
		exit(EXIT_FAILURE);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, RL_FILE);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(race_log_path, sizeof(race_log_path), "%s/race.log", dir);
	capture_log(log_path);

	memset(&cfg, 0, sizeof(cfg));
	cfg.store = dir;
	cfg.rate = 1;
	cfg.rate_period_s = 3600;
	cfg.burst = BURST;
	rl = rl_new(&cfg);
	CHECK(rl != NULL);
	test_damage(rl);
	test_stuck_holder(rl);
	test_truncation_race(rl);
	rl_free(rl);

	/* What kvd said (and any failed check), for the test's log. */
	print_log(log_path, NULL);
	print_log(race_log_path, "rate limits reset");
	{
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
}

int main(void)
{
	test_address_key();
	test_table();
	return UNIT_DONE();
}

/* ratelimit.c: a token bucket per client, shared by every process of a store
 *
 * The web servers run several kvd processes (and plain CGI one per
 * request), so the buckets cannot live in a process. They live in a file in
 * the store directory, RL_FILE, that every process maps MAP_SHARED: a fixed
 * table of buckets guarded by one process-shared robust mutex. A process
 * killed while holding the mutex (mod_fcgid and lighttpd SIGKILL workers)
 * leaves it to the next locker as EOWNERDEAD, which takes it over: a bucket
 * is updated with one 64-bit store, so the table is never half-written.
 * The file is not in Berkeley DB on purpose: a limiter check per request
 * must cost far less than a transaction, and must not write the log.
 *
 * Each bucket is one number, its "theoretical arrival time" (generic cell
 * rate algorithm): the monotonic time at which it would be full again.
 * The table is open-addressed; a client's bucket sits in one of RL_PROBE
 * slots after its hash. When all of them hold other clients' buckets that
 * are still refilling, the one closest to full is taken over: its owner
 * gets back at most the few requests it had not yet earned back, and no
 * client is ever refused because the table is full. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "util.h"

/* "kv-rl" and the layout's version; a file of another size is refused. */
#define RL_MAGIC UINT64_C(0x6b762d726c000001)
/* Enough for every client of one host several times over; 384 KiB. */
#define RL_SLOTS 4096
/* How far a bucket may sit from its hash's slot. */
#define RL_PROBE 16
/* "t:" and a token name (64), or "a:" and an address (an IPv6 /64: 24). */
#define RL_KEY_MAX 80

#define NS_PER_S INT64_C(1000000000)
/* The longest wait for the table's mutex. It is held for well under a
 * microsecond; 50 ms is past any scheduling delay of its holder on a
 * busy machine, and short enough that every request still answers
 * promptly while a stopped process holds it. */
#define RL_WAIT_NS (50 * INT64_C(1000000))

struct rl_slot {
	int64_t tat;		/* monotonic ns at which the bucket is full; 0: unused */
	uint8_t len;		/* of key; 0: never used */
	char key[RL_KEY_MAX];
};

struct rl_table {
	uint64_t magic;		/* written last, under flock, by the creator */
	pthread_mutex_t mutex;	/* process-shared, robust */
	struct rl_slot slots[RL_SLOTS];
};

struct ratelimit {
	const struct config *cfg;
	struct rl_table *table;	/* mapped on first use; NULL until then */
	int64_t interval_ns;	/* what one request costs */
	bool warned;		/* the open failure is logged once per process */
	bool stalled;		/* a lock timeout is logged, until a lock succeeds */
};

struct ratelimit *rl_new(const struct config *cfg)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->cfg = cfg;
	if (cfg->rate != 0)
		rl->interval_ns = (int64_t)cfg->rate_period_s * NS_PER_S / cfg->rate;
	return rl;
}

void rl_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	if (rl->table != NULL)
		munmap(rl->table, sizeof(*rl->table));
	free(rl);
}

static bool init_table(struct rl_table *t)
{
	pthread_mutexattr_t attr;
	bool ok;

	if (pthread_mutexattr_init(&attr) != 0)
		return false;
	ok = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0 &&
	     pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0 &&
	     pthread_mutex_init(&t->mutex, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	if (ok)
		t->magic = RL_MAGIC;
	return ok;
}

/* Maps the table, creating and initialising it when it is new. The flock
 * makes creation and first initialisation one step for all processes;
 * afterwards only the mutex is used. */
static struct rl_table *map_table(const char *path, const char **why)
{
	struct rl_table *t = MAP_FAILED;
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto out;
	}
	if (st.st_size != 0 && st.st_size != (off_t)sizeof(*t)) {
		*why = "the file has another layout; remove it while no kvd runs";
		goto out;
	}
	/* Allocated, not sparse: a full disk fails here, not as SIGBUS later. */
	if (st.st_size == 0 && (rc = posix_fallocate(fd, 0, sizeof(*t))) != 0) {
		*why = strerror(rc);
		goto out;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		*why = strerror(errno);
		goto out;
	}
	if (t->magic != RL_MAGIC && (t->magic != 0 || !init_table(t))) {
		*why = "the file is not a rate-limit table; remove it while no kvd runs";
		munmap(t, sizeof(*t));
		t = MAP_FAILED;
	}
out:
	/* Unlocked explicitly: the mapping keeps the open file, and with it
	 * the flock, alive after close(). */
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
	return t != MAP_FAILED ? t : NULL;
}

static bool open_table(struct ratelimit *rl)
{
	const char *dir = rl->cfg->store;
	size_t len = strlen(dir) + sizeof("/" RL_FILE);
	char *path = malloc(len);
	const char *why = "out of memory";

	if (path != NULL) {
		snprintf(path, len, "%s/%s", dir, RL_FILE);
		rl->table = map_table(path, &why);
	}
	if (rl->table == NULL && !rl->warned) {
		util_log("rate limits unavailable: %s: %s", path != NULL ? path : RL_FILE, why);
		rl->warned = true;
	}
	free(path);
	return rl->table != NULL;
}

/* Takes the table's mutex within RL_WAIT_NS, on the monotonic clock, so
 * that a step of the wall clock cannot stretch the wait.
 *
 * Past that, the request passes uncounted (fail open) rather than getting
 * a 503. A mutex held that long means a process stopped while holding it
 * (a debugger, SIGSTOP, a machine swapping hard) or garbage in the mutex:
 * nothing a client did. Refusing would turn one stuck process into an
 * outage of the whole service, which is what a limiter is there to
 * prevent, and whoever can stop a process that holds the lock can stop
 * the service anyway. What it costs: while it lasts, requests are not
 * counted, and each waits RL_WAIT_NS. */
static int lock_table(struct rl_table *t)
{
	struct timespec deadline;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += RL_WAIT_NS;
	deadline.tv_sec += deadline.tv_nsec / NS_PER_S;
	deadline.tv_nsec %= NS_PER_S;
	rc = pthread_mutex_clocklock(&t->mutex, CLOCK_MONOTONIC, &deadline);
	if (rc == EOWNERDEAD) {
		/* Its holder died; the buckets are whole (see the top). */
		util_log("rate limits: the table's lock was held by a process that died; taken over");
		rc = pthread_mutex_consistent(&t->mutex);
	}
	return rc;
}

/* Logs the start and the end of a time in which requests pass uncounted,
 * once each per process. */
static void note_stall(struct ratelimit *rl, bool stalled)
{
	if (stalled && !rl->stalled)
		util_log("rate limits not checked: the table's lock stayed held over %lld ms; "
			 "requests pass uncounted meanwhile", (long long)(RL_WAIT_NS / 1000000));
	else if (!stalled && rl->stalled)
		util_log("rate limits checked again");
	rl->stalled = stalled;
}

/* FNV-1a: cheap, and good enough to spread addresses and names. */
static uint64_t hash_key(const char *key, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* The client's slot, or the one it takes over: an unused slot, a full
 * bucket or else the bucket closest to full all have the smallest tat. */
static struct rl_slot *find_slot(struct rl_table *t, const char *key, size_t len)
{
	size_t first = (size_t)(hash_key(key, len) % RL_SLOTS);
	struct rl_slot *spare = NULL;

	for (size_t i = 0; i < RL_PROBE; i++) {
		struct rl_slot *s = &t->slots[(first + i) % RL_SLOTS];

		if (s->len == len && memcmp(s->key, key, len) == 0)
			return s;
		if (spare == NULL || s->tat < spare->tat)
			spare = s;
	}
	spare->tat = 0;
	spare->len = (uint8_t)len;
	memcpy(spare->key, key, len);
	return spare;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	/* Monotonic and system-wide: the same clock in every process, and
	 * deaf to changes of the wall clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static uint32_t ceil_seconds(int64_t ns)
{
	return ns <= 0 ? 0 : (uint32_t)((ns + NS_PER_S - 1) / NS_PER_S);
}

bool rl_bucket_take(int64_t *tat, int64_t now, int64_t interval_ns, uint32_t burst,
		    struct rl_verdict *v)
{
	int64_t window = interval_ns * burst;
	int64_t t = *tat;
	int64_t after;
	bool allow;

	/* A bucket already full is a fresh one; one full only beyond the
	 * window means the monotonic clock started over (a reboot). */
	if (t < now || t - now > window)
		t = now;
	after = t + interval_ns - now;
	allow = after <= window;
	v->limit = burst;
	if (allow) {
		*tat = t + interval_ns;
		v->remaining = (uint32_t)((window - after) / interval_ns);
		v->reset_s = ceil_seconds(after);
		v->retry_after_s = 0;
	} else {
		v->remaining = 0;
		v->reset_s = ceil_seconds(t - now);
		v->retry_after_s = ceil_seconds(after - window);
		if (v->retry_after_s == 0)
			v->retry_after_s = 1;
	}
	return allow;
}

enum rl_status rl_take(struct ratelimit *rl, const char *client, size_t len,
		       struct rl_verdict *v)
{
	struct rl_slot *slot;
	bool allow;
	int rc;

	memset(v, 0, sizeof(*v));
	v->limit = rl->cfg->burst;
	if (rl->table == NULL && !open_table(rl))
		return RL_UNAVAILABLE;
	if (len > RL_KEY_MAX)
		len = RL_KEY_MAX;
	rc = lock_table(rl->table);
	note_stall(rl, rc == ETIMEDOUT);
	if (rc == ETIMEDOUT)
		return RL_UNCHECKED;
	if (rc != 0) {
		util_log("rate limits unavailable: the table's lock failed: %s", strerror(rc));
		return RL_UNAVAILABLE;
	}
	slot = find_slot(rl->table, client, len);
	allow = rl_bucket_take(&slot->tat, now_ns(), rl->interval_ns, rl->cfg->burst, v);
	pthread_mutex_unlock(&rl->table->mutex);
	return allow ? RL_ALLOW : RL_DENY;
}

/* --- Client names -------------------------------------------------------- */

size_t rl_address_key(const char *addr, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	const char *name = addr;
	const char *suffix = "";
	struct in6_addr a6;
	struct in_addr a4;
	int n;

	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			name = inet_ntop(AF_INET, &a4, text, sizeof(text));
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			name = inet_ntop(AF_INET6, &a6, text, sizeof(text));
			suffix = "/64";
		}
	} else if (inet_pton(AF_INET, addr, &a4) == 1) {
		name = inet_ntop(AF_INET, &a4, text, sizeof(text));
	}
	if (name == NULL) {
		name = addr;
		suffix = "";
	}
	n = snprintf(out, size, "a:%s%s", name, suffix);
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/* ratelimit.c: a token bucket per client, shared by every process of a store
 *
 * The web servers run several kvd processes (and plain CGI one per
 * request), so the buckets cannot live in a process. They live in a file in
 * the store directory, RL_FILE, that every process maps MAP_SHARED: a fixed
 * table of buckets guarded by one process-shared robust mutex (the layout
 * is ratelimit_table.h). A process killed while holding the mutex
 * (mod_fcgid and lighttpd SIGKILL workers) leaves it to the next locker as
 * EOWNERDEAD, which takes it over: a bucket is updated with one 64-bit
 * store, so the table is never half-written. The file is not in Berkeley
 * DB on purpose: a limiter check per request must cost far less than a
 * transaction, and must not write the log.
 *
 * Each bucket is one number, its "theoretical arrival time" (generic cell
 * rate algorithm): the monotonic time at which it would be full again.
 * The table is open-addressed; a client's bucket sits in one of RL_PROBE
 * slots after its hash. When all of them hold other clients' buckets that
 * are still refilling, the one closest to full is taken over: its owner
 * gets back at most the few requests it had not yet earned back, and no
 * client is ever refused because the table is full.
 *
 * Whoever can write the store directory can remove, replace, truncate or
 * scribble over the file while processes use it, so nothing in it is
 * trusted:
 *
 * - A table is built whole in RL_TMP and renamed over RL_FILE, under an
 *   flock of the store directory. A process that opens RL_FILE finds the
 *   old file or the whole new one; one that finds it missing or damaged
 *   takes the flock and looks again before it builds, so that processes
 *   that see the same damage rebuild once. A rebuild resets the limiter
 *   (every bucket is full again) and is logged.
 * - Before each use a process fstat()s the file it maps: a link count of
 *   0 means it was removed, or replaced (a rename over it unlinks it), and
 *   the process maps whatever RL_FILE names now, so that no two processes
 *   count in different tables beyond one request; a size below the
 *   table's means truncation. A file moved away keeps its link: a stat()
 *   of RL_FILE, at most once a second, compares the inode: a path lookup
 *   per request would cost more than the limiter's own work.
 * - The header is checked before the mutex is touched: magic, version,
 *   size, and a guard word on each side of the mutex.
 * - A truncation between that fstat() and the access would raise SIGBUS:
 *   every access to a mapping runs in guarded(), which turns that SIGBUS
 *   into a damaged table (see there).
 * - The mutex is taken with a timeout of RL_WAIT_NS, which also bounds
 *   what garbage in the mutex bytes can do beyond the guards. See
 *   lock_table() for what a timeout means. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "ratelimit.h"
#include "ratelimit_table.h"
#include "util.h"

/* Where a new table is built before it is renamed over RL_FILE. */
#define RL_TMP RL_FILE ".new"
/* How far a bucket may sit from its hash's slot. */
#define RL_PROBE 16

#define NS_PER_S INT64_C(1000000000)
/* The longest wait for the table's mutex, and for the directory's flock
 * while another process builds a table. The mutex is held for well under
 * a microsecond; 50 ms is past any scheduling delay of its holder on a
 * busy machine, and short enough that every request still answers
 * promptly while a stopped process holds it. */
#define RL_WAIT_NS (50 * INT64_C(1000000))
/* How often a process checks that RL_FILE still names its file, beyond
 * what fstat() tells it at every request (see the top). */
#define RL_RENAME_CHECK_NS NS_PER_S
/* How often the flock is tried again while another process builds. */
#define RL_FLOCK_POLL_NS (1 * INT64_C(1000000))

/* How a step of rl_take() went. */
enum rl_state {
	RL_STATE_OK,
	RL_STATE_BUSY,		/* the mutex or the flock stayed held: fail open */
	RL_STATE_DAMAGED,	/* the file is not a whole table: rebuild it */
	RL_STATE_FAILED,	/* no table can be opened or built: 503; logged */
	RL_STATE_DENIED,	/* the same, for want of permission: 500; logged */
};

struct ratelimit {
	const struct config *cfg;
	char *path;		/* RL_FILE in the store directory */
	char *tmp_path;		/* RL_TMP */
	struct rl_table *table;	/* mapped on first use; NULL until then */
	int fd;			/* the mapped file, for fstat(); -1 with no table */
	dev_t dev;		/* the mapped file's identity */
	ino_t ino;
	int64_t named_ns;	/* when RL_FILE was last seen to name it */
	int64_t interval_ns;	/* what one request costs */
	mode_t mode;		/* of a new table */
	bool warned;		/* the open failure is logged once per process */
	bool stalled;		/* a lock timeout is logged, until a lock succeeds */
};

/* Drops the mapping: unmapped, unless a fault abandoned it (see guarded()). */
static void forget_table(struct ratelimit *rl)
{
	if (rl->table != NULL)
		munmap(rl->table, sizeof(*rl->table));
	rl->table = NULL;
	if (rl->fd >= 0)
		close(rl->fd);
	rl->fd = -1;
}

struct ratelimit *rl_new(const struct config *cfg)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->cfg = cfg;
	rl->fd = -1;
	rl->path = util_path_join(cfg->store, RL_FILE);
	rl->tmp_path = util_path_join(cfg->store, RL_TMP);
	if (rl->path == NULL || rl->tmp_path == NULL) {
		rl_free(rl);
		return NULL;
	}
	if (cfg->rate != 0)
		rl->interval_ns = (int64_t)cfg->rate_period_s * NS_PER_S / cfg->rate;
	/* The table follows store_mode and store_group as every file of the
	 * store does (the umask cleared for an exact mode, as in kvdb.c). */
	rl->mode = fsutil_store_mode(cfg->store_mode, cfg->store_group != NULL, 0600);
	if (cfg->store_mode != 0 || cfg->store_group != NULL)
		umask(0);
	return rl;
}

void rl_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	forget_table(rl);
	free(rl->path);
	free(rl->tmp_path);
	free(rl);
}

/* --- Guarded access ------------------------------------------------------
 *
 * The file can be truncated under a mapping at any moment, and touching a
 * page past its end raises SIGBUS. The size is checked before each use,
 * which leaves the moment between the check and the access. Rather than
 * narrow it, every access runs in guarded(): a SIGBUS handler, armed only
 * for that access and only for an address inside that mapping, jumps back
 * out of it, and the caller treats the table as damaged. Any other SIGBUS
 * goes where it went before the handler was installed.
 *
 * The access may be interrupted inside the C library's mutex code, or
 * with the mutex locked: the library's bookkeeping of the thread's robust
 * mutexes (a list through the mutexes it holds, kept inside them, and the
 * one it is taking) may then still point into the mapping, and the kernel
 * follows it when the process exits. So the range is never unmapped:
 * private zero pages are mapped over it, and it stays (384 KiB of address
 * space, nothing resident, per fault, and a fault takes a truncation
 * within the microsecond of an access). The robust mutex code holds
 * nothing else that a jump out of it could leave behind.
 *
 * kvd serves one request at a time in one thread, so one jump buffer is
 * enough. */

static struct {
	sigjmp_buf env;
	const char *volatile start;	/* the mapping being accessed */
	volatile size_t len;
	volatile sig_atomic_t armed;
	volatile sig_atomic_t installed;
	struct sigaction previous;
} rl_fault;

static void on_sigbus(int sig, siginfo_t *si, void *context)
{
	const char *addr = si->si_addr;

	(void)context;
	/* si_code > 0: raised by the kernel for an access, not sent. */
	if (rl_fault.armed && si->si_code > 0 && addr >= rl_fault.start &&
	    addr < rl_fault.start + rl_fault.len) {
		rl_fault.armed = 0;
		siglongjmp(rl_fault.env, 1);
	}
	/* Not the table's: as if this handler had never been installed. A
	 * fault comes back when the instruction runs again; a signal that
	 * was sent is sent again. */
	sigaction(SIGBUS, &rl_fault.previous, NULL);
	rl_fault.installed = 0;
	if (si->si_code <= 0)
		raise(sig);
}

static void install_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	rl_fault.installed = sigaction(SIGBUS, &sa, &rl_fault.previous) == 0;
}

/* Replaces a mapping that faulted by private zero pages, for good (see
 * above). Should that fail, the mapping stays as it is: nothing of kv
 * touches it again either way. */
static void abandon(struct rl_table *t)
{
	mmap(t, sizeof(*t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* Runs access(t, arg). Returns false when it faulted: t is abandoned then
 * and must be forgotten, not unmapped. */
static bool guarded(struct rl_table *t, void (*access)(struct rl_table *, void *), void *arg)
{
	if (!rl_fault.installed)
		install_sigbus();
	rl_fault.start = (const char *)t;
	rl_fault.len = sizeof(*t);
	/* The mask is not saved, which costs a system call; the handler
	 * runs with SIGBUS blocked, so the way back unblocks it. */
	if (sigsetjmp(rl_fault.env, 0) != 0) {
		sigset_t bus;

		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		sigprocmask(SIG_UNBLOCK, &bus, NULL);
		abandon(t);
		return false;
	}
	rl_fault.armed = 1;
	atomic_signal_fence(memory_order_seq_cst);
	access(t, arg);
	atomic_signal_fence(memory_order_seq_cst);
	rl_fault.armed = 0;
	return true;
}

/* --- The file ----------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	/* Monotonic and system-wide: the same clock in every process, and
	 * deaf to changes of the wall clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S };

	nanosleep(&ts, NULL);
}

static bool header_valid(const struct rl_header *h)
{
	return h->magic == RL_MAGIC && h->version == RL_VERSION &&
	       h->size == sizeof(struct rl_table) && h->guard_before == RL_GUARD &&
	       h->guard_after == RL_GUARD;
}

struct rl_check {
	bool valid;
};

static void check_header(struct rl_table *t, void *arg)
{
	struct rl_check *c = arg;

	c->valid = header_valid(&t->h);
}

struct rl_init {
	bool ok;
};

/* A fresh file is all zeros: the slots are unused already. */
static void init_header(struct rl_table *t, void *arg)
{
	struct rl_init *in = arg;
	pthread_mutexattr_t attr;

	in->ok = false;
	if (pthread_mutexattr_init(&attr) != 0)
		return;
	in->ok = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0 &&
		 pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0 &&
		 pthread_mutex_init(&t->h.mutex, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	if (!in->ok)
		return;
	t->h.version = RL_VERSION;
	t->h.size = sizeof(*t);
	t->h.guard_before = RL_GUARD;
	t->h.guard_after = RL_GUARD;
	t->h.magic = RL_MAGIC;
}

static void adopt(struct ratelimit *rl, struct rl_table *t, int fd, const struct stat *st)
{
	rl->table = t;
	rl->fd = fd;
	rl->dev = st->st_dev;
	rl->ino = st->st_ino;
	rl->named_ns = now_ns();
}

enum rl_found {
	RL_FOUND,
	RL_MISSING,
	RL_BAD,			/* damaged (*why says how), or the file bad */
	RL_FAILED,		/* cannot be opened or mapped (*why says why) */
};

/* Maps the table at rl->path, unless it is the file bad (when not NULL). */
static enum rl_found map_existing(struct ratelimit *rl, const struct stat *bad, const char **why)
{
	enum rl_found found = RL_FAILED;
	struct rl_check check = { false };
	struct rl_table *t;
	struct stat st;
	int fd;

	fd = open(rl->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*why = strerror(errno);
		return errno == ENOENT ? RL_MISSING : RL_FAILED;
	}
	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto out;
	}
	found = RL_BAD;
	if (bad != NULL && st.st_dev == bad->st_dev && st.st_ino == bad->st_ino)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)sizeof(*t)) {
		*why = "had the wrong size";
		goto out;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		*why = strerror(errno);
		found = RL_FAILED;
		goto out;
	}
	if (!guarded(t, check_header, &check)) {
		*why = "was truncated while being opened";
		goto out;
	}
	if (!check.valid) {
		munmap(t, sizeof(*t));
		*why = "had no valid header";
		goto out;
	}
	adopt(rl, t, fd, &st);
	return RL_FOUND;
out:
	close(fd);
	return found;
}

/* Builds a table in RL_TMP and renames it over RL_FILE; the directory's
 * flock is held. reason says what became of the last one, for the log. */
static bool build_table(struct ratelimit *rl, const char *reason, const char **why)
{
	struct rl_init init = { false };
	struct rl_table *t = MAP_FAILED;
	struct stat st;
	int fd, rc;

	/* A builder killed half-way leaves it behind. */
	unlink(rl->tmp_path);
	fd = open(rl->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, rl->mode);
	if (fd < 0 || fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto fail;
	}
	/* Allocated, not sparse: a full disk fails here, not as SIGBUS later. */
	if ((rc = posix_fallocate(fd, 0, sizeof(*t))) != 0) {
		*why = strerror(rc);
		goto fail;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		*why = strerror(errno);
		goto fail;
	}
	if (!guarded(t, init_header, &init)) {
		t = MAP_FAILED;
		*why = "the new table was truncated while being built";
		goto fail;
	}
	if (!init.ok) {
		*why = "its lock cannot be set up";
		goto fail;
	}
	if (rename(rl->tmp_path, rl->path) != 0) {
		*why = strerror(errno);
		goto fail;
	}
	adopt(rl, t, fd, &st);
	if (reason == NULL)
		util_log("rate limits: created the table %s", rl->path);
	else
		util_log("rate limits reset: %s %s; a new table has every bucket full",
			 rl->path, reason);
	return true;
fail:
	if (t != MAP_FAILED)
		munmap(t, sizeof(*t));
	if (fd >= 0) {
		close(fd);
		unlink(rl->tmp_path);
	}
	return false;
}

/* The store directory's flock, taken within RL_WAIT_NS: it serialises the
 * builders. The directory itself, because it cannot be removed or
 * replaced under a running store, as a lock file could. Returns the
 * descriptor; -1 when another process held it all along (*why NULL) or on
 * an error (*why says which). */
static int lock_dir(const char *dir, const char **why)
{
	int64_t deadline = now_ns() + RL_WAIT_NS;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*why = NULL;
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			*why = strerror(errno);
			break;
		}
		if (now_ns() >= deadline)
			break;
		sleep_ns(RL_FLOCK_POLL_NS);
	}
	close(fd);
	return -1;
}

/* What this process's user may not use, when that is why the table
 * cannot be opened or built: the store directory, or the table; NULL when
 * the cause is another. */
static const char *denied_path(const struct ratelimit *rl)
{
	int ret = fsutil_can_use(rl->cfg->store, true);

	if (ret == EACCES || ret == EPERM)
		return rl->cfg->store;
	ret = fsutil_can_use(rl->path, false);
	return ret == EACCES || ret == EPERM ? rl->path : NULL;
}

static enum rl_state failed(struct ratelimit *rl, const char *why)
{
	const char *denied = denied_path(rl);
	char explained[512];

	/* A directory this process may not use is the store's to report: it
	 * looks at each process's start (kvdb.c), and one line says it. */
	if (denied == rl->cfg->store) {
		rl->warned = true;
	} else if (!rl->warned && denied != NULL) {
		fsutil_explain(denied, explained, sizeof(explained));
		util_log("rate limits unavailable: %s; fix: " FSUTIL_PERM_FIX, explained);
	} else if (!rl->warned) {
		util_log("rate limits unavailable: %s: %s", rl->path, why);
	}
	rl->warned = true;
	return denied != NULL ? RL_STATE_DENIED : RL_STATE_FAILED;
}

/* Under the directory's flock: maps the table RL_FILE names, unless it is
 * the file bad (not NULL when rl_take() found it damaged), else builds one.
 * reason says what became of the last table, for the log; NULL when there
 * was none. */
static enum rl_state open_locked(struct ratelimit *rl, const struct stat *bad, const char *reason)
{
	enum rl_state state = RL_STATE_FAILED;
	enum rl_found found;
	const char *why;
	int dir = lock_dir(rl->cfg->store, &why);

	if (dir < 0)
		return why == NULL ? RL_STATE_BUSY : failed(rl, why);
	why = reason;
	found = map_existing(rl, bad, &why);
	if (found == RL_FOUND)
		state = RL_STATE_OK;
	else if (found != RL_FAILED &&
		 build_table(rl, found == RL_MISSING ? reason : why, &why))
		state = RL_STATE_OK;
	/* close() alone would do; the flock is the directory's, not ours. */
	flock(dir, LOCK_UN);
	close(dir);
	return state == RL_STATE_FAILED ? failed(rl, why) : state;
}

/* Whether RL_FILE still names the mapped file, which fstat() says is
 * linked: a stat() of the path at most every RL_RENAME_CHECK_NS (see the
 * top). */
static bool still_named(struct ratelimit *rl)
{
	int64_t now = now_ns();
	struct stat st;

	if (now - rl->named_ns < RL_RENAME_CHECK_NS)
		return true;
	if (stat(rl->path, &st) != 0)
		return errno != ENOENT;	/* another error: cannot tell */
	if (st.st_dev != rl->dev || st.st_ino != rl->ino)
		return false;
	rl->named_ns = now;
	return true;
}

/* Makes rl->table the table RL_FILE names now; see the top for what that
 * costs. RL_STATE_DAMAGED (*reason says why) when it is the same file,
 * but short. */
static enum rl_state attach(struct ratelimit *rl, const char **reason)
{
	const char *why = NULL;
	enum rl_found found;
	struct stat st;

	*reason = NULL;
	if (rl->table != NULL) {
		bool linked = fstat(rl->fd, &st) == 0 && st.st_nlink > 0;

		if (linked && still_named(rl)) {
			if (st.st_size >= (off_t)sizeof(*rl->table))
				return RL_STATE_OK;
			*reason = "was truncated";
			return RL_STATE_DAMAGED;
		}
		/* Removed, or replaced (which unlinks it too), or moved away:
		 * follow the name. The reason serves if nothing has it now. */
		*reason = "was removed";
		forget_table(rl);
	}
	/* A whole table needs no lock to be mapped: the usual case. */
	found = map_existing(rl, NULL, &why);
	if (found == RL_FOUND)
		return RL_STATE_OK;
	if (found == RL_FAILED)
		return failed(rl, why);
	return open_locked(rl, NULL, *reason);
}

/* The mapped table is damaged: forget it and have it rebuilt, once for
 * all the processes that see the same damage. rl->dev and rl->ino still
 * name the file when a fault has already dropped rl->table. */
static enum rl_state rebuild(struct ratelimit *rl, const char *reason)
{
	struct stat bad;

	memset(&bad, 0, sizeof(bad));
	bad.st_dev = rl->dev;
	bad.st_ino = rl->ino;
	forget_table(rl);
	return open_locked(rl, &bad, reason);
}

/* --- The buckets --------------------------------------------------------- */

/* Takes the table's mutex within RL_WAIT_NS, on the monotonic clock, so
 * that a step of the wall clock cannot stretch the wait.
 *
 * Past that, the request passes uncounted (fail open) rather than getting
 * a 503. A mutex held that long means a process stopped while holding it
 * (a debugger, SIGSTOP, a machine swapping hard) or garbage in the mutex
 * that the guards did not catch: nothing a client did. Refusing would turn
 * one stuck process into an outage of the whole service, which is what a
 * limiter is there to prevent, and whoever can stop a process that holds
 * the lock can stop the service anyway. What it costs: while it lasts,
 * requests are not counted, and each waits RL_WAIT_NS. */
/* Whether the table's mutex is still of the kind init_header() made:
 * glibc keeps a mutex's type in its kind word. With garbage there the C
 * library takes the lock for another kind of mutex, one it may link into
 * the thread's list of robust mutexes and never take out again; once the
 * damaged table is unmapped, the next robust lock anywhere in the process
 * follows that link into nothing. Such a table is damaged, never locked. */
static bool mutex_kind_valid(const struct rl_table *t)
{
	static int kind = -1;

	if (kind == -1) {
		pthread_mutexattr_t attr;
		pthread_mutex_t m;

		if (pthread_mutexattr_init(&attr) != 0)
			return false;
		if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0 &&
		    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0 &&
		    pthread_mutex_init(&m, &attr) == 0) {
			kind = m.__data.__kind;
			pthread_mutex_destroy(&m);
		}
		pthread_mutexattr_destroy(&attr);
	}
	return kind != -1 && t->h.mutex.__data.__kind == kind;
}

static int lock_table(struct rl_table *t, bool *owner_died)
{
	struct timespec deadline;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += RL_WAIT_NS;
	deadline.tv_sec += deadline.tv_nsec / NS_PER_S;
	deadline.tv_nsec %= NS_PER_S;
	rc = pthread_mutex_clocklock(&t->h.mutex, CLOCK_MONOTONIC, &deadline);
	if (rc == EOWNERDEAD) {
		/* Its holder died; the buckets are whole (see the top). */
		*owner_died = true;
		rc = pthread_mutex_consistent(&t->h.mutex);
	}
	return rc;
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

/* One take, as guarded() runs it: everything that touches the mapping. */
struct rl_take {
	const char *key;
	size_t len;
	int64_t interval_ns;
	uint32_t burst;
	struct rl_verdict *v;
	enum rl_state state;	/* out */
	const char *reason;	/* out: why DAMAGED */
	bool allow;		/* out, when OK */
	bool owner_died;	/* out: EOWNERDEAD was taken over */
};

static void take_access(struct rl_table *t, void *arg)
{
	struct rl_take *a = arg;
	struct rl_slot *slot;
	int rc;

	if (!header_valid(&t->h)) {
		a->state = RL_STATE_DAMAGED;
		a->reason = "had no valid header";
		return;
	}
	if (!mutex_kind_valid(t)) {
		a->state = RL_STATE_DAMAGED;
		a->reason = "had a damaged lock";
		return;
	}
	rc = lock_table(t, &a->owner_died);
	if (rc == ETIMEDOUT) {
		a->state = RL_STATE_BUSY;
		return;
	}
	if (rc != 0) {
		a->state = RL_STATE_DAMAGED;
		a->reason = rc == ENOTRECOVERABLE ? "had a lock that cannot be recovered"
						  : "had a damaged lock";
		return;
	}
	slot = find_slot(t, a->key, a->len);
	a->allow = rl_bucket_take(&slot->tat, now_ns(), a->interval_ns, a->burst, a->v);
	if (pthread_mutex_unlock(&t->h.mutex) != 0) {
		a->state = RL_STATE_DAMAGED;
		a->reason = "had a damaged lock";
		return;
	}
	a->state = RL_STATE_OK;
}

static enum rl_state take_once(struct ratelimit *rl, struct rl_take *a)
{
	a->owner_died = false;
	if (!guarded(rl->table, take_access, a)) {
		/* Abandoned by guarded(); rl->dev and rl->ino stay for rebuild(). */
		rl->table = NULL;
		forget_table(rl);
		a->reason = "was truncated during an access";
		return RL_STATE_DAMAGED;
	}
	if (a->owner_died)
		util_log("rate limits: the table's lock was held by a process that died; taken over");
	return a->state;
}

/* Logs the start and the end of a time in which requests pass uncounted,
 * once each per process. */
static void note_stall(struct ratelimit *rl, enum rl_state state)
{
	if (state == RL_STATE_BUSY && !rl->stalled) {
		util_log("rate limits not checked: a lock of the table stayed held over %lld ms; "
			 "requests pass uncounted meanwhile", (long long)(RL_WAIT_NS / 1000000));
		rl->stalled = true;
	} else if (state == RL_STATE_OK && rl->stalled) {
		util_log("rate limits checked again");
		rl->stalled = false;
	}
}

enum rl_status rl_take(struct ratelimit *rl, const char *client, size_t len,
		       struct rl_verdict *v)
{
	struct rl_take a = {
		.key = client,
		.len = len > RL_KEY_MAX ? RL_KEY_MAX : len,
		.interval_ns = rl->interval_ns,
		.burst = rl->cfg->burst,
		.v = v,
	};
	const char *reason;
	enum rl_state state;

	memset(v, 0, sizeof(*v));
	v->limit = rl->cfg->burst;
	state = attach(rl, &reason);
	/* A table damaged again right after its rebuild gets one more. */
	for (int round = 0; round < 2; round++) {
		if (state == RL_STATE_DAMAGED)
			state = rebuild(rl, reason);
		if (state != RL_STATE_OK)
			break;
		state = take_once(rl, &a);
		reason = a.reason;
		if (state != RL_STATE_DAMAGED)
			break;
	}
	note_stall(rl, state);
	switch (state) {
	case RL_STATE_OK:
		return a.allow ? RL_ALLOW : RL_DENY;
	case RL_STATE_FAILED:
		return RL_UNAVAILABLE;
	case RL_STATE_DENIED:
		return RL_PERMISSION;
	default:
		/* Busy, or damaged over and over: fail open, as for a lock held
		 * too long (see lock_table()). */
		return RL_UNCHECKED;
	}
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

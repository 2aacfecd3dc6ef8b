/* store_join.c: joining the store's environment, and recovering it */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_join.h"
#include "util.h"

/* How a process opens an environment that needs no recovery: without
 * DB_CREATE, so that missing regions are a reason to recover, not to start
 * afresh beside a log that may hold commits. Not with DB_FAILCHK, which
 * would run failchk inside the open where no lock can serialise it: the
 * joiner runs store_join_failchk() right after, to release what processes
 * that died outside the library's critical sections left behind, and to
 * learn of one that died inside. */
#define JOIN_FLAGS (DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN)

/* How the recovering process opens it, alone: rebuilds the regions from
 * the log (creating them for a new store). */
#define RECOVER_FLAGS (DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | \
		       DB_INIT_TXN | DB_RECOVER)

/* Pauses between attempts at a lock held by others. */
#define POLL_MIN_US 500
#define POLL_MAX_US 20000

/* The byte of the lock file whose lock elects the process that runs a
 * checkpoint: past the header, which never grows that far. */
#define CHECKPOINT_BYTE 4096

/* The byte whose lock serialises failchk among the store's processes, and
 * how long one waits for it. */
#define FAILCHK_BYTE 4097
#define FAILCHK_WAIT_US 2000000

/* The slots of a replicated store's processes (see "slots" below): one
 * record each, past the lock bytes above, and one lock byte each, further
 * on. */
#define SLOTS 1024
#define SLOT_RECORDS 8192
#define SLOT_LOCKS 65536

#define JOIN_MAGIC "kv-lock1"
#define BOOT_ID_LEN 40

/* The lock file's contents. Written whole under the exclusive lock after a
 * recovery; `wanted` alone by anyone, at any time. */
struct join_header {
	char magic[8];
	uint64_t generation;	/* recoveries so far */
	uint32_t wanted;	/* nonzero: the environment needs recovery */
	uint32_t flags;		/* the open flags the regions were made for:
				 * a replicated store's differ (replica.h) */
	char boot_id[BOOT_ID_LEN];	/* the machine's boot of the last recovery */
};

struct store_join {
	char *dir;
	char *lock_path;
	unsigned mode;		/* of the files it creates */
	uint32_t flags;		/* added to every open */
	uint32_t handle_flags;	/* added to every open, not recorded */
	store_join_configure_fn configure;
	void *arg;
	int fd;			/* the lock file, or -1 */
	struct stat fd_stat;	/* what fd was when opened */
	DB_ENV *env;		/* open under the shared lock, or NULL */
	uint64_t generation;	/* the header's when env was opened */
	int slot;		/* the slot held, or -1 */
};

/* A slot's record: the process that holds it, while it is inside. */
struct slot_record {
	int32_t pid;		/* 0: nobody */
	uint32_t inside;
};

/* The lock file of the environment this process holds, for the watchdog. */
static volatile int signal_fd = -1;

static const uint32_t wanted_mark = 1;

/* ---- the header ---- */

/* The machine's boot, so that regions left by an earlier boot are
 * recovered: their mutexes may be held by processes that no longer exist.
 * Empty where the system does not say. */
static const char *boot_id(void)
{
	static char id[BOOT_ID_LEN];
	static bool known;
	ssize_t n;
	int fd;

	if (known)
		return id;
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, id, sizeof(id) - 1);
		close(fd);
		if (n > 0 && id[n - 1] == '\n')
			n--;
		id[n > 0 ? n : 0] = '\0';
	}
	known = true;
	return id;
}

/* Whether the header says the environment can be joined as it is, with
 * regions made for flags; false for a new, short or foreign file too. A
 * store whose replication was turned on or off needs recovery, which
 * makes its regions again: Berkeley DB refuses to open regions made with
 * other flags. */
static bool header_current(int fd, uint32_t flags, uint64_t *generation)
{
	struct join_header h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return false;
	if (memcmp(h.magic, JOIN_MAGIC, sizeof(h.magic)) != 0 || h.wanted != 0 ||
	    h.flags != flags)
		return false;
	h.boot_id[BOOT_ID_LEN - 1] = '\0';
	if (strcmp(h.boot_id, boot_id()) != 0)
		return false;
	*generation = h.generation;
	return true;
}

static uint64_t header_generation(int fd)
{
	struct join_header h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, JOIN_MAGIC, sizeof(h.magic)) != 0)
		return 0;
	return h.generation;
}

static int header_write(int fd, uint64_t generation, uint32_t flags)
{
	struct join_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, JOIN_MAGIC, sizeof(h.magic));
	h.generation = generation;
	h.flags = flags;
	memcpy(h.boot_id, boot_id(), strlen(boot_id()));	/* < BOOT_ID_LEN */
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return errno != 0 ? errno : EIO;
	return 0;
}

static void mark_wanted(int fd)
{
	if (pwrite(fd, &wanted_mark, sizeof(wanted_mark),
		   offsetof(struct join_header, wanted)) < 0)
		util_log("cannot ask for the store's recovery: %s", strerror(errno));
}

/* ---- the lock file ---- */

static void slot_release(struct store_join *j);

static void lock_close(struct store_join *j)
{
	slot_release(j);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

/* Opens the lock file afresh, creating it in an existing directory: the
 * one held before may have been removed with its directory, or replaced. */
static int lock_open(struct store_join *j)
{
	lock_close(j);
	j->fd = open(j->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, (mode_t)j->mode);
	if (j->fd < 0)
		return errno;
	if (fstat(j->fd, &j->fd_stat) != 0) {
		int err = errno;

		lock_close(j);
		return err;
	}
	return 0;
}

static bool lock_try(int fd, int how)
{
	return flock(fd, how | LOCK_NB) == 0;
}

/* An open file description's lock (F_OFD_SETLK) on one byte: unlike a
 * process's fcntl lock, closing another descriptor of the file does not
 * drop it; unlike flock, it leaves the shared lock alone. */
static bool byte_lock(struct store_join *j, off_t byte, short type)
{
	struct flock fl = {
		.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
	};

	return j->fd >= 0 && fcntl(j->fd, F_OFD_SETLK, &fl) == 0;
}

bool store_join_checkpoint_claim(struct store_join *j)
{
	return byte_lock(j, CHECKPOINT_BYTE, F_WRLCK);
}

void store_join_checkpoint_release(struct store_join *j)
{
	(void)byte_lock(j, CHECKPOINT_BYTE, F_UNLCK);
}

/* ---- slots ----
 *
 * failchk releases what a killed process left in the locking and
 * transaction regions, but not the Replication Manager's state in the
 * replication region: a killed replication process can leave it locked out
 * for a role change it never finished, and every later call waits on that
 * for good. So in a replicated store a process that did not leave cleanly
 * calls for a recovery, not a failchk.
 *
 * Each joined process of a replicated store holds a slot: an open file
 * description's lock on the slot's byte, which the kernel drops when the
 * process dies, and a record that says "inside", which only a clean leave
 * clears. A record that says inside with nobody holding its lock is a
 * process that died inside; a recovery clears every record. */

static off_t slot_record_at(int i)
{
	return SLOT_RECORDS + (off_t)i * (off_t)sizeof(struct slot_record);
}

static bool slot_read(const struct store_join *j, int i, struct slot_record *r)
{
	memset(r, 0, sizeof(*r));
	return pread(j->fd, r, sizeof(*r), slot_record_at(i)) >= 0;
}

static bool slot_write(const struct store_join *j, int i, pid_t pid, bool inside)
{
	struct slot_record r = { .pid = (int32_t)pid, .inside = inside };

	return pwrite(j->fd, &r, sizeof(r), slot_record_at(i)) == (ssize_t)sizeof(r);
}

/* Whether a process left a slot's record inside and is gone: its lock is
 * free to take, and the record, read under it, still says inside. */
static bool slot_abandoned(struct store_join *j, int i)
{
	struct slot_record r;
	bool gone;

	if (!byte_lock(j, SLOT_LOCKS + i, F_WRLCK))
		return false;	/* held: its process lives */
	gone = slot_read(j, i, &r) && r.inside != 0;
	(void)byte_lock(j, SLOT_LOCKS + i, F_UNLCK);
	if (gone)
		util_log("process %ld stopped without leaving the store", (long)r.pid);
	return gone;
}

/* Takes a free slot and marks it inside. EAGAIN when a process died inside
 * (the store wants recovery: left for the caller to ask for), ENOSPC when
 * every slot is taken. */
static int slot_take(struct store_join *j)
{
	struct slot_record all[SLOTS];
	int free_slot = -1;

	memset(all, 0, sizeof(all));
	if (pread(j->fd, all, sizeof(all), SLOT_RECORDS) < 0)
		return errno;
	for (int i = 0; i < SLOTS; i++) {
		if (all[i].inside != 0 && slot_abandoned(j, i))
			return EAGAIN;
		if (all[i].inside == 0 && free_slot < 0)
			free_slot = i;
	}
	for (int i = free_slot < 0 ? SLOTS : free_slot; i < SLOTS; i++) {
		struct slot_record r;

		if (all[i].inside != 0 || !byte_lock(j, SLOT_LOCKS + i, F_WRLCK))
			continue;
		/* Taken and left again since the records were read? */
		if (!slot_read(j, i, &r) || r.inside != 0 || !slot_write(j, i, getpid(), true)) {
			(void)byte_lock(j, SLOT_LOCKS + i, F_UNLCK);
			continue;
		}
		j->slot = i;
		return 0;
	}
	util_log("more than %d processes are inside the store", SLOTS);
	return ENOSPC;
}

/* A clean leave: the record first, so that nobody sees it inside and
 * unlocked. */
static void slot_release(struct store_join *j)
{
	if (j->slot < 0)
		return;
	(void)slot_write(j, j->slot, 0, false);
	(void)byte_lock(j, SLOT_LOCKS + j->slot, F_UNLCK);
	j->slot = -1;
}

/* After a recovery, under the exclusive lock: nobody is inside. */
static int slots_clear(struct store_join *j)
{
	static const struct slot_record none[SLOTS];

	if (pwrite(j->fd, none, sizeof(none), SLOT_RECORDS) != (ssize_t)sizeof(none))
		return errno != 0 ? errno : EIO;
	return 0;
}

/* ---- failure checks ---- */

int store_join_failchk(struct store_join *j, DB_ENV *env)
{
	int64_t deadline = util_monotonic_us() + FAILCHK_WAIT_US;
	unsigned pause = POLL_MIN_US;
	int ret;

	/* Polled, not waited for in the kernel: a holder stopped by a
	 * signal must not stop every joiner behind it. */
	while (!byte_lock(j, FAILCHK_BYTE, F_WRLCK)) {
		if (j->fd < 0 || util_monotonic_us() >= deadline)
			return 0;	/* the holder checks, or the next call does */
		usleep(pause);
		if (pause < POLL_MAX_US)
			pause *= 2;
	}
	ret = env->failchk(env, 0);
	(void)byte_lock(j, FAILCHK_BYTE, F_UNLCK);
	return ret;
}

/* ---- opening ---- */

static int env_open(struct store_join *j, u_int32_t flags, DB_ENV **out)
{
	DB_ENV *env = NULL;
	int ret;

	*out = NULL;
	if ((ret = db_env_create(&env, 0)) != 0)
		goto out;
	if ((ret = j->configure(env, j->arg)) != 0)
		goto out;
	if ((ret = env->open(env, j->dir, flags | j->flags | j->handle_flags, (int)j->mode)) != 0)
		goto out;
	*out = env;
	env = NULL;
out:
	if (env != NULL)
		env->close(env, 0);
	return ret;
}

/* Under the exclusive lock: recovers the environment unless another
 * process did so since this one saw the need. */
static int recover(struct store_join *j)
{
	uint64_t generation;
	DB_ENV *env;
	int ret;

	if (header_current(j->fd, j->flags, &generation))
		return 0;
	generation = header_generation(j->fd) + 1;
	util_log("recovering the store (recovery %llu)", (unsigned long long)generation);
	if ((ret = env_open(j, RECOVER_FLAGS, &env)) == 0) {
		/* A checkpoint writes the first log file of a new store, which
		 * a process joining without DB_CREATE could not create. */
		ret = env->txn_checkpoint(env, 0, 0, DB_FORCE);
		env->close(env, 0);
	}
	if (ret != 0) {
		if (ret != EACCES && ret != EPERM)
			util_log("the store's recovery failed: %s", db_strerror(ret));
		return ret;
	}
	if ((ret = slots_clear(j)) != 0 || (ret = header_write(j->fd, generation, j->flags)) != 0) {
		util_log("cannot record the store's recovery: %s", strerror(ret));
		return ret;
	}
	util_log("the store was recovered");
	return 0;
}

/* Under the shared lock, with a header that says no recovery is wanted:
 * opens the environment. DB_RUNRECOVERY or missing regions turn into a
 * request for recovery and EAGAIN, to go round again. */
static int join(struct store_join *j, uint64_t generation)
{
	int ret;

	/* In a replicated store, one that died inside calls for recovery
	 * (see "slots"). */
	if ((j->flags & DB_INIT_REP) != 0 && (ret = slot_take(j)) != 0) {
		if (ret != EAGAIN)
			return ret;
		util_log("a process of a replicated store died inside it; asking for its recovery");
		mark_wanted(j->fd);
		return EAGAIN;
	}
	/* An open stuck behind a mutex of a dead process ends in the
	 * watchdog, which asks for recovery through signal_fd. */
	signal_fd = j->fd;
	if ((ret = env_open(j, JOIN_FLAGS, &j->env)) == 0 &&
	    (ret = store_join_failchk(j, j->env)) == 0) {
		j->generation = generation;
		return 0;
	}
	if (j->env != NULL) {
		j->env->close(j->env, 0);
		j->env = NULL;
	}
	signal_fd = -1;
	slot_release(j);
	if (ret == DB_RUNRECOVERY || ret == ENOENT) {
		util_log(ret == ENOENT ? "the store's shared regions are missing; asking for recovery"
				       : "a process died inside the store; asking for its recovery");
		mark_wanted(j->fd);
		return EAGAIN;
	}
	if (ret != EACCES && ret != EPERM)
		util_log("cannot open the store: %s", db_strerror(ret));
	return ret;
}

/* One attempt: 0 when joined, EAGAIN to try again after a pause, else an
 * error. No lock is held when it returns anything but 0. */
static int attempt(struct store_join *j)
{
	uint64_t generation;
	int ret;

	if (lock_try(j->fd, LOCK_SH)) {
		if (header_current(j->fd, j->flags, &generation)) {
			if ((ret = join(j, generation)) == 0)
				return 0;
			flock(j->fd, LOCK_UN);
			return ret;
		}
		flock(j->fd, LOCK_UN);
	}
	/* A recovery is wanted (or under way): run it when nobody is inside. */
	if (!lock_try(j->fd, LOCK_EX))
		return EAGAIN;
	ret = recover(j);
	flock(j->fd, LOCK_UN);
	return ret == 0 ? EAGAIN : ret;
}

int store_join_enter(struct store_join *j, unsigned wait_ms, DB_ENV **env)
{
	int64_t deadline = util_monotonic_us() + (int64_t)wait_ms * 1000;
	unsigned pause = POLL_MIN_US;
	bool waited = false;
	int ret;

	if (j->env != NULL)
		goto out;
	if ((ret = lock_open(j)) != 0) {
		if (ret != EACCES && ret != EPERM)
			util_log("cannot open the store's lock file: %s", strerror(ret));
		return ret;
	}
	/* The first round that recovers goes round once more at once, to
	 * join what it recovered. */
	while ((ret = attempt(j)) == EAGAIN) {
		if (util_monotonic_us() >= deadline) {
			util_log("the store is being recovered; the request was not served");
			return STORE_JOIN_BUSY;
		}
		if (waited) {
			usleep(pause);
			if (pause < POLL_MAX_US)
				pause *= 2;
		}
		waited = true;
	}
	if (ret != 0)
		return ret;
out:
	*env = j->env;
	return 0;
}

void store_join_leave(struct store_join *j)
{
	if (j->env != NULL) {
		signal_fd = -1;
		j->env->close(j->env, 0);
		j->env = NULL;
	}
	lock_close(j);	/* drops the shared lock */
}

/* ---- watching ---- */

enum store_join_state store_join_check(struct store_join *j, bool thorough)
{
	struct stat now;
	uint64_t generation;

	if (j->env == NULL)
		return STORE_JOIN_STALE;
	if (fstat(j->fd, &now) != 0 || now.st_nlink == 0)
		return STORE_JOIN_GONE;
	if (thorough && (stat(j->lock_path, &now) != 0 || now.st_ino != j->fd_stat.st_ino ||
			 now.st_dev != j->fd_stat.st_dev))
		return STORE_JOIN_GONE;
	if (!header_current(j->fd, j->flags, &generation) || generation != j->generation)
		return STORE_JOIN_STALE;
	return STORE_JOIN_CURRENT;
}

void store_join_renew(struct store_join *j)
{
	uint64_t generation;

	if (j->fd < 0 || j->env == NULL)
		return;
	generation = header_generation(j->fd) + 1;
	if (pwrite(j->fd, &generation, sizeof(generation),
		   offsetof(struct join_header, generation)) != (ssize_t)sizeof(generation)) {
		util_log("cannot ask the store's processes to join again: %s", strerror(errno));
		return;
	}
	j->generation = generation;
}

void store_join_want_recovery(struct store_join *j)
{
	if (j->fd >= 0)
		mark_wanted(j->fd);
	if (j->env != NULL)
		j->env->set_flags(j->env, DB_PANIC_ENVIRONMENT, 1);
}

void store_join_want_recovery_signal(void)
{
	int fd = signal_fd;

	if (fd >= 0 && pwrite(fd, &wanted_mark, sizeof(wanted_mark),
			      offsetof(struct join_header, wanted)) < 0)
		return;
}

/* ---- life ---- */

void store_join_handle_flags(struct store_join *j, uint32_t flags)
{
	j->handle_flags = flags;
}

struct store_join *store_join_new(const char *dir, unsigned mode, uint32_t flags,
				  store_join_configure_fn configure, void *arg)
{
	struct store_join *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->fd = -1;
	j->slot = -1;
	j->mode = mode;
	j->flags = flags;
	j->configure = configure;
	j->arg = arg;
	j->dir = strdup(dir);
	j->lock_path = util_path_join(dir, STORE_LOCK_FILE);
	if (j->dir == NULL || j->lock_path == NULL) {
		store_join_free(j);
		return NULL;
	}
	return j;
}

void store_join_free(struct store_join *j)
{
	if (j == NULL)
		return;
	store_join_leave(j);
	free(j->dir);
	free(j->lock_path);
	free(j);
}

/* kvdb.c: the database core under the service and kvctl */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "changelog.h"
#include "flusher.h"
#include "fsutil.h"
#include "kvdb.h"
#include "ratelimit.h"
#include "replica.h"
#include "store_join.h"
#include "util.h"
#include "wake.h"
#include "watchdog.h"

/* The btree page size of newly created databases. Berkeley DB moves an
 * item larger than about a quarter of a page to overflow pages of its own;
 * 16 KiB pages keep values up to about 4 KiB in the leaf, read and written
 * with it. Existing databases keep their page size. */
#define PAGESIZE (16u << 10)

/* How long one lock wait may last before it fails: the waits outside
 * transactions (reads, opening the databases); transactions do not wait. */
#define LOCK_TIMEOUT_US (500 * 1000)

/* Locks and locked objects the lock table has room for. A transaction
 * holds a lock on every page it reads or writes until it ends, and a
 * recursive delete (store_subtree.c) touches every leaf page of its
 * subtree: 100,000 keys, max_recursive_delete's default, of values up to
 * about 1.5 KiB fit in fewer than 20,000 pages of 16 KiB. The table then
 * takes 1.9 MB of the environment's first region file, 400 KB without. */
#define LOCKS 20000

/* Slots in the environment's thread table, one per process that has joined
 * it (web server workers, plain CGI runs, admin commands); dead ones are
 * reclaimed by failchk. */
#define THREADS 512

/* Transactions never wait inside Berkeley DB for a lock (DB_TXN_NOWAIT):
 * a lock wait there ends only when the holder lets go or someone runs the
 * deadlock detector, so a lone waiter behind a stopped or dead process
 * would wait for good. Instead a transaction that finds a lock taken is
 * aborted and tried again after a pause that doubles from BACKOFF_MIN_US
 * to BACKOFF_MAX_US, for at most WAIT_MS; then the caller gets STORE_BUSY.
 * A call still waiting after FAILCHK_AFTER_MS runs failchk once, since
 * the lock may belong to a process that died. */
#define WAIT_MS 3000
#define FAILCHK_AFTER_MS 500
#define BACKOFF_MIN_US 20
#define BACKOFF_MAX_US 2000

/* Attempts at opening the database handles; see handles_open(). */
#define OPEN_ATTEMPTS 5

/* Calls between failchk runs; it costs too much to run on every one. */
#define FAILCHK_EVERY 1000

/* A checkpoint once this much log was written since the last one; with
 * DB_LOG_AUTO_REMOVE the old logs then go, so the store's size follows
 * its live data, not its history, and recovery reads at most this much.
 * Each checkpoint holds writers back for its fsyncs, so it is not made
 * more often than the log's growth asks for. */
#define CHECKPOINT_KBYTES 16384

/* How often a process asks whether a checkpoint is due: at its first
 * write (a CGI process makes only one) and every CHECKPOINT_EVERY writes
 * after. Asking looks at the log's statistics; txn_checkpoint itself
 * would open and read a log file even when nothing is due. */
#define CHECKPOINT_EVERY 64

/* How often an idle FastCGI process looks whether the store wants it to
 * leave (kvdb_watch_start). */
#define WATCH_INTERVAL_MS 100

/* A write that fails with less than this free on the store's file system
 * failed for want of room, whatever Berkeley DB called it ("unable to
 * allocate space from the buffer cache" when every page of the cache is
 * dirty and none can be written, an I/O error from the log). */
#define DISK_LOW_BYTES (16u << 20)

/* Log changes each write may prune: PRUNE_BATCH and twice its own, up to
 * PRUNE_BATCH_MAX more: few enough to keep its locks short, enough that
 * the log shrinks while it is beyond its bounds. */
#define PRUNE_BATCH 64
#define PRUNE_BATCH_MAX 4096

const char KVDB_COUNTER_KEY[1] = { '\0' };

/* What the transaction under way has done to the counter and the log:
 * its changes wait here until it knows its versionstamp. */
struct kvdb_tx {
	bool counted;			/* it locked the counter */
	uint64_t last_vs;		/* the counter then */
	uint64_t new_vs;		/* the versionstamp it writes; 0: none yet */
	struct changelog_meta meta;
	struct changelog_pending pending;
	bool committed_changes;		/* a write that waiting feeds must hear of */
};

struct kvdb {
	const struct config *cfg;
	const struct kvdb_role *role;
	struct store_join *join;	/* NULL for a private environment */
	DB_ENV *env;			/* the join's while joined, or the private one */
	DB *primary;
	DB *expiry;
	DB *changes;			/* the change log, changelog.h */
	struct kvdb_tx tx;
	struct wake *wake;
	int last_error;			/* what made the last call fail */
	mode_t mode;			/* of the files it creates */
	gid_t gid;			/* store_group's, or -1 */
	char problem[768];		/* why the files may not be used, or "" */
	bool panic;			/* Berkeley DB wants recovery */
	unsigned long requests;
	unsigned long writes;		/* committed by this process */
	bool checkpoint_due;		/* see CHECKPOINT_EVERY */
	/* Held by the main thread from a request's first store call to its
	 * end, so that the watcher thread leaves the store only between
	 * requests. */
	pthread_mutex_t busy;
	bool held;
	bool watching;
	atomic_bool stopping;		/* kvdb_free asks the watcher to end */
	pthread_t watcher;
	struct flusher *flusher;	/* NULL: the main thread does its work */
	/* A replicated store (replica.h): the master as last seen, the
	 * token of this process's last commit, and whether the group failed
	 * to acknowledge the commit under way. */
	const struct config_site *master;
	DB_TXN_TOKEN token;
	bool has_token;
	bool listener;			/* this process is the site's replication process */
	atomic_llong renew_ms;		/* when the site's processes were last found to
					 * need to join again (kvdb_renew_wanted); 0: not since */
	struct store_site site;		/* as kvdb_site() last saw it ... */
	int64_t site_seen_us;		/* ... then (monotonic); 0: never */
	atomic_bool perm_failed;
};

static void kvdb_log(const struct kvdb *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void kvdb_log(const struct kvdb *db, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!db->role->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	util_log("%s", line);
}

/* ---- permissions ---- */

/* Whether store_mode or store_group asks for exact modes and a group. */
static bool perm_configured(const struct config *cfg)
{
	return cfg->store_mode != 0 || cfg->store_group != NULL;
}

/* The files the store creates in its directory: Berkeley DB's regions,
 * logs and databases, the lock file, the rate-limit table. */
static bool store_file(const char *name)
{
	return strncmp(name, "__db.", 5) == 0 || strncmp(name, "log.", 4) == 0 ||
	       kvdb_database_file(name) || strcmp(name, STORE_LOCK_FILE) == 0 ||
	       strncmp(name, RL_FILE, strlen(RL_FILE)) == 0 || strcmp(name, WAKE_FILE) == 0 ||
	       strcmp(name, WAKE_SLOTS_FILE) == 0;
}

bool kvdb_database_file(const char *name)
{
	return strcmp(name, KVDB_PRIMARY_FILE) == 0 || strcmp(name, KVDB_EXPIRY_FILE) == 0 ||
	       strcmp(name, CHANGELOG_FILE) == 0;
}

/* Records why the store may not be used, and logs it unless it is what
 * this process logged last: one line per process for one cause, although
 * every request looks again. */
static int perm_record(struct kvdb *db, const char *problem)
{
	if (strcmp(problem, db->problem) != 0) {
		snprintf(db->problem, sizeof(db->problem), "%s", problem);
		kvdb_log(db, "%s", db->problem);
	}
	return EACCES;
}

/* The file, its owner and mode, the process's user, and how to fix it. */
static int perm_denied(struct kvdb *db, const char *path)
{
	char why[512], problem[sizeof(db->problem)];

	fsutil_explain(path, why, sizeof(why));
	snprintf(problem, sizeof(problem), "the store cannot be used: %s; fix: " FSUTIL_PERM_FIX,
		 why);
	return perm_record(db, problem);
}

static int perm_no_group(struct kvdb *db, const char *dir)
{
	char group[64], problem[sizeof(db->problem)];

	fsutil_group_name(db->gid, group, sizeof(group));
	snprintf(problem, sizeof(problem),
		 "the store cannot be used: store_group is %s, but files created in %s would not "
		 "belong to it, and this process does not own the directory to fix that; "
		 "fix: as its owner, chgrp %s %s && chmod g+s %s", group, dir, group, dir, dir);
	return perm_record(db, problem);
}

/* Before joining: whether this process's user may use the directory and
 * every file of the store, so that a permanent cause is told from a
 * passing one before Berkeley DB reports it in its own words. With
 * store_mode or store_group, gives the directory the group and the files
 * this process owns their mode and group. 0, or EACCES with db->problem
 * set and logged. A missing directory is left for the join to report. */
static int perm_check(struct kvdb *db)
{
	const char *dir = db->cfg->store;
	char path[4096];
	struct dirent *e;
	int ret = 0;
	DIR *d;

	ret = fsutil_can_use(dir, true);
	if (ret == EACCES || ret == EPERM)
		return perm_denied(db, dir);
	if (ret != 0)
		return 0;
	if (db->gid != (gid_t)-1 && fsutil_dir_group(dir, db->gid) != 0)
		return perm_no_group(db, dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		if (!store_file(e->d_name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		if (perm_configured(db->cfg))
			fsutil_file_adjust(path, db->gid, db->mode);
		ret = fsutil_can_use(path, false);
		ret = ret == EACCES || ret == EPERM ? perm_denied(db, path) : 0;
	}
	closedir(d);
	if (ret == 0)
		db->problem[0] = '\0';
	return ret;
}

/* A permission error that came past perm_check (a file changed since):
 * explained by looking again, else in general terms. */
static int perm_explain(struct kvdb *db, int err)
{
	char user[64], group[64], problem[sizeof(db->problem)];

	if (perm_check(db) != 0)
		return err;
	fsutil_user_name(geteuid(), user, sizeof(user));
	fsutil_group_name(getegid(), group, sizeof(group));
	snprintf(problem, sizeof(problem), "the store cannot be used: a file in %s was refused "
		 "to %s (group %s); fix: " FSUTIL_PERM_FIX, db->cfg->store, user, group);
	perm_record(db, problem);
	return err;
}

/* The mode and group of the store's new files. With store_mode or
 * store_group set the process's umask is cleared, so that every file
 * gets exactly that mode: Berkeley DB applies the umask to the mode it
 * is given. */
static void perm_init(struct kvdb *db)
{
	db->mode = fsutil_store_mode(db->cfg->store_mode, db->cfg->store_group != NULL, 0660);
	db->gid = (gid_t)-1;
	if (db->cfg->store_group != NULL && fsutil_group_id(db->cfg->store_group, &db->gid) != 0)
		db->gid = (gid_t)-1;
	if (perm_configured(db->cfg))
		umask(0);
}

const char *kvdb_problem(const struct kvdb *db)
{
	return db->problem[0] != '\0' ? db->problem : NULL;
}

/* ---- the environment ---- */

/* Berkeley DB's own messages name files and internals: the service logs
 * them; kvctl shows them only when KVCTL_DEBUG is set. */
/* A replica's initialisation from its master reads every file of the
 * store directory as a database, and says so of the service's own files. */
static bool own_file_noise(const char *msg)
{
	return strstr(msg, "fop_read_meta") != NULL &&
	       (strstr(msg, STORE_LOCK_FILE) != NULL || strstr(msg, WAKE_FILE) != NULL ||
		strstr(msg, WAKE_SLOTS_FILE) != NULL || strstr(msg, RL_FILE) != NULL);
}

static void on_bdb_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	const struct kvdb *db = env->app_private;

	if (own_file_noise(msg))
		return;

	if (db != NULL && db->role->log)
		util_log("berkeley db: %s", msg);
	else if (getenv("KVCTL_DEBUG") != NULL)
		fprintf(stderr, "kvctl: berkeley db: %s\n", msg);
}

/* Berkeley DB's informational messages (failchk's "Freeing read locks",
 * say) go to stdout unless told otherwise, and stdout is a plain CGI
 * process's response: they go where its errors go. */
static void on_bdb_message(const DB_ENV *env, const char *msg)
{
	on_bdb_error(env, NULL, msg);
}

/* The events after which the site's other processes must join the store
 * again: a site joined or left the group (a process connects only to the
 * sites it knew when it joined), or this replica finished synchronising
 * with its master, which may have replaced or rolled back its databases
 * under handles that other processes opened before (their reads would
 * go on seeing the old ones). */
static bool renews(u_int32_t event)
{
	return event == DB_EVENT_REP_SITE_ADDED || event == DB_EVENT_REP_SITE_REMOVED ||
	       event == DB_EVENT_REP_STARTUPDONE || event == DB_EVENT_REP_INIT_DONE;
}

/* Called in the thread where the event happened: a commit's own for
 * DB_EVENT_REP_PERM_FAILED, the Replication Manager's threads for the
 * group's events, which only the site's replication process sees. */
static void on_bdb_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct kvdb *db = env->app_private;
	const char *text;

	if (event == DB_EVENT_PANIC || event == DB_EVENT_REG_PANIC)
		db->panic = true;
	else if (event == DB_EVENT_REP_PERM_FAILED)
		atomic_store(&db->perm_failed, true);
	if (renews(event))
		atomic_store(&db->renew_ms, (long long)util_now_ms());
	if (event != DB_EVENT_REP_PERM_FAILED && (text = replica_event_text(event)) != NULL)
		kvdb_log(db, "%s", text);
}

/* Whether a process that joined the environment still runs; failchk uses
 * it to release what a killed process left behind. */
static int is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static int set_cache(DB_ENV *env, uint64_t cache)
{
	return env->set_cachesize(env, (u_int32_t)(cache >> 30),
				  (u_int32_t)(cache & ((1u << 30) - 1)), 1);
}

/* The settings every joiner makes before DB_ENV->open
 * (store_join_configure_fn). */
static int env_configure(DB_ENV *env, void *arg)
{
	struct kvdb *db = arg;
	int ret;

	env->app_private = db;
	env->set_errcall(env, on_bdb_error);
	env->set_msgcall(env, on_bdb_message);
	if ((ret = env->set_event_notify(env, on_bdb_event)) != 0)
		goto out;
	/* failchk needs the thread table, sized before the region exists. */
	if ((ret = env->set_thread_count(env, THREADS)) != 0)
		goto out;
	if ((ret = env->set_isalive(env, is_alive)) != 0)
		goto out;
	if ((ret = env->set_lk_max_locks(env, LOCKS)) != 0 ||
	    (ret = env->set_lk_max_objects(env, LOCKS)) != 0)
		goto out;
	/* For the lock waits that remain: run the deadlock detector whenever
	 * a lock request blocks, and report a timed-out wait as NOTGRANTED so
	 * that it can be told from a deadlock. */
	if ((ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0)
		goto out;
	if ((ret = env->set_timeout(env, LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT)) != 0)
		goto out;
	if ((ret = env->set_flags(env, DB_TIME_NOTGRANTED, 1)) != 0)
		goto out;
	/* The shared regions are files mapped into memory. Written out in
	 * full when created, they never need a block from a full disk later,
	 * where touching a page of a sparse file kills the process with
	 * SIGBUS in the middle of a transaction. */
	if ((ret = env->set_flags(env, DB_REGION_INIT, 1)) != 0)
		goto out;
	if ((ret = set_cache(env, db->cfg->cache_size)) != 0)
		goto out;
	/* New log files get exactly store_mode, whatever the umask of the
	 * process that happens to start one. */
	if (perm_configured(db->cfg) && (ret = env->set_lg_filemode(env, (int)db->mode)) != 0)
		goto out;
	if ((ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0)
		goto out;
	ret = replica_configure(env, db->cfg);
out:
	return ret;
}

/* Allocates the disk blocks of a region file up to size. */
static int region_reserve(const char *dir, const char *file, uintmax_t size)
{
	char path[4096];
	int fd, ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ret = posix_fallocate(fd, 0, (off_t)size);
	close(fd);
	return ret;
}

/* Allocates disk blocks for the region files up to the size their regions
 * may grow to. The cache and mutex regions grow on demand by extending
 * their files sparsely, and a process that touches a page of a sparse file
 * on a full disk dies of SIGBUS inside a transaction: better to find out
 * now, and refuse to work while the disk is full, than to crash mid-write. */
static int env_reserve(struct kvdb *db)
{
	DB_MUTEX_STAT *mutex = NULL;
	DB_MPOOL_STAT *pool = NULL;
	int ret;

	if ((ret = db->env->mutex_stat(db->env, &mutex, 0)) != 0)
		goto out;
	if ((ret = db->env->memp_stat(db->env, &pool, NULL, 0)) != 0)
		goto out;
	/* Region files are named after their region's id: __db.002 holds
	 * the mutexes and __db.003 the cache. */
	if ((ret = region_reserve(db->cfg->store, "__db.002", mutex->st_regmax)) != 0)
		goto out;
	ret = region_reserve(db->cfg->store, "__db.003", pool->st_regmax);
out:
	free(mutex);
	free(pool);
	if (ret != 0)
		kvdb_log(db, "cannot reserve disk space for the store's shared memory: %s",
			 db_strerror(ret));
	return ret;
}

/* Opens one database of the environment, transactionally, creating it when
 * missing; db_flags are DB->set_flags flags. */
static int db_open(DB_ENV *env, DB **out, const char *file, u_int32_t db_flags, mode_t mode)
{
	DB *handle = NULL;
	int ret;

	if ((ret = db_create(&handle, env, 0)) != 0)
		goto out;
	if (db_flags != 0 && (ret = handle->set_flags(handle, db_flags)) != 0)
		goto out;
	if ((ret = handle->set_pagesize(handle, PAGESIZE)) != 0)
		goto out;
	/* DB_AUTO_COMMIT: a handle opened outside a transaction can never
	 * join one later. */
	if ((ret = handle->open(handle, NULL, file, NULL, DB_BTREE,
				DB_CREATE | DB_AUTO_COMMIT, (int)mode)) != 0)
		goto out;
	*out = handle;
	handle = NULL;
out:
	if (handle != NULL)
		handle->close(handle, 0);
	return ret;
}

DB *kvdb_primary(const struct kvdb *db)
{
	return db->primary;
}

DB *kvdb_expiry(const struct kvdb *db)
{
	return db->expiry;
}

DB *kvdb_changes(const struct kvdb *db)
{
	return db->changes;
}

DB_ENV *kvdb_env(const struct kvdb *db)
{
	return db->env;
}

struct wake *kvdb_wake(const struct kvdb *db)
{
	return db->wake;
}

const struct kvdb_role *kvdb_role_of(const struct kvdb *db)
{
	return db->role;
}

int kvdb_last_error(const struct kvdb *db)
{
	return db->last_error;
}

void kvdb_handles_close(struct kvdb *db)
{
	/* A shared environment's handles close without a flush: every
	 * change is in the log already, and flushing would fsync the files at
	 * the end of every per_request request. A private one's are flushed,
	 * since DB->verify and a restored store read the files themselves. */
	u_int32_t flags = db->join != NULL ? DB_NOSYNC : 0;

	if (db->expiry != NULL)
		db->expiry->close(db->expiry, flags);
	if (db->primary != NULL)
		db->primary->close(db->primary, flags);
	if (db->changes != NULL)
		db->changes->close(db->changes, flags);
	db->expiry = NULL;
	db->primary = NULL;
	db->changes = NULL;
}

static int handles_try_open(struct kvdb *db)
{
	int ret;

	if ((ret = db_open(db->env, &db->primary, KVDB_PRIMARY_FILE, 0, db->mode)) != 0)
		goto out;
	/* The expiry index: the core's writers keep it in step with the
	 * primary (see "the expiry index" below). Both files are created
	 * together, so it never needs building. */
	if ((ret = db_open(db->env, &db->expiry, KVDB_EXPIRY_FILE, DB_DUP | DB_DUPSORT,
			   db->mode)) != 0)
		goto out;
	/* A store made before the change log gets it here, empty: its
	 * counter carries no log yet, so it is complete from then on. */
	ret = db_open(db->env, &db->changes, CHANGELOG_FILE, 0, db->mode);
out:
	if (ret != 0)
		kvdb_handles_close(db);
	return ret;
}

static int handles_open(struct kvdb *db)
{
	int ret = 0;

	if (db->primary != NULL)
		return 0;
	/* An open can catch a file in the instant another process grows it
	 * by a page ("file size not a multiple of the pagesize", EINVAL):
	 * that passes, so try again a few times. */
	for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
		ret = handles_try_open(db);
		if (ret != EINVAL && ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED)
			break;
		usleep(1000u << attempt);
	}
	if (ret == DB_RUNRECOVERY)
		db->panic = true;
	if (ret == EACCES || ret == EPERM)
		perm_explain(db, ret);
	else if (ret != 0)
		kvdb_log(db, "cannot open the databases: %s", db_strerror(ret));
	if (ret != 0)
		db->last_error = ret;
	return ret;
}

/* What a failure to open the handles means for the caller. */
static enum store_status handles_status(int ret)
{
	if (ret == 0)
		return STORE_OK;
	return ret == EACCES || ret == EPERM ? STORE_PERMISSION : STORE_UNAVAILABLE;
}

enum store_status kvdb_handles_open(struct kvdb *db)
{
	return handles_status(handles_open(db));
}

/* The watchdog guards calls into the shared environment; a private one
 * cannot get stuck behind another process. */
static void watchdog_on(const struct kvdb *db)
{
	if (db->join != NULL)
		watchdog_arm(db->role->watchdog_seconds);
}

/* Starts the Replication Manager in this process, its threads with every
 * signal blocked: signals stay with the main thread (the watchdog,
 * SIGTERM). */
static int group_start(struct kvdb *db)
{
	sigset_t all, old;
	bool listener;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = replica_start(db->env, db->role->rep_threads, &listener);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	db->listener = ret == 0 && listener;
	/* The site's replication process serves the group, not writes. */
	if (ret == 0 && !listener)
		replica_await_connections(db->env, db->cfg, db->cfg->ack_timeout_ms);
	if (ret == 0)
		replica_tcp_nodelay();
	if (ret == DB_REP_UNAVAIL)
		kvdb_log(db, "replication: no master answered this site's request to join its "
			 "group; it will ask again");
	else if (ret != 0)
		kvdb_log(db, "replication: cannot start: %s", db_strerror(ret));
	else if (listener)
		kvdb_log(db, "replication: this process listens at %s:%u for the group",
			 db->cfg->site.host, (unsigned)db->cfg->site.port);
	return ret;
}

/* Joins the environment, recovering it first when it needs it. */
static enum store_status enter(struct kvdb *db)
{
	int ret = perm_check(db);

	/* perm_check explains what it finds; a refusal that came after it
	 * is explained by looking again. */
	if (ret == 0 && (ret = store_join_enter(db->join, db->role->join_wait_ms, &db->env)) != 0 &&
	    (ret == EACCES || ret == EPERM))
		perm_explain(db, ret);
	if (ret == EACCES || ret == EPERM) {
		db->env = NULL;
		db->last_error = ret;
		return STORE_PERMISSION;
	}
	if (ret != 0) {
		db->env = NULL;
		db->last_error = ret;
		return ret == STORE_JOIN_BUSY ? STORE_BUSY : STORE_UNAVAILABLE;
	}
	if ((ret = env_reserve(db)) != 0) {
		db->env = NULL;
		db->last_error = ret;
		store_join_leave(db->join);
		return STORE_FULL;
	}
	if (db->cfg->replication && (ret = group_start(db)) != 0) {
		db->env = NULL;
		db->last_error = ret;
		store_join_leave(db->join);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

/* Leaves the environment; after a panic, asks for its recovery first. */
static void leave(struct kvdb *db)
{
	if (db->env == NULL)
		return;
	/* Bounded as a request's call into the store is (watchdog.h): a
	 * process that cannot close the environment must not stay inside,
	 * or no recovery could begin. */
	if (db->flusher != NULL && !flusher_forget(db->flusher, db->role->watchdog_seconds)) {
		kvdb_log(db, "the flusher thread is stuck inside the store; leaving by exiting");
		if (db->join != NULL)
			store_join_want_recovery(db->join);
		_exit(EXIT_FAILURE);
	}
	if (db->join == NULL) {
		kvdb_handles_close(db);
		db->env->close(db->env, 0);
		db->env = NULL;
		return;
	}
	if (db->panic)
		store_join_want_recovery(db->join);
	kvdb_handles_close(db);
	store_join_leave(db->join);
	db->env = NULL;
	db->panic = false;
	db->listener = false;
	db->site_seen_us = 0;
}

/* Frees what dead processes left in the environment. */
static void failchk(struct kvdb *db)
{
	int ret = db->join != NULL ? store_join_failchk(db->join, db->env)
				   : db->env->failchk(db->env, 0);

	if (ret == DB_RUNRECOVERY)
		db->panic = true;
	else if (ret != 0)
		kvdb_log(db, "failchk: %s", db_strerror(ret));
}

/* The main thread holds busy from a request's first store call to the
 * request's end. */
static void busy_hold(struct kvdb *db)
{
	if (db->held)
		return;
	pthread_mutex_lock(&db->busy);
	db->held = true;
}

static void busy_release(struct kvdb *db)
{
	if (!db->held)
		return;
	db->held = false;
	pthread_mutex_unlock(&db->busy);
}

/* Makes the environment and the handles usable for one call: leaves an
 * environment that needs recovery, or whose files were removed or
 * replaced, and joins the store as it is now. */
static enum store_status ready(struct kvdb *db)
{
	enum store_status status;

	busy_hold(db);
	if (db->join != NULL) {
		if (db->env != NULL &&
		    (db->panic || store_join_check(db->join, false) != STORE_JOIN_CURRENT))
			leave(db);
		if (db->env == NULL && (status = enter(db)) != STORE_OK)
			return status;
		if (++db->requests % FAILCHK_EVERY == 0)
			failchk(db);
	}
	/* A database file that cannot be opened (damaged) makes the store
	 * unavailable, like an environment that cannot be joined; one this
	 * process's user may not open is a permission problem. */
	if (db->panic)
		return STORE_UNAVAILABLE;
	return handles_status(handles_open(db));
}

/* Whether the files a write went into are still the store's, so that the
 * write may be acknowledged: not removed, not replaced by others. A store
 * that merely wants recovery is intact: no recovery can begin while this
 * process is inside, and the commit is in the log it will read. */
static bool intact(struct kvdb *db)
{
	struct stat info;
	int fd;

	if (db->join == NULL)
		return true;
	if (store_join_check(db->join, true) == STORE_JOIN_GONE)
		return false;
	return db->primary->fd(db->primary, &fd) == 0 && fstat(fd, &info) == 0 &&
	       info.st_nlink > 0;
}

/* Whether the file system holding the store is (nearly) full. */
static bool disk_low(const struct kvdb *db)
{
	struct statvfs fs;

	return statvfs(db->cfg->store, &fs) == 0 &&
	       (uint64_t)fs.f_bavail * fs.f_frsize < DISK_LOW_BYTES;
}

struct kvdb *kvdb_new(const struct config *cfg, const struct kvdb_role *role)
{
	struct kvdb *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->cfg = cfg;
	db->role = role;
	perm_init(db);
	db->join = store_join_new(cfg->store, db->mode, replica_open_flags(cfg), env_configure, db);
	db->wake = wake_new(cfg->store, db->mode);
	if (db->join == NULL || db->wake == NULL || pthread_mutex_init(&db->busy, NULL) != 0) {
		store_join_free(db->join);
		wake_free(db->wake);
		free(db);
		return NULL;
	}
	/* The flusher's thread shares the environment handle. */
	if (role->flusher)
		store_join_handle_flags(db->join, DB_THREAD);
	watchdog_install(role->who);
	return db;
}

enum store_status kvdb_open(struct kvdb *db)
{
	enum store_status status;

	watchdog_on(db);
	status = enter(db);
	if (status == STORE_OK)
		status = handles_status(handles_open(db));
	/* Opening the handles once checks the files (and creates them in a
	 * new store); with open = per_request each call opens them again. */
	if (status == STORE_OK && db->cfg->open == CONFIG_OPEN_PER_REQUEST)
		kvdb_handles_close(db);
	watchdog_disarm();
	return status;
}

/* A private environment on the files in dir, after catastrophic recovery. */
static int private_env_open(const char *dir, uint64_t cache, struct kvdb *db, DB_ENV **out)
{
	DB_ENV *env = NULL;
	int ret;

	*out = NULL;
	if ((ret = db_env_create(&env, 0)) != 0)
		return ret;
	env->app_private = db;
	env->set_errcall(env, on_bdb_error);
	env->set_msgcall(env, on_bdb_message);
	ret = set_cache(env, cache);
	if (ret == 0)
		ret = env->open(env, dir, DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG |
				DB_INIT_MPOOL | DB_INIT_TXN | DB_PRIVATE | DB_RECOVER_FATAL, 0660);
	if (ret != 0) {
		env->close(env, 0);
		return ret;
	}
	*out = env;
	return 0;
}

enum store_status kvdb_open_private(struct kvdb *db, const char *dir)
{
	int ret;

	/* A private environment joins nothing. */
	store_join_free(db->join);
	db->join = NULL;
	if ((ret = private_env_open(dir, db->cfg->cache_size, db, &db->env)) != 0) {
		db->last_error = ret;
		return STORE_UNAVAILABLE;
	}
	return kvdb_handles_open(db);
}

int kvdb_recover_dir(const char *dir, uint64_t cache_size)
{
	static const struct kvdb_role quiet = { .who = "kvctl" };
	struct kvdb db = { .role = &quiet };
	DB_ENV *env;
	int ret;

	if ((ret = private_env_open(dir, cache_size, &db, &env)) != 0)
		return ret;
	ret = env->txn_checkpoint(env, 0, 0, DB_FORCE);
	env->close(env, 0);
	return ret;
}

void kvdb_free(struct kvdb *db)
{
	if (db == NULL)
		return;
	/* The watcher ends within one interval; it is never cancelled,
	 * which could end it inside the store. */
	if (db->watching) {
		atomic_store(&db->stopping, true);
		pthread_join(db->watcher, NULL);
	}
	flusher_free(db->flusher);
	db->flusher = NULL;
	busy_release(db);
	leave(db);
	if (db->join != NULL)
		store_join_free(db->join);
	pthread_mutex_destroy(&db->busy);
	changelog_pending_clear(&db->tx.pending);
	free(db->tx.pending.entries);
	wake_free(db->wake);
	free(db);
}

/* The watcher thread of a FastCGI process: between requests, leaves a
 * store that wants recovery, so that it can begin without waiting for
 * this process's next request. */
static void *watch(void *arg)
{
	struct kvdb *db = arg;
	const struct timespec pause = {
		.tv_sec = WATCH_INTERVAL_MS / 1000,
		.tv_nsec = (long)(WATCH_INTERVAL_MS % 1000) * 1000000L,
	};

	while (!atomic_load(&db->stopping)) {
		nanosleep(&pause, NULL);
		if (pthread_mutex_trylock(&db->busy) != 0)
			continue;
		if (db->env != NULL && store_join_check(db->join, false) == STORE_JOIN_STALE)
			leave(db);
		pthread_mutex_unlock(&db->busy);
		/* The Replication Manager's connections made since. */
		if (db->cfg->replication)
			replica_tcp_nodelay();
	}
	return NULL;
}

void kvdb_watch_start(struct kvdb *db)
{
	sigset_t all, old;

	/* Signals stay with the main thread: libfcgi's SIGTERM, the watchdog. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	db->watching = pthread_create(&db->watcher, NULL, watch, db) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!db->watching)
		kvdb_log(db, "cannot start the store's watcher thread");
	if (db->role->flusher && db->flusher == NULL &&
	    (db->flusher = flusher_new(db->cfg->store)) == NULL)
		kvdb_log(db, "cannot start the store's flusher thread");
}

/* ---- checkpoints ---- */

/* More than CHECKPOINT_KBYTES of log since the last checkpoint. */
static bool checkpoint_wanted(struct kvdb *db)
{
	DB_LOG_STAT *ls = NULL;
	bool wanted = false;

	if (db->env->log_stat(db->env, &ls, 0) == 0)
		wanted = (uint64_t)ls->st_wc_mbytes * 1024 + ls->st_wc_bytes / 1024 >= CHECKPOINT_KBYTES;
	free(ls);
	return wanted;
}

/* A checkpoint must write every page dirty when it starts, and one that
 * a writer holds at that moment makes Berkeley DB sleep a whole second
 * before it looks again; under a steady write load the counter's page is
 * nearly always held. So the checkpoint runs holding the counter's write
 * lock, which every write takes before it touches a page: no page is
 * being changed. Readers go on meanwhile. */
static int checkpoint_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	uint64_t last_vs;
	int ret;

	if ((ret = kvdb_lock_counter(db, txn, &last_vs)) != 0)
		return ret;
	return db->env->txn_checkpoint(db->env, 0, 0, DB_FORCE);
}

/* Runs between requests. Writing the dirty pages first, without the lock,
 * leaves the locked part little to write: a trickle skips the pages
 * writers hold instead of waiting for them. A FastCGI process's flusher
 * thread does that while the process serves, and the locked part runs at
 * a request's end after it finished; a process without one trickles
 * itself. Every process that finds a checkpoint due writes the cache out
 * (they share the work); the checkpoint itself, which holds every writer,
 * runs in one of them only: the one that claims it first, and finds it
 * still due then, since another may have just run it. */
static void checkpoint(struct kvdb *db)
{
	int wrote;

	if (!checkpoint_wanted(db)) {
		/* Another process ran the checkpoint the flush was for. */
		if (db->flusher != NULL && flusher_finished(db->flusher))
			(void)flusher_ready(db->flusher, db->env);
		return;
	}
	if (db->flusher != NULL) {
		if (!flusher_ready(db->flusher, db->env))
			return;
	} else {
		watchdog_on(db);
		db->env->memp_trickle(db->env, 100, &wrote);
		watchdog_disarm();
	}
	if (db->join != NULL && !store_join_checkpoint_claim(db->join))
		return;
	if (checkpoint_wanted(db))
		(void)kvdb_run(db, true, checkpoint_body, NULL);
	if (db->join != NULL)
		store_join_checkpoint_release(db->join);
}

int kvdb_checkpoint(struct kvdb *db, unsigned kbytes, unsigned minutes)
{
	if (db->env == NULL)
		return DB_RUNRECOVERY;
	return db->env->txn_checkpoint(db->env, kbytes, minutes, 0);
}

void kvdb_end_request(struct kvdb *db)
{
	/* The watcher thread may be leaving the store right now: a wait for
	 * it goes under the watchdog, which an uncontended take does not need. */
	if (!db->held && pthread_mutex_trylock(&db->busy) == 0)
		db->held = true;
	if (!db->held) {
		watchdog_on(db);
		busy_hold(db);
		watchdog_disarm();
	}
	if ((db->checkpoint_due || (db->flusher != NULL && flusher_finished(db->flusher))) &&
	    db->env != NULL && !db->panic)
		checkpoint(db);
	db->checkpoint_due = false;
	if (db->cfg->open == CONFIG_OPEN_PER_REQUEST) {
		watchdog_on(db);
		kvdb_handles_close(db);
		watchdog_disarm();
	}
	if (db->panic)
		leave(db);
	busy_release(db);
}

/* ---- transactions ---- */

/* How long a transaction has been trying to get its locks. */
struct lock_wait {
	int64_t start_us;
	unsigned pause_us;
	bool checked;
};

/* Pauses before the next attempt at a transaction that found a lock
 * taken; false once it has tried for WAIT_MS. */
static bool lock_backoff(struct kvdb *db, struct lock_wait *w)
{
	int64_t now = util_monotonic_us(), waited_ms;

	if (w->start_us == 0) {
		w->start_us = now;
		w->pause_us = BACKOFF_MIN_US;
	}
	waited_ms = (now - w->start_us) / 1000;
	if (waited_ms >= WAIT_MS)
		return false;
	if (!w->checked && waited_ms >= FAILCHK_AFTER_MS && db->join != NULL) {
		failchk(db);	/* the lock may belong to a dead process */
		w->checked = true;
		if (db->panic)
			return false;
	}
	/* Some jitter, so that processes that collided do not collide again. */
	usleep(w->pause_us + (unsigned)(now % w->pause_us));
	if (w->pause_us < BACKOFF_MAX_US)
		w->pause_us *= 2;
	return true;
}

static enum store_status master_check(struct kvdb *db);

/* What a transaction's end means for the caller. */
static enum store_status outcome(struct kvdb *db, bool write, int ret)
{
	if (ret != 0 && ret != KVDB_ROLLBACK)
		db->last_error = ret;
	switch (ret) {
	case 0:
	case KVDB_ROLLBACK:
		return STORE_OK;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		if (db->panic)
			return STORE_UNAVAILABLE;
		kvdb_log(db, "a lock stayed taken for %d ms; the request gave up", WAIT_MS);
		return STORE_BUSY;
	case DB_RUNRECOVERY:
		db->panic = true;
		break;
	case ENOSPC:
	case EDQUOT:
		kvdb_log(db, "the disk holding the store is full; a write was refused");
		return STORE_FULL;
	case DB_REP_HANDLE_DEAD:
		/* A replica's handles after the master rolled back what it
		 * had: opened again at the next call. */
		kvdb_handles_close(db);
		return STORE_UNAVAILABLE;
	case DB_REP_LOCKOUT:
	case DB_REP_LEASE_EXPIRED:
		return STORE_BUSY;
	case EACCES:
		/* A write at a site that stopped being master meanwhile. */
		if (write && db->cfg->replication)
			return master_check(db) == STORE_NOT_MASTER ? STORE_NOT_MASTER
								    : STORE_NO_MASTER;
		kvdb_log(db, "transaction failed: %s", db_strerror(ret));
		break;
	default:
		kvdb_log(db, "transaction failed: %s", db_strerror(ret));
		break;
	}
	if (write && disk_low(db)) {
		kvdb_log(db, "the disk holding the store is full; a write was refused");
		return STORE_FULL;
	}
	return db->panic ? STORE_UNAVAILABLE : STORE_ERROR;
}

/* Forgets what an earlier attempt or transaction did. */
static void tx_reset(struct kvdb *db)
{
	struct changelog_pending pending = db->tx.pending;

	changelog_pending_clear(&pending);
	memset(&db->tx, 0, sizeof(db->tx));
	db->tx.pending = pending;
}

static int counter_put(struct kvdb *db, DB_TXN *txn, uint64_t vs,
		       const struct changelog_meta *meta)
{
	unsigned char value[CHANGELOG_META_LEN];
	struct record counter = { .versionstamp = vs, .value = (const char *)value,
				  .value_len = sizeof(value) };
	unsigned char buf[RECORD_HEADER + CHANGELOG_META_LEN];
	DBT k, d;

	changelog_meta_pack(meta, value);
	record_pack(&counter, buf);
	kvdb_dbt(&k, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY));
	kvdb_dbt(&d, buf, sizeof(buf));
	return db->primary->put(db->primary, txn, &k, &d, 0);
}

/* The end of a write transaction's body: appends its changes to the log
 * under its versionstamp (a new one when it changed keys without naming
 * one, as a sweep of expired keys does), prunes what the log no longer
 * keeps, and writes the counter with both. */
static int tx_finish(struct kvdb *db, DB_TXN *txn)
{
	struct kvdb_tx *tx = &db->tx;
	const struct changelog_bounds bounds = {
		.keep_ms = db->cfg->changes_keep_ms,
		.max_bytes = db->cfg->changes_max,
		.batch = PRUNE_BATCH + (tx->pending.count < PRUNE_BATCH_MAX / 2 ?
					2 * (unsigned)tx->pending.count : PRUNE_BATCH_MAX),
	};
	int64_t now = util_now_ms();
	unsigned pruned;
	int ret;

	if (!tx->counted)
		return 0;
	if (tx->pending.count > 0 && tx->new_vs <= tx->last_vs)
		tx->new_vs = tx->last_vs + 1;
	if (tx->new_vs == 0)
		return 0;
	if (!tx->meta.present) {
		tx->meta.present = true;
		tx->meta.floor = tx->last_vs;
	}
	if ((ret = changelog_append(db->changes, txn, tx->new_vs, now, &tx->pending,
				    &tx->meta)) != 0)
		return ret;
	if (tx->pending.count > 0 && changelog_beyond(&bounds, &tx->meta, now) &&
	    (ret = changelog_prune(db->changes, txn, now, &bounds, &tx->meta, &pruned)) != 0)
		return ret;
	tx->committed_changes = true;
	return counter_put(db, txn, tx->new_vs, &tx->meta);
}

/* A replicated master holds the counter's lock for a whole round trip to
 * its replicas (the commit waits for their acknowledgements before it
 * lets go): writers queue for it in Berkeley DB, woken the moment it is
 * free, rather than poll with pauses that would leave it idle; the lock
 * timeout (LOCK_TIMEOUT_US) still ends a wait behind a dead process, and
 * the retries that follow run failchk as a single site's do. */
static u_int32_t txn_flags(const struct kvdb *db)
{
	return db->cfg->replication ? 0 : DB_TXN_NOWAIT;
}

/* Where writes go in a replicated store: STORE_OK at the master. */
static enum store_status master_check(struct kvdb *db)
{
	struct replica_state state;
	int ret;

	if ((ret = replica_state(db->env, db->cfg, &state)) != 0) {
		db->last_error = ret;
		return STORE_ERROR;
	}
	db->master = state.master;
	if (state.role == REPLICA_MASTER)
		return STORE_OK;
	return state.role == REPLICA_CLIENT && state.master != NULL ? STORE_NOT_MASTER
								     : STORE_NO_MASTER;
}

/* Commits txn; in a replicated store keeps its token, and tells whether
 * the group acknowledged it as the ack policy asks (*acked). */
static int commit(struct kvdb *db, DB_TXN *txn, bool *acked)
{
	int ret;

	*acked = true;
	if (!db->cfg->replication)
		return txn->commit(txn, DB_TXN_WRITE_NOSYNC);
	db->has_token = txn->set_commit_token(txn, &db->token) == 0;
	atomic_store(&db->perm_failed, false);
	ret = txn->commit(txn, DB_TXN_WRITE_NOSYNC);
	*acked = !atomic_load(&db->perm_failed);
	if (ret != 0)
		db->has_token = false;
	return ret;
}

enum store_status kvdb_run(struct kvdb *db, bool write, kvdb_body_fn body, void *arg)
{
	enum store_status status;
	struct lock_wait wait = { 0 };
	DB_TXN *txn = NULL;
	bool acked = true, committed = false, reopened = false;
	int ret = 0;

	watchdog_on(db);
	if ((status = ready(db)) != STORE_OK)
		goto out;
	if (write && db->cfg->replication && (status = master_check(db)) != STORE_OK)
		goto out;
	for (;;) {
		/* A read outside a transaction holds each read lock only as
		 * long as the read, as DB_READ_COMMITTED would, without the
		 * cost of beginning and committing. */
		if (write && (ret = db->env->txn_begin(db->env, NULL, &txn, txn_flags(db))) != 0)
			break;
		tx_reset(db);
		ret = body(db, txn, arg);
		if (txn != NULL && ret == 0)
			ret = tx_finish(db, txn);
		/* The commit writes the log to the operating system without
		 * fsync: it survives a crashed process, not a power cut. With
		 * sync = on the log is flushed after the commit, before the
		 * caller answers: a writer holds the counter's lock until it
		 * commits, so a flush inside the commit would make each writer
		 * wait for the previous one's fsync, while after it the
		 * flushes of concurrent processes overlap. */
		if (txn != NULL && ret == 0) {
			committed = true;
			ret = commit(db, txn, &acked);
		} else if (txn != NULL) {
			txn->abort(txn);
		}
		txn = NULL;
		/* A replica that rolled back made every handle opened before
		 * dead; what failed on one changed nothing, so it runs once
		 * more on new handles. A commit that failed so is not run
		 * again. */
		if (ret == DB_REP_HANDLE_DEAD && !committed && !reopened) {
			reopened = true;
			kvdb_handles_close(db);
			if ((ret = handles_open(db)) != 0) {
				status = handles_status(ret);
				goto out_reset;
			}
			continue;
		}
		if ((ret != DB_LOCK_NOTGRANTED && ret != DB_LOCK_DEADLOCK) || db->panic ||
		    !lock_backoff(db, &wait))
			break;
	}
	if (ret == 0 && write && db->cfg->sync)
		ret = db->env->log_flush(db->env, NULL);
	status = outcome(db, write, ret);
	if (ret == 0 && write) {
		/* A write into files that were removed or replaced under
		 * this process is lost with them: never acknowledged. */
		if (!intact(db)) {
			kvdb_log(db, "the store's files were removed or replaced; "
				 "a write into them was not acknowledged");
			leave(db);
			db->last_error = ENOENT;
			status = STORE_UNAVAILABLE;
			goto out;
		}
		if (++db->writes % CHECKPOINT_EVERY == 1)
			db->checkpoint_due = true;
		if (db->tx.committed_changes)
			wake_bump(db->wake);
		if (!acked) {
			kvdb_log(db, "replication: a write was committed here but not acknowledged "
				 "by the group within ack_timeout; its outcome is unknown");
			status = STORE_UNCERTAIN;
		}
	}
out_reset:
	if (write)
		tx_reset(db);
	if (db->panic && db->join != NULL)
		store_join_want_recovery(db->join);
out:
	watchdog_disarm();
	return status;
}

_Static_assert(KVDB_TOKEN_TEXT == REPLICA_TOKEN_TEXT, "a commit token's text");

bool kvdb_renew_wanted(struct kvdb *db, unsigned settle_ms)
{
	long long at = atomic_load(&db->renew_ms);

	if (at == 0 || util_now_ms() - at < settle_ms)
		return false;
	return atomic_compare_exchange_strong(&db->renew_ms, &at, 0);
}

void kvdb_renew(struct kvdb *db)
{
	if (db->env != NULL && db->join != NULL)
		store_join_renew(db->join);
}

bool kvdb_is_listener(const struct kvdb *db)
{
	return db->env != NULL && db->listener;
}

void kvdb_leave(struct kvdb *db)
{
	watchdog_on(db);
	busy_hold(db);
	leave(db);
	busy_release(db);
	watchdog_disarm();
}

enum store_status kvdb_site(struct kvdb *db, struct store_site *out)
{
	struct replica_state state;
	enum store_status status;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!db->cfg->replication)
		return STORE_OK;
	watchdog_on(db);
	if ((status = ready(db)) != STORE_OK)
		goto out;
	if ((ret = replica_state(db->env, db->cfg, &state)) != 0) {
		db->last_error = ret;
		status = STORE_ERROR;
		goto out;
	}
	out->replicated = true;
	out->master = state.role == REPLICA_MASTER;
	out->confirmed = out->master && state.quorum;
	out->master_site = state.master;
	db->site = *out;
	db->site_seen_us = util_monotonic_us();
out:
	watchdog_disarm();
	return status;
}

enum store_status kvdb_site_recent(struct kvdb *db, unsigned max_age_ms, struct store_site *out)
{
	if (db->site_seen_us != 0 && db->env != NULL &&
	    util_monotonic_us() - db->site_seen_us < (int64_t)max_age_ms * 1000) {
		*out = db->site;
		return STORE_OK;
	}
	return kvdb_site(db, out);
}

bool kvdb_commit_token(const struct kvdb *db, char out[KVDB_TOKEN_TEXT + 1])
{
	if (!db->cfg->replication || !db->has_token)
		return false;
	replica_token_format(&db->token, out);
	return true;
}

enum store_status kvdb_wait_applied(struct kvdb *db, const char *text, unsigned timeout_ms)
{
	enum store_status status;
	DB_TXN_TOKEN token;
	int ret;

	if (!db->cfg->replication)
		return STORE_OK;
	if (!replica_token_parse(text, &token))
		return STORE_INVALID;
	watchdog_on(db);
	if ((status = ready(db)) != STORE_OK)
		goto out;
	ret = db->env->txn_applied(db->env, &token, timeout_ms * 1000u, 0);
	switch (ret) {
	case 0:
	case DB_KEYEMPTY:	/* the commit changed nothing */
	case DB_NOTFOUND:	/* rolled back: it will never be seen anywhere */
		status = STORE_OK;
		break;
	case DB_TIMEOUT:
		/* STORE_OK when this site became master meanwhile: what it
		 * has not applied, no site will. */
		status = master_check(db);
		break;
	case EINVAL:
		status = STORE_INVALID;
		break;
	default:
		db->last_error = ret;
		status = STORE_ERROR;
		break;
	}
out:
	watchdog_disarm();
	return status;
}

void kvdb_yield(void)
{
	/* A waiting writer sleeps at most 2 * BACKOFF_MAX_US with jitter. */
	usleep(2 * BACKOFF_MAX_US + BACKOFF_MAX_US / 2);
}

const char *kvdb_strerror(int err)
{
	switch (err) {
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return "the store stayed locked by other processes; try again";
	case STORE_JOIN_BUSY:
		return "the store is being recovered; try again";
	case ENOTEMPTY:
		return "the directory is not empty";
	case DB_RUNRECOVERY:
		return "the store needs recovery, which the next process to join it runs; try again";
	case DB_VERIFY_BAD:
		return "a database is damaged";
	default:
		return db_strerror(err);
	}
}

/* ---- helpers for transaction bodies ---- */

void kvdb_dbt(DBT *dbt, const void *data, size_t size)
{
	memset(dbt, 0, sizeof(*dbt));
	dbt->data = (void *)data;
	dbt->size = (u_int32_t)size;
}

void kvdb_dbt_into(DBT *dbt, void *buf, size_t size)
{
	memset(dbt, 0, sizeof(*dbt));
	dbt->data = buf;
	dbt->ulen = (u_int32_t)size;
	dbt->flags = DB_DBT_USERMEM;
}

void kvdb_dbt_grown(DBT *dbt)
{
	memset(dbt, 0, sizeof(*dbt));
	dbt->flags = DB_DBT_REALLOC;
}

int kvdb_unpack(const struct kvdb *db, const DBT *d, struct record *rec)
{
	if (record_unpack(d->data, d->size, rec))
		return 0;
	kvdb_log(db, "a record has an unknown format");
	return EINVAL;
}

int kvdb_read_header(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len,
		     u_int32_t flags, bool *found, struct record *rec)
{
	unsigned char buf[RECORD_HEADER];
	DBT k, d;
	int ret;

	kvdb_dbt(&k, key, key_len);
	/* Only the header, into buf. */
	memset(&d, 0, sizeof(d));
	d.data = buf;
	d.ulen = RECORD_HEADER;
	d.dlen = RECORD_HEADER;
	d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	ret = db->primary->get(db->primary, txn, &k, &d, flags);
	*found = ret == 0;
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret == 0)
		ret = kvdb_unpack(db, &d, rec);
	return ret;
}

int kvdb_read_counter(struct kvdb *db, DB_TXN *txn, u_int32_t flags, uint64_t *vs,
		      struct changelog_meta *meta)
{
	unsigned char buf[RECORD_HEADER + CHANGELOG_META_LEN];
	struct record counter;
	DBT k, d;
	int ret;

	*vs = 0;
	memset(meta, 0, sizeof(*meta));
	kvdb_dbt(&k, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY));
	kvdb_dbt_into(&d, buf, sizeof(buf));
	ret = db->primary->get(db->primary, txn, &k, &d, flags);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret == DB_BUFFER_SMALL)
		ret = EINVAL;
	if (ret == 0 && (ret = kvdb_unpack(db, &d, &counter)) == 0 &&
	    !changelog_meta_unpack((const unsigned char *)counter.value, counter.value_len, meta))
		ret = EINVAL;
	if (ret == 0)
		*vs = counter.versionstamp;
	else if (ret == EINVAL)
		kvdb_log(db, "the counter record has an unknown format");
	return ret;
}

int kvdb_touch_counter(struct kvdb *db, DB_TXN *txn)
{
	unsigned char buf[RECORD_HEADER + CHANGELOG_META_LEN];
	struct record fresh = { .versionstamp = 0 };
	DBT k, d;
	int ret;

	kvdb_dbt(&k, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY));
	kvdb_dbt_into(&d, buf, sizeof(buf));
	ret = db->primary->get(db->primary, txn, &k, &d, DB_RMW);
	if (ret == DB_NOTFOUND) {
		/* A fresh store's counter: versionstamp 0, no change log yet. */
		record_pack(&fresh, buf);
		kvdb_dbt(&d, buf, RECORD_HEADER);
		ret = 0;
	} else if (ret == DB_BUFFER_SMALL) {
		ret = EINVAL;
	}
	if (ret != 0)
		return ret;
	kvdb_dbt(&d, d.data, d.size);
	return db->primary->put(db->primary, txn, &k, &d, 0);
}

int kvdb_lock_counter(struct kvdb *db, DB_TXN *txn, uint64_t *last_vs)
{
	int ret = kvdb_read_counter(db, txn, DB_RMW, last_vs, &db->tx.meta);

	if (ret == 0) {
		db->tx.counted = true;
		db->tx.last_vs = *last_vs;
	}
	return ret;
}

int kvdb_write_versionstamp(struct kvdb *db, DB_TXN *txn, uint64_t vs)
{
	(void)txn;
	db->tx.new_vs = vs;
	return 0;
}

/* ---- the expiry index ----
 *
 * kv-expiry.db maps each record's expiry, its 8 big-endian bytes at
 * RECORD_EXPIRY_OFFSET, to the record's key, as sorted duplicates; a
 * record without a ttl, and the counter, have no entry. No DB->associate
 * keeps it: for every put of the primary (the counter's too) Berkeley
 * DB's secondary code would read the old record and ask for both keys,
 * though most records have no ttl. Instead the writers below, which
 * know the old and new expiry, change the index in the same transaction.
 * The layout is the one the association kept, so a store written by a
 * kvd that associated the index needs no conversion.
 *
 * An index out of step with the primary (an entry missing where a record
 * has a ttl, already there, or pointing at no record with its expiry)
 * is logged and mended rather than refused: each write leaves the entries
 * of its key as they should be, while refusing would leave a key no write
 * could change, and every write's purge stuck on one bad entry. kvctl
 * verify reports what has not been mended yet. */

/* Adds the entry of a record with an expiry. */
static int index_add(struct kvdb *db, DB_TXN *txn, int64_t expires_at, const char *key,
		     size_t key_len)
{
	unsigned char when[8];
	DBT k, d;
	int ret;

	util_put_be64(when, (uint64_t)expires_at);
	kvdb_dbt(&k, when, sizeof(when));
	kvdb_dbt(&d, key, key_len);
	ret = db->expiry->put(db->expiry, txn, &k, &d, DB_NODUPDATA);
	if (ret == DB_KEYEXIST) {
		kvdb_log(db, "the expiry index had an entry for a record before it took that expiry");
		ret = 0;
	}
	return ret;
}

/* Removes the entry of a record with an expiry: the one duplicate of
 * its expiry that names its key. */
static int index_remove(struct kvdb *db, DB_TXN *txn, int64_t expires_at, const char *key,
			size_t key_len)
{
	unsigned char when[8];
	char found[KEYPATH_MAX];
	DBC *cursor = NULL;
	DBT k, d;
	int ret;

	if (key_len > sizeof(found))
		return EINVAL;
	/* DB_GET_BOTH writes what it found back into both DBTs: copies,
	 * with the memory flag DB_THREAD demands. */
	util_put_be64(when, (uint64_t)expires_at);
	memcpy(found, key, key_len);
	kvdb_dbt_into(&k, when, sizeof(when));
	k.size = sizeof(when);
	kvdb_dbt_into(&d, found, sizeof(found));
	d.size = (u_int32_t)key_len;
	if ((ret = db->expiry->cursor(db->expiry, txn, &cursor, 0)) != 0)
		return ret;
	ret = cursor->get(cursor, &k, &d, DB_GET_BOTH | DB_RMW);
	if (ret == 0)
		ret = cursor->del(cursor, 0);
	else if (ret == DB_NOTFOUND)
		kvdb_log(db, "the expiry index had no entry for a record with an expiry");
	return kvdb_cursor_end(cursor, ret);
}

int kvdb_replace_record(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len,
			int64_t old_expires_at, const struct record *rec)
{
	size_t size = RECORD_HEADER + rec->value_len;
	unsigned char *buf = malloc(size);
	DBT k, d;
	int ret;

	if (buf == NULL)
		return ENOMEM;
	record_pack(rec, buf);
	kvdb_dbt(&k, key, key_len);
	kvdb_dbt(&d, buf, size);
	ret = db->primary->put(db->primary, txn, &k, &d, 0);
	free(buf);
	if (ret != 0)
		return ret;
	if (old_expires_at != rec->expires_at) {
		if (old_expires_at != 0 &&
		    (ret = index_remove(db, txn, old_expires_at, key, key_len)) != 0)
			return ret;
		if (rec->expires_at != 0 &&
		    (ret = index_add(db, txn, rec->expires_at, key, key_len)) != 0)
			return ret;
	}
	if (!record_kind_json(rec->kind)) {
		ret = changelog_pending_add(&db->tx.pending, CHANGELOG_SET, key, key_len, NULL, 0,
					    rec->expires_at);
		if (ret == 0)
			db->tx.pending.entries[db->tx.pending.count - 1].opaque =
				(unsigned char)rec->kind;
		return ret;
	}
	return changelog_pending_add(&db->tx.pending, CHANGELOG_SET, key, key_len, rec->value,
				     rec->value_len, rec->expires_at);
}

int kvdb_put_record(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len,
		    const struct record *rec)
{
	struct record cur;
	bool found;
	int ret;

	ret = kvdb_read_header(db, txn, key, key_len, DB_RMW, &found, &cur);
	if (ret != 0)
		return ret;
	return kvdb_replace_record(db, txn, key, key_len, found ? cur.expires_at : 0, rec);
}

int kvdb_del(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len)
{
	struct record cur;
	bool found;
	DBT k;
	int ret;

	/* Whether the key was live tells the log a delete from an expiry;
	 * its expiry, which index entry goes with it. */
	ret = kvdb_read_header(db, txn, key, key_len, DB_RMW, &found, &cur);
	if (ret != 0)
		return ret;
	if (!found)
		return DB_NOTFOUND;
	kvdb_dbt(&k, key, key_len);
	if ((ret = db->primary->del(db->primary, txn, &k, 0)) != 0)
		return ret;
	if (cur.expires_at != 0 &&
	    (ret = index_remove(db, txn, cur.expires_at, key, key_len)) != 0)
		return ret;
	return changelog_pending_add(&db->tx.pending,
				     record_expired(&cur, util_now_ms()) ? CHANGELOG_EXPIRE :
				     CHANGELOG_DELETE, key, key_len, NULL, 0, 0);
}

/* Removes the record an index entry of expiry when names, which the
 * caller removed already: *gone false, and nothing removed, when there is
 * no such record or it has another expiry (the entry was stale). */
static int purge_record(struct kvdb *db, DB_TXN *txn, DBC **primary, int64_t when,
			char *key, size_t key_len, bool *gone)
{
	unsigned char buf[RECORD_HEADER];
	struct record rec;
	DBT k, d;
	int ret;

	*gone = false;
	/* One cursor for the batch, opened by the first record purged:
	 * most writes purge none. */
	if (*primary == NULL && (ret = db->primary->cursor(db->primary, txn, primary, 0)) != 0)
		return ret;
	kvdb_dbt_into(&k, key, key_len);
	k.size = (u_int32_t)key_len;
	/* Only the header, into buf. */
	memset(&d, 0, sizeof(d));
	d.data = buf;
	d.ulen = RECORD_HEADER;
	d.dlen = RECORD_HEADER;
	d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	ret = (*primary)->get(*primary, &k, &d, DB_SET | DB_RMW);
	if (ret == 0 && (ret = kvdb_unpack(db, &d, &rec)) == 0 && rec.expires_at == when) {
		if ((ret = (*primary)->del(*primary, 0)) == 0)
			*gone = true;
		return ret;
	}
	if (ret == 0 || ret == DB_NOTFOUND) {
		kvdb_log(db, "the expiry index had an entry for no record with its expiry; removed it");
		ret = 0;
	}
	return ret;
}

int kvdb_purge(struct kvdb *db, DB_TXN *txn, int64_t now, unsigned max, unsigned *removed)
{
	unsigned char when[8];
	char key[KEYPATH_MAX];
	DBC *cursor = NULL, *primary = NULL;
	DBT skey, pkey;
	bool gone;
	int ret;

	*removed = 0;
	if ((ret = db->expiry->cursor(db->expiry, txn, &cursor, 0)) != 0)
		goto out;
	/* Bounded by records removed, not entries seen: a sweep goes on
	 * while each batch removes max. Stale entries are extra work only
	 * once, since each goes. */
	while (*removed < max) {
		/* A memory flag on every DBT that Berkeley DB fills: a
		 * replicated store's handles are free-threaded (DB_THREAD),
		 * which demands one. */
		kvdb_dbt_into(&skey, when, sizeof(when));
		kvdb_dbt_into(&pkey, key, sizeof(key));
		ret = cursor->get(cursor, &skey, &pkey, DB_NEXT | DB_RMW);
		if (ret == DB_NOTFOUND) {
			ret = 0;
			break;
		}
		if (ret != 0)
			goto out;
		if (skey.size != sizeof(when) || (int64_t)util_get_be64(when) > now)
			break;
		if ((ret = cursor->del(cursor, 0)) != 0)
			goto out;
		ret = purge_record(db, txn, &primary, (int64_t)util_get_be64(when), key, pkey.size,
				   &gone);
		if (ret != 0)
			goto out;
		if (!gone)
			continue;
		ret = changelog_pending_add(&db->tx.pending, CHANGELOG_EXPIRE, key, pkey.size,
					    NULL, 0, 0);
		if (ret != 0)
			goto out;
		++*removed;
	}
out:
	ret = kvdb_cursor_end(primary, ret);
	return kvdb_cursor_end(cursor, ret);
}

int kvdb_cursor_end(DBC *cursor, int ret)
{
	int closed;

	if (ret == DB_NOTFOUND)
		ret = 0;
	if (cursor != NULL && (closed = cursor->close(cursor)) != 0 && ret == 0)
		ret = closed;
	return ret;
}

int kvdb_walk(struct kvdb *db, DB_TXN *txn, const char *start, size_t start_len,
	      kvdb_visit_fn visit, void *arg)
{
	DBC *cursor = NULL;
	DBT k, d;
	int ret;

	kvdb_dbt_grown(&k);
	kvdb_dbt_grown(&d);
	if ((ret = db->primary->cursor(db->primary, txn, &cursor, 0)) != 0)
		goto out;
	if (start_len > 0) {
		if ((k.data = malloc(start_len)) == NULL) {
			ret = ENOMEM;
			goto out;
		}
		memcpy(k.data, start, start_len);
		k.size = (u_int32_t)start_len;
		ret = cursor->get(cursor, &k, &d, DB_SET_RANGE);
	} else {
		ret = cursor->get(cursor, &k, &d, DB_FIRST);
	}
	for (; ret == 0; ret = cursor->get(cursor, &k, &d, DB_NEXT)) {
		if ((ret = visit(db, &k, &d, arg)) != 0)
			break;
	}
	if (ret == KVDB_STOP)
		ret = 0;
out:
	ret = kvdb_cursor_end(cursor, ret);
	free(k.data);
	free(d.data);
	return ret;
}

/* ---- key ranges ---- */

void kvdb_range_init(struct kvdb_range *r, const char *prefix, size_t prefix_len)
{
	r->len = 0;
	if (prefix_len == 0)
		return;
	keypath_encode(prefix, prefix_len, r->bytes);
	r->bytes[prefix_len] = KEYPATH_SEP;
	r->len = prefix_len + 1;
}

size_t kvdb_range_first(const struct kvdb_range *r, char *out)
{
	if (r->len == 0) {
		out[0] = 1;	/* past the counter record */
		return 1;
	}
	memcpy(out, r->bytes, r->len);
	return r->len;
}

size_t kvdb_range_past(const struct kvdb_range *r, char *out)
{
	if (r->len == 0) {
		out[0] = (char)0xff;
		return 1;
	}
	memcpy(out, r->bytes, r->len);
	out[r->len - 1] = KEYPATH_SEP + 1;
	return r->len;
}

bool kvdb_in_range(const struct kvdb_range *r, const DBT *k)
{
	if (r->len == 0)	/* every key but the counter */
		return k->size > 0 && ((const char *)k->data)[0] != KVDB_COUNTER_KEY[0];
	return k->size > r->len && memcmp(k->data, r->bytes, r->len) == 0;
}

/* store.c: the Berkeley DB store: environment, transactions, key operations
 *
 * Layout on disk: one transactional environment in the store directory
 * holding kv.db, a btree from encoded keypath (keypath.h) to record
 * (record.h), and kv-expiry.db, its secondary index from expiry time to
 * key, with sorted duplicates and no entry for keys without a ttl. The
 * counter that hands out versionstamps is a record under STORE_COUNTER_KEY
 * (store_env.h), updated in the transaction of each write. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "etag.h"
#include "jsontext.h"
#include "keypath.h"
#include "record.h"
#include "store.h"
#include "store_env.h"
#include "store_join.h"
#include "util.h"
#include "watchdog.h"

/* Transactions never wait inside Berkeley DB for a lock (DB_TXN_NOWAIT):
 * a lock wait there ends only when the holder lets go or someone runs the
 * deadlock detector, so a lone waiter behind a stopped or dead process
 * would wait for good. Instead a transaction that finds a lock taken is
 * aborted and tried again after a pause that doubles from BACKOFF_MIN_US
 * to BACKOFF_MAX_US, for at most STORE_WAIT_MS; then the client gets 503.
 * A request still waiting after FAILCHK_AFTER_MS runs failchk once, since
 * the lock may belong to a process that died. */
#define STORE_WAIT_MS 3000
#define FAILCHK_AFTER_MS 500
#define BACKOFF_MIN_US 20
#define BACKOFF_MAX_US 2000

/* Expired records each write removes through the expiry index, so dead keys
 * do not pile up; few enough to keep the write's locks short. */
#define PURGE_BATCH 64

/* Attempts at opening the database handles; see handles_open(). */
#define OPEN_ATTEMPTS 5

/* Requests between failchk runs; it costs too much to run on every one. */
#define FAILCHK_EVERY 1000

/* A checkpoint once this much log was written since the last one; with
 * DB_LOG_AUTO_REMOVE the old logs then go, so the store's size follows
 * its live data, not its history, and recovery reads at most this much.
 * Each checkpoint holds writers back for its fsyncs (10 to 20 ms measured
 * under a PUT load, see checkpoint()): at 4 MiB that was twice a second
 * under the benchmark's PUTs, and the pauses showed in their p99. */
#define CHECKPOINT_KBYTES 16384

/* How often a process asks whether a checkpoint is due: at its first
 * write (a CGI process makes only one) and every CHECKPOINT_EVERY writes
 * after. Asking is a look at the log's statistics; txn_checkpoint itself,
 * with DB_LOG_AUTO_REMOVE, opened and read a log file even when nothing
 * was due, nine system calls and about 7% of the instructions of a PUT. */
#define CHECKPOINT_EVERY 64


/* A page of a list holds at most this many bytes of values; a client with
 * big values gets shorter pages and follows the cursor. */
#define LIST_PAGE_BYTES (4u << 20)

/* A store call, or joining the store, that takes this long is stuck
 * behind a process that died inside Berkeley DB (watchdog.h). A healthy
 * call takes milliseconds, and lock waits give up within seconds. */
#define WATCHDOG_SECONDS 10

/* How long a request waits for a recovery that other processes run, or
 * for the processes still inside to leave so that it can begin, before it
 * is answered 503 with Retry-After. */
#define JOIN_WAIT_MS 3000

/* How often an idle FastCGI process looks whether the store wants it to
 * leave (store_watch_start). */
#define WATCH_INTERVAL_MS 100

/* A write that fails with less than this free on the store's file system
 * failed for want of room, whatever Berkeley DB called it ("unable to
 * allocate space from the buffer cache" when every page of the cache is
 * dirty and none can be written, an I/O error from the log). */
#define DISK_LOW_BYTES (16u << 20)

/* A transaction body returns 0 to commit, TXN_ROLLBACK to abort on purpose
 * (the outcome is in its argument), or a Berkeley DB error. */
#define TXN_ROLLBACK (-1)
typedef int (*txn_body_fn)(struct store *st, DB_TXN *txn, void *arg);

struct store {
	const struct config *cfg;
	struct store_join *join;
	DB_ENV *env;		/* the join's, while joined */
	DB *primary;
	DB *expiry;
	bool panic;
	unsigned long requests;
	unsigned long writes;	/* committed by this process */
	bool checkpoint_due;	/* see CHECKPOINT_EVERY */
	/* Held by the main thread from a request's first store call to its
	 * end, so that the watcher thread leaves the store only between
	 * requests. */
	pthread_mutex_t busy;
	bool held;
	bool watching;
	atomic_bool stopping;	/* store_free asks the watcher to end */
	pthread_t watcher;
	/* A GET's record lands here, reused from one request to the next: a
	 * fresh 1 KiB block per GET made malloc consolidate its free lists
	 * each time (glibc does so for every request of that size). */
	void *get_buf;
	u_int32_t get_cap;
};

/* ---- environment ---- */

static void on_bdb_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	util_log("berkeley db: %s", msg);
}

static void on_bdb_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct store *st = env->app_private;

	if (event == DB_EVENT_PANIC || event == DB_EVENT_REG_PANIC)
		st->panic = true;
}

static int env_configure(DB_ENV *env, void *arg)
{
	struct store *st = arg;
	int ret;

	env->app_private = st;
	env->set_errcall(env, on_bdb_error);
	if ((ret = env->set_event_notify(env, on_bdb_event)) != 0)
		return ret;
	return store_env_configure(env, st->cfg->cache_size);
}

static void handles_close(struct store *st)
{
	/* The secondary goes first: the primary still refers to it. No
	 * flush on close: every change is in the log already, and flushing
	 * would fsync both files at the end of every per_request request. */
	if (st->expiry != NULL)
		st->expiry->close(st->expiry, DB_NOSYNC);
	if (st->primary != NULL)
		st->primary->close(st->primary, DB_NOSYNC);
	st->expiry = NULL;
	st->primary = NULL;
}

static int handles_try_open(struct store *st)
{
	int ret;

	if ((ret = store_env_db_open(st->env, &st->primary, STORE_PRIMARY_FILE, 0)) != 0)
		goto out;
	if ((ret = store_env_db_open(st->env, &st->expiry, STORE_EXPIRY_FILE,
				     DB_DUP | DB_DUPSORT)) != 0)
		goto out;
	/* Associate on every open (Berkeley DB does not remember it), and
	 * without DB_CREATE: with an empty index that flag rescans the whole
	 * primary each time. Both files are created together, so the index
	 * never needs building. */
	ret = st->primary->associate(st->primary, NULL, st->expiry,
				       store_env_expiry_of, 0);
out:
	if (ret != 0)
		handles_close(st);
	return ret;
}

static int handles_open(struct store *st)
{
	int ret = 0;

	if (st->primary != NULL)
		return 0;
	/* An open can catch a file in the instant another process grows it
	 * by a page ("file size not a multiple of the pagesize", EINVAL):
	 * that passes, so try again a few times. */
	for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
		ret = handles_try_open(st);
		if (ret != EINVAL && ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED)
			break;
		usleep(1000u << attempt);
	}
	if (ret == DB_RUNRECOVERY)
		st->panic = true;
	if (ret != 0)
		util_log("cannot open the databases: %s", db_strerror(ret));
	return ret;
}

/* Joins the environment, recovering it first when it needs it. */
static enum store_status store_enter(struct store *st)
{
	int ret = store_join_enter(st->join, JOIN_WAIT_MS, &st->env);

	if (ret != 0) {
		st->env = NULL;
		return ret == STORE_JOIN_BUSY ? STORE_BUSY : STORE_UNAVAILABLE;
	}
	if (store_env_reserve(st->env, st->cfg->store) != 0) {
		st->env = NULL;
		store_join_leave(st->join);
		return STORE_FULL;
	}
	return STORE_OK;
}

/* Leaves the environment; after a panic, asks for its recovery first. */
static void store_leave(struct store *st)
{
	if (st->env == NULL)
		return;
	if (st->panic)
		store_join_want_recovery(st->join);
	handles_close(st);
	store_join_leave(st->join);
	st->env = NULL;
	st->panic = false;
}

/* Frees what dead processes left in the environment. */
static void failchk(struct store *st)
{
	int ret = st->env->failchk(st->env, 0);

	if (ret == DB_RUNRECOVERY)
		st->panic = true;
	else if (ret != 0)
		util_log("failchk: %s", db_strerror(ret));
}

/* The main thread holds busy from a request's first store call to the
 * request's end. */
static void busy_hold(struct store *st)
{
	if (st->held)
		return;
	pthread_mutex_lock(&st->busy);
	st->held = true;
}

static void busy_release(struct store *st)
{
	if (!st->held)
		return;
	st->held = false;
	pthread_mutex_unlock(&st->busy);
}

/* Makes the environment and the handles usable for one operation: leaves
 * an environment that needs recovery, or whose files were removed or
 * replaced, and joins the store as it is now. */
static enum store_status store_ready(struct store *st)
{
	enum store_status status;

	busy_hold(st);
	if (st->env != NULL &&
	    (st->panic || store_join_check(st->join, false) != STORE_JOIN_CURRENT))
		store_leave(st);
	if (st->env == NULL && (status = store_enter(st)) != STORE_OK)
		return status;
	if (++st->requests % FAILCHK_EVERY == 0)
		failchk(st);
	/* A database file that cannot be opened (damaged, unreadable) makes
	 * the store unavailable, like an environment that cannot be joined. */
	if (st->panic || handles_open(st) != 0)
		return STORE_UNAVAILABLE;
	return STORE_OK;
}

/* Whether the files a write went into are still the store's, so that the
 * write may be acknowledged: not removed, not replaced by others. A store
 * that merely wants recovery is intact: no recovery can begin while this
 * process is inside, and the commit is in the log it will read. */
static bool store_intact(struct store *st)
{
	struct stat info;
	int fd;

	if (store_join_check(st->join, true) == STORE_JOIN_GONE)
		return false;
	return st->primary->fd(st->primary, &fd) == 0 && fstat(fd, &info) == 0 &&
	       info.st_nlink > 0;
}

/* Whether the file system holding the store is (nearly) full. */
static bool disk_low(const struct store *st)
{
	struct statvfs fs;

	return statvfs(st->cfg->store, &fs) == 0 &&
	       (uint64_t)fs.f_bavail * fs.f_frsize < DISK_LOW_BYTES;
}

struct store *store_new(const struct config *cfg)
{
	struct store *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->cfg = cfg;
	st->join = store_join_new(cfg->store, env_configure, st);
	if (st->join == NULL || pthread_mutex_init(&st->busy, NULL) != 0) {
		store_join_free(st->join);
		free(st);
		return NULL;
	}
	watchdog_install(PACKAGE_NAME "d");
	watchdog_arm(WATCHDOG_SECONDS);
	if (store_enter(st) == STORE_OK && handles_open(st) == 0 &&
	    cfg->open == CONFIG_OPEN_PER_REQUEST)
		handles_close(st);
	watchdog_disarm();
	return st;
}

/* The watcher thread of a FastCGI process: between requests, leaves a
 * store that wants recovery, so that it can begin without waiting for
 * this process's next request. */
static void *watch(void *arg)
{
	struct store *st = arg;
	const struct timespec pause = {
		.tv_sec = WATCH_INTERVAL_MS / 1000,
		.tv_nsec = (long)(WATCH_INTERVAL_MS % 1000) * 1000000L,
	};

	while (!atomic_load(&st->stopping)) {
		nanosleep(&pause, NULL);
		if (pthread_mutex_trylock(&st->busy) != 0)
			continue;
		if (st->env != NULL && store_join_check(st->join, false) == STORE_JOIN_STALE)
			store_leave(st);
		pthread_mutex_unlock(&st->busy);
	}
	return NULL;
}

void store_watch_start(struct store *st)
{
	sigset_t all, old;

	/* Signals stay with the main thread: libfcgi's SIGTERM, the watchdog. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	st->watching = pthread_create(&st->watcher, NULL, watch, st) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!st->watching)
		util_log("cannot start the store's watcher thread");
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	/* The watcher ends within one interval; it is never cancelled,
	 * which could end it inside the store. */
	if (st->watching) {
		atomic_store(&st->stopping, true);
		pthread_join(st->watcher, NULL);
	}
	busy_release(st);
	store_leave(st);
	store_join_free(st->join);
	pthread_mutex_destroy(&st->busy);
	free(st->get_buf);
	free(st);
}

static void checkpoint(struct store *st);

void store_end_request(struct store *st)
{
	/* The watcher thread may be leaving the store right now. */
	watchdog_arm(WATCHDOG_SECONDS);
	busy_hold(st);
	watchdog_disarm();
	if (st->checkpoint_due && st->env != NULL && !st->panic)
		checkpoint(st);
	st->checkpoint_due = false;
	if (st->cfg->open == CONFIG_OPEN_PER_REQUEST) {
		watchdog_arm(WATCHDOG_SECONDS);
		handles_close(st);
		watchdog_disarm();
	}
	if (st->panic)
		store_leave(st);
	busy_release(st);
}

/* ---- transactions ---- */

/* How long a transaction has been trying to get its locks. */
struct lock_wait {
	int64_t start_us;
	unsigned pause_us;
	bool checked;
};

/* Pauses before the next attempt at a transaction that found a lock
 * taken; false once it has tried for STORE_WAIT_MS. */
static bool lock_backoff(struct store *st, struct lock_wait *w)
{
	int64_t now = util_monotonic_us(), waited_ms;

	if (w->start_us == 0) {
		w->start_us = now;
		w->pause_us = BACKOFF_MIN_US;
	}
	waited_ms = (now - w->start_us) / 1000;
	if (waited_ms >= STORE_WAIT_MS)
		return false;
	if (!w->checked && waited_ms >= FAILCHK_AFTER_MS) {
		failchk(st);	/* the lock may belong to a dead process */
		w->checked = true;
		if (st->panic)
			return false;
	}
	/* Some jitter, so that processes that collided do not collide again. */
	usleep(w->pause_us + (unsigned)(now % w->pause_us));
	if (w->pause_us < BACKOFF_MAX_US)
		w->pause_us *= 2;
	return true;
}

/* What a transaction's end means for the client. */
static enum store_status txn_outcome(struct store *st, bool write, int ret)
{
	switch (ret) {
	case 0:
	case TXN_ROLLBACK:
		return STORE_OK;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		if (st->panic)
			return STORE_UNAVAILABLE;
		util_log("a lock stayed taken for %d ms; the request gave up", STORE_WAIT_MS);
		return STORE_BUSY;
	case DB_RUNRECOVERY:
		st->panic = true;
		break;
	case ENOSPC:
	case EDQUOT:
		util_log("the disk holding the store is full; a write was refused");
		return STORE_FULL;
	default:
		util_log("transaction failed: %s", db_strerror(ret));
		break;
	}
	if (write && disk_low(st)) {
		util_log("the disk holding the store is full; a write was refused");
		return STORE_FULL;
	}
	return st->panic ? STORE_UNAVAILABLE : STORE_ERROR;
}

static enum store_status run_txn(struct store *st, bool write, txn_body_fn body, void *arg)
{
	enum store_status status;
	struct lock_wait wait = { 0 };
	DB_TXN *txn = NULL;
	int ret = 0;
	/* A commit writes the log to the operating system without fsync: it
	 * survives a crashed process, not a power cut. With sync = on the log
	 * is flushed after the commit, before the caller answers: a writer
	 * holds the counter's lock until it commits, so a flush inside the
	 * commit made each writer wait for the previous one's fsync, while
	 * after it the flushes of concurrent processes overlap and one fsync
	 * covers every commit written before it. */
	u_int32_t commit_flags = write ? DB_TXN_WRITE_NOSYNC : 0;

	watchdog_arm(WATCHDOG_SECONDS);
	if ((status = store_ready(st)) != STORE_OK)
		goto out;
	for (;;) {
		/* Reads take no transaction: a read transaction with
		 * DB_READ_COMMITTED held each read lock only as long as the
		 * read, which is what a read outside a transaction does, and
		 * beginning and committing it cost a sixth of a GET. */
		if (write && (ret = st->env->txn_begin(st->env, NULL, &txn, DB_TXN_NOWAIT)) != 0)
			break;
		ret = body(st, txn, arg);
		if (txn != NULL && ret == 0)
			ret = txn->commit(txn, commit_flags);
		else if (txn != NULL)
			txn->abort(txn);
		txn = NULL;
		if ((ret != DB_LOCK_NOTGRANTED && ret != DB_LOCK_DEADLOCK) || st->panic ||
		    !lock_backoff(st, &wait))
			break;
	}
	if (ret == 0 && write && st->cfg->sync)
		ret = st->env->log_flush(st->env, NULL);
	status = txn_outcome(st, write, ret);
	if (ret == 0 && write) {
		/* A write into files that were removed or replaced under
		 * this process is lost with them: never acknowledged. */
		if (!store_intact(st)) {
			util_log("the store's files were removed or replaced; "
				 "a write into them was not acknowledged");
			store_leave(st);
			status = STORE_UNAVAILABLE;
			goto out;
		}
		if (++st->writes % CHECKPOINT_EVERY == 1)
			st->checkpoint_due = true;
	}
	if (st->panic)
		store_join_want_recovery(st->join);
out:
	watchdog_disarm();
	return status;
}

static void dbt_key(DBT *dbt, const char *encoded, size_t len)
{
	memset(dbt, 0, sizeof(*dbt));
	dbt->data = (void *)encoded;
	dbt->size = (u_int32_t)len;
}

/* A DBT that receives only the record header, into buf. */
static void dbt_header(DBT *dbt, unsigned char buf[RECORD_HEADER])
{
	memset(dbt, 0, sizeof(*dbt));
	dbt->data = buf;
	dbt->ulen = RECORD_HEADER;
	dbt->dlen = RECORD_HEADER;
	dbt->flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
}

/* Unpacks a record read from the btree; a record of an unknown format is
 * logged and reported as EINVAL, an error of the store, not of the client. */
static int unpack(const DBT *d, struct record *rec)
{
	if (record_unpack(d->data, d->size, rec))
		return 0;
	util_log("a record has an unknown format");
	return EINVAL;
}

/* Reads the header of the record under an encoded key. *found is false
 * when there is none; rec->value is not set. With DB_RMW the read takes
 * the write lock at once, so two writers never deadlock upgrading. */
static int read_header(struct store *st, DB_TXN *txn, const char *key, size_t key_len,
		       u_int32_t flags, bool *found, struct record *rec)
{
	unsigned char buf[RECORD_HEADER];
	DBT k, d;
	int ret;

	dbt_key(&k, key, key_len);
	dbt_header(&d, buf);
	ret = st->primary->get(st->primary, txn, &k, &d, flags);
	*found = ret == 0;
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret == 0)
		ret = unpack(&d, rec);
	return ret;
}

/* Every write begins here: it takes the write lock on the counter record
 * first, so writers queue in one order and never deadlock one another. */
static int write_begin(struct store *st, DB_TXN *txn, uint64_t *last_vs)
{
	struct record counter;
	bool found;
	int ret;

	ret = read_header(st, txn, STORE_COUNTER_KEY, sizeof(STORE_COUNTER_KEY), DB_RMW, &found, &counter);
	*last_vs = found ? counter.versionstamp : 0;
	return ret;
}

static int put_record(struct store *st, DB_TXN *txn, const char *key, size_t key_len,
		      const struct record *rec)
{
	return store_env_put_record(st->primary, txn, key, key_len, rec);
}

static int write_versionstamp(struct store *st, DB_TXN *txn, uint64_t vs)
{
	struct record counter = { .versionstamp = vs };

	return put_record(st, txn, STORE_COUNTER_KEY, sizeof(STORE_COUNTER_KEY), &counter);
}

/* Removes up to PURGE_BATCH expired records, oldest first. */
static int purge_expired(struct store *st, DB_TXN *txn, int64_t now)
{
	unsigned removed;

	return store_env_purge_expired(st->expiry, txn, now, PURGE_BATCH, &removed);
}

/* ---- checkpoints ---- */

/* More than CHECKPOINT_KBYTES of log since the last checkpoint. */
static bool checkpoint_wanted(struct store *st)
{
	DB_LOG_STAT *ls = NULL;
	bool wanted = false;

	if (st->env->log_stat(st->env, &ls, 0) == 0)
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
static int checkpoint_body(struct store *st, DB_TXN *txn, void *arg)
{
	uint64_t last_vs;
	int ret;

	(void)arg;
	if ((ret = write_begin(st, txn, &last_vs)) != 0)
		return ret;
	return st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
}

/* Runs between requests (store_end_request). Writing the dirty pages
 * first, without the lock, leaves the locked part little to write: a
 * trickle skips the pages writers hold instead of waiting for them. */
static void checkpoint(struct store *st)
{
	int wrote;

	if (!checkpoint_wanted(st))
		return;
	watchdog_arm(WATCHDOG_SECONDS);
	st->env->memp_trickle(st->env, 100, &wrote);
	watchdog_disarm();
	(void)run_txn(st, true, checkpoint_body, NULL);
}

/* ---- operations ---- */

/* What a single-key operation carries through its transaction. */
struct key_op {
	char key[KEYPATH_MAX];	/* encoded */
	size_t key_len;
	void *args;		/* the caller's store_item, store_put or store_delete */
	enum store_status outcome;
};

static enum store_status run_key_op(struct store *st, bool write, txn_body_fn body,
				    const char *key, size_t key_len, void *args)
{
	struct key_op op = { .key_len = key_len, .args = args, .outcome = STORE_ERROR };
	enum store_status status;

	keypath_encode(key, key_len, op.key);
	status = run_txn(st, write, body, &op);
	return status == STORE_OK ? op.outcome : status;
}

/* Reads key's record into the store's own buffer, growing it as needed. */
static int get_reused(struct store *st, DB_TXN *txn, DBT *k, DBT *d)
{
	void *grown;
	int ret;

	for (;;) {
		memset(d, 0, sizeof(*d));
		d->data = st->get_buf;
		d->ulen = st->get_cap;
		d->flags = DB_DBT_USERMEM;
		ret = st->primary->get(st->primary, txn, k, d, 0);
		if (ret != DB_BUFFER_SMALL)
			return ret;
		if ((grown = realloc(st->get_buf, d->size)) == NULL)
			return ENOMEM;
		st->get_buf = grown;
		st->get_cap = d->size;
	}
}

static int get_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct key_op *op = arg;
	struct store_item *item = op->args;
	struct record rec;
	DBT k, d;
	int ret;

	dbt_key(&k, op->key, op->key_len);
	ret = get_reused(st, txn, &k, &d);
	if (ret == DB_NOTFOUND) {
		op->outcome = STORE_NOTFOUND;
		return 0;
	}
	if (ret != 0)
		return ret;
	if ((ret = unpack(&d, &rec)) != 0)
		return ret;
	op->outcome = record_expired(&rec, util_now_ms()) ? STORE_NOTFOUND : STORE_OK;
	item->versionstamp = rec.versionstamp;
	item->expires_at = rec.expires_at;
	item->value = rec.value;
	item->value_len = rec.value_len;
	return 0;
}

enum store_status store_get(struct store *st, const char *key, size_t key_len,
			    struct store_item *item)
{
	memset(item, 0, sizeof(*item));
	return run_key_op(st, false, get_body, key, key_len, item);
}

void store_item_free(struct store_item *item)
{
	free(item->buf);
	item->buf = NULL;
}

/* The start of every single-key write: locks the counter, reads the key's
 * current state and checks the request's conditions (raw If-Match and
 * If-None-Match values, or NULL) against it; an expired key counts as
 * absent. Returns TXN_ROLLBACK with the outcome set when they fail. */
static int write_prepare(struct store *st, DB_TXN *txn, struct key_op *op,
			 const char *if_match, const char *if_none_match, int64_t now,
			 uint64_t *last_vs, bool *found, bool *live)
{
	char tag[VERSIONSTAMP_LEN + 1];
	struct record cur;
	int ret;

	if ((ret = write_begin(st, txn, last_vs)) != 0)
		return ret;
	ret = read_header(st, txn, op->key, op->key_len, DB_RMW, found, &cur);
	if (ret != 0)
		return ret;
	*live = *found && !record_expired(&cur, now);
	record_format_vs(*found ? cur.versionstamp : 0, tag);
	if ((if_match != NULL && !etag_matches(if_match, ETAG_STRONG, *live, tag)) ||
	    (if_none_match != NULL && etag_matches(if_none_match, ETAG_WEAK, *live, tag))) {
		op->outcome = STORE_PRECONDITION;
		return TXN_ROLLBACK;
	}
	return 0;
}

static int put_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct key_op *op = arg;
	struct store_put *put = op->args;
	int64_t now = util_now_ms();
	struct record rec;
	uint64_t last_vs;
	bool found, live;
	int ret;

	ret = write_prepare(st, txn, op, put->if_match, put->if_none_match, now,
			    &last_vs, &found, &live);
	if (ret != 0)
		return ret;
	rec.versionstamp = last_vs + 1;
	rec.expires_at = put->ttl_ms > 0 ? now + put->ttl_ms : 0;
	rec.value = put->value;
	rec.value_len = put->value_len;
	if ((ret = write_versionstamp(st, txn, rec.versionstamp)) != 0)
		return ret;
	if ((ret = put_record(st, txn, op->key, op->key_len, &rec)) != 0)
		return ret;
	if ((ret = purge_expired(st, txn, now)) != 0)
		return ret;
	put->versionstamp = rec.versionstamp;
	put->expires_at = rec.expires_at;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_put(struct store *st, struct store_put *put)
{
	return run_key_op(st, true, put_body, put->key, put->key_len, put);
}

static int delete_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct key_op *op = arg;
	struct store_delete *del = op->args;
	int64_t now = util_now_ms();
	uint64_t last_vs;
	bool found, live;
	DBT k;
	int ret;

	ret = write_prepare(st, txn, op, del->if_match, NULL, now, &last_vs, &found, &live);
	if (ret != 0)
		return ret;
	if (found) {
		/* An expired record goes too, though the client is told that
		 * there was nothing to delete. */
		dbt_key(&k, op->key, op->key_len);
		if ((ret = st->primary->del(st->primary, txn, &k, 0)) != 0)
			return ret;
	}
	if ((ret = purge_expired(st, txn, now)) != 0)
		return ret;
	del->deleted = live;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_delete(struct store *st, struct store_delete *del)
{
	return run_key_op(st, true, delete_body, del->key, del->key_len, del);
}

/* ---- atomic commits ---- */

struct commit_op {
	struct store_commit *commit;
	enum store_status outcome;
};

/* Whether one check holds: an expired key counts as absent. */
static int check_holds(struct store *st, DB_TXN *txn, const struct store_check *c,
		       int64_t now, bool *holds)
{
	char key[KEYPATH_MAX];
	struct record cur;
	bool found;
	int ret;

	keypath_encode(c->key, c->key_len, key);
	if ((ret = read_header(st, txn, key, c->key_len, 0, &found, &cur)) != 0)
		return ret;
	found = found && !record_expired(&cur, now);
	*holds = c->absent ? !found : found && cur.versionstamp == c->versionstamp;
	return 0;
}

/* sum, min or max of the live value (absent: the operand alone) and the
 * operand; the outcome says why not when the value is not an integer or
 * the result leaves the signed 64-bit range. */
static enum store_status combine(const struct store_mutation *m, const struct record *cur,
				 bool live, int64_t *result)
{
	int64_t v;

	*result = m->operand;
	if (!live)
		return STORE_OK;
	switch (jsontext_integer(cur->value, cur->value_len, &v)) {
	case JSONTEXT_NOT_INTEGER:
		return STORE_TYPE_MISMATCH;
	case JSONTEXT_OUT_OF_RANGE:
		return STORE_OVERFLOW;
	case JSONTEXT_INTEGER:
		break;
	}
	if (m->op == STORE_SUM)
		return __builtin_add_overflow(v, m->operand, result) ? STORE_OVERFLOW : STORE_OK;
	if ((m->op == STORE_MIN) == (v < m->operand))
		*result = v;
	return STORE_OK;
}

/* Applies sum, min or max to one key: reads its whole record, takes the
 * write lock at once, and writes the result as a JSON integer. */
static int apply_combine(struct store *st, DB_TXN *txn, const struct store_mutation *m,
			 const char *key, struct record *rec, int64_t now,
			 enum store_status *outcome)
{
	char text[24];
	struct record cur;
	int64_t result;
	bool live = false;
	DBT k, d;
	int ret;

	dbt_key(&k, key, m->key_len);
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_MALLOC;
	ret = st->primary->get(st->primary, txn, &k, &d, DB_RMW);
	if (ret == 0 && (ret = unpack(&d, &cur)) == 0)
		live = !record_expired(&cur, now);
	else if (ret == DB_NOTFOUND)
		ret = 0;
	if (ret != 0)
		goto out;
	if ((*outcome = combine(m, &cur, live, &result)) != STORE_OK) {
		ret = TXN_ROLLBACK;
		goto out;
	}
	/* A new ttl replaces the key's expiry; without one it stays. */
	if (m->ttl_ms == 0 && live)
		rec->expires_at = cur.expires_at;
	rec->value = text;
	rec->value_len = (size_t)snprintf(text, sizeof(text), "%" PRId64, result);
	ret = put_record(st, txn, key, m->key_len, rec);
out:
	free(d.data);
	return ret;
}

static int apply_mutation(struct store *st, DB_TXN *txn, const struct store_mutation *m,
			  uint64_t vs, int64_t now, enum store_status *outcome)
{
	char key[KEYPATH_MAX];
	struct record rec = {
		.versionstamp = vs,
		.expires_at = m->ttl_ms > 0 ? now + m->ttl_ms : 0,
		.value = m->value,
		.value_len = m->value_len,
	};
	DBT k;
	int ret;

	keypath_encode(m->key, m->key_len, key);
	switch (m->op) {
	case STORE_SET:
		return put_record(st, txn, key, m->key_len, &rec);
	case STORE_DELETE:
		dbt_key(&k, key, m->key_len);
		ret = st->primary->del(st->primary, txn, &k, 0);
		return ret == DB_NOTFOUND ? 0 : ret;
	default:
		return apply_combine(st, txn, m, key, &rec, now, outcome);
	}
}

static int commit_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct commit_op *op = arg;
	struct store_commit *c = op->commit;
	int64_t now = util_now_ms();
	uint64_t last_vs;
	bool holds;
	int ret;

	if ((ret = write_begin(st, txn, &last_vs)) != 0)
		return ret;
	for (size_t i = 0; i < c->n_checks; i++) {
		if ((ret = check_holds(st, txn, &c->checks[i], now, &holds)) != 0)
			return ret;
		if (!holds) {
			c->failed = i;
			op->outcome = STORE_CHECK_FAILED;
			return TXN_ROLLBACK;
		}
	}
	c->versionstamp = last_vs;
	if (c->n_mutations == 0) {
		op->outcome = STORE_OK;
		return TXN_ROLLBACK;	/* nothing to write */
	}
	c->versionstamp = last_vs + 1;
	for (size_t i = 0; i < c->n_mutations; i++) {
		ret = apply_mutation(st, txn, &c->mutations[i], c->versionstamp, now, &op->outcome);
		if (ret != 0) {
			c->failed = i;
			return ret;
		}
	}
	if ((ret = write_versionstamp(st, txn, c->versionstamp)) != 0)
		return ret;
	if ((ret = purge_expired(st, txn, now)) != 0)
		return ret;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_commit(struct store *st, struct store_commit *commit)
{
	struct commit_op op = { .commit = commit, .outcome = STORE_ERROR };
	enum store_status status = run_txn(st, true, commit_body, &op);

	return status == STORE_OK ? op.outcome : status;
}

static void list_reset(struct store_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->entries[i].key);
		store_item_free(&list->entries[i].item);
	}
	free(list->entries);
	list->entries = NULL;
	list->count = 0;
	list->more = false;
}

void store_list_free(struct store_list *list)
{
	list_reset(list);
}

struct list_op {
	struct store_list *list;
	char range[KEYPATH_MAX + 1];	/* encoded prefix and separator */
	size_t range_len;
	char start[KEYPATH_MAX + 1];	/* encoded key to position at */
	size_t start_len;
};

/* Takes a copy of the entry under the cursor into the page. */
static int list_keep(struct store_list *list, const DBT *k, const DBT *d, const struct record *rec)
{
	struct store_entry *e = &list->entries[list->count];

	memset(e, 0, sizeof(*e));
	e->key = malloc(k->size + 1);
	if (e->key == NULL)
		return ENOMEM;
	keypath_decode(k->data, k->size, e->key);
	e->key[k->size] = '\0';
	e->key_len = k->size;
	e->item.versionstamp = rec->versionstamp;
	e->item.expires_at = rec->expires_at;
	if (list->with_values && rec->value_len > 0) {
		e->item.buf = malloc(rec->value_len);
		if (e->item.buf == NULL) {
			free(e->key);
			return ENOMEM;
		}
		memcpy(e->item.buf, rec->value, rec->value_len);
		e->item.value = e->item.buf;
		e->item.value_len = rec->value_len;
	}
	list->count++;
	return 0;
}

/* Positions the cursor on the first candidate of the page: forward, the
 * first key at or after start; in reverse, the last key before it. */
static int list_position(DBC *cursor, struct list_op *op, DBT *k, DBT *d)
{
	int ret;

	memcpy(k->data, op->start, op->start_len);
	k->size = (u_int32_t)op->start_len;
	ret = cursor->get(cursor, k, d, DB_SET_RANGE);
	if (!op->list->reverse)
		return ret;
	if (ret == DB_NOTFOUND)
		return cursor->get(cursor, k, d, DB_LAST);
	if (ret != 0)
		return ret;
	return cursor->get(cursor, k, d, DB_PREV);
}

static bool in_range(const struct list_op *op, const DBT *k)
{
	if (op->range_len == 0)	/* every key but the counter */
		return k->size > 0 && ((const char *)k->data)[0] != STORE_COUNTER_KEY[0];
	return k->size > op->range_len && memcmp(k->data, op->range, op->range_len) == 0;
}

static int list_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct list_op *op = arg;
	struct store_list *list = op->list;
	int64_t now = util_now_ms();
	char keybuf[KEYPATH_MAX + 1];
	size_t page_bytes = 0;
	DBC *cursor = NULL;
	struct record rec;
	DBT k, d;
	int ret, closed;
	bool after = list->after != NULL;

	list_reset(list);	/* a retried transaction starts the page again */
	list->entries = calloc(list->limit, sizeof(*list->entries));
	if (list->entries == NULL)
		return ENOMEM;
	memset(&k, 0, sizeof(k));
	k.data = keybuf;
	k.ulen = sizeof(keybuf);
	k.flags = DB_DBT_USERMEM;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	if (!list->with_values) {
		d.flags |= DB_DBT_PARTIAL;
		d.dlen = RECORD_HEADER;
	}
	if ((ret = st->primary->cursor(st->primary, txn, &cursor, 0)) != 0)
		goto out;
	for (ret = list_position(cursor, op, &k, &d); ret == 0;
	     ret = cursor->get(cursor, &k, &d, list->reverse ? DB_PREV : DB_NEXT)) {
		if (!in_range(op, &k))
			break;
		/* The cursor key itself was on the last page. */
		if (after && k.size == op->start_len && memcmp(k.data, op->start, k.size) == 0)
			continue;
		if ((ret = unpack(&d, &rec)) != 0)
			goto out;
		if (record_expired(&rec, now))
			continue;
		if (list->count == list->limit || (list->count > 0 &&
		    page_bytes + rec.value_len > LIST_PAGE_BYTES)) {
			list->more = true;
			break;
		}
		page_bytes += rec.value_len;
		if ((ret = list_keep(list, &k, &d, &rec)) != 0)
			goto out;
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
out:
	if (cursor != NULL && (closed = cursor->close(cursor)) != 0 && ret == 0)
		ret = closed;
	free(d.data);
	return ret;
}

enum store_status store_list(struct store *st, struct store_list *list)
{
	struct list_op *op = calloc(1, sizeof(*op));
	enum store_status status = STORE_ERROR;

	list->entries = NULL;
	list->count = 0;
	list->more = false;
	if (op == NULL)
		goto out;
	op->list = list;
	if (list->prefix_len > 0) {
		keypath_encode(list->prefix, list->prefix_len, op->range);
		op->range[list->prefix_len] = KEYPATH_SEP;
		op->range_len = list->prefix_len + 1;
	}
	if (list->after != NULL) {
		keypath_encode(list->after, list->after_len, op->start);
		op->start_len = list->after_len;
	} else if (!list->reverse) {
		memcpy(op->start, op->range, op->range_len);
		op->start_len = op->range_len;
		if (op->start_len == 0)		/* past the counter record */
			op->start[op->start_len++] = 1;
	} else {
		/* The first key past the range: the prefix followed by the byte
		 * after the separator; for the whole store, past every key. */
		memcpy(op->start, op->range, op->range_len);
		op->start_len = op->range_len;
		if (op->start_len > 0)
			op->start[op->start_len - 1] = KEYPATH_SEP + 1;
		else
			op->start[op->start_len++] = (char)0xff;
	}
	status = run_txn(st, false, list_body, op);
	if (status != STORE_OK)
		list_reset(list);
out:
	free(op);
	return status;
}

static int ping_body(struct store *st, DB_TXN *txn, void *arg)
{
	struct record counter;
	bool found;

	return read_header(st, txn, STORE_COUNTER_KEY, sizeof(STORE_COUNTER_KEY), 0, &found, &counter);
}

enum store_status store_ping(struct store *st)
{
	return run_txn(st, false, ping_body, NULL);
}

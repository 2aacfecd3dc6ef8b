/* store_admin.c: the store's administrative operations, for kvctl
 *
 * Reads that must see one consistent state of the whole store (dump, and
 * verify's check of the index against the records) run on a private copy:
 * a hot backup of the live environment into a directory inside the store,
 * recovered in a private environment, read, then removed. The other ways
 * to a consistent read do not fit a store the web workers are writing:
 * snapshot isolation needs DB_MULTIVERSION on every handle of the file,
 * the service's included (Berkeley DB refuses it on a file that others
 * opened without it); a degree-3 transaction keeps a read lock on every
 * page it read until it ends, so a long read would hold writers past their
 * lock timeout and turn their requests into 503s; a read-committed cursor
 * takes no lasting locks but sees writes that land behind and ahead of it.
 * The copy costs disk space and a copy's time, and never a web worker's
 * wait. Counts for stats come from a read-committed scan of the live store.
 *
 * Writes (sweep, load) run in transactions of a bounded number of records
 * that lock the versionstamp counter first, like every write of the
 * service, so they queue with the web workers' writes instead of
 * deadlocking with them, and hold them up for one batch at most. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "keypath.h"
#include "record.h"
#include "store_admin.h"
#include "store_env.h"
#include "store_join.h"
#include "util.h"
#include "watchdog.h"

/* Attempts at a batch that loses a deadlock or whose lock wait times out;
 * more than the service makes, since nobody waits on kvctl's answer. */
#define ADMIN_ATTEMPTS 20

/* A call into the store that takes this long is stuck behind a mutex a
 * killed process left locked (watchdog.h). Re-armed after every batch and
 * every dumped record. */
#define ADMIN_WATCHDOG_SECONDS 60

/* How long kvctl waits for a recovery that others run, or for the
 * processes inside to leave so that one can begin. */
#define ADMIN_JOIN_WAIT_MS 30000

/* An error of this module's own: neither an errno value nor Berkeley DB's
 * (which are between -30999 and -30800). */
#define ERR_NOT_OWNER (-1)

struct store_admin {
	const struct config *cfg;
	struct store_join *join;	/* the live store's; NULL on a private copy */
	DB_ENV *env;
	DB *primary;
	DB *expiry;
	char *copy_dir;		/* set on a private copy: removed on close */
};

/* ---- joining ---- */

/* Only the live store can get stuck behind another process; a private
 * copy cannot, and a dump may wait on a slow reader of its output. */
static void watchdog_arm_live(const struct store_admin *sa)
{
	if (sa->copy_dir == NULL)
		watchdog_arm(ADMIN_WATCHDOG_SECONDS);
}

/* Berkeley DB's own messages name files and internals; kvctl reports one
 * line of its own for each failure instead. */
static void on_bdb_error(const DB_ENV *env, const char *prefix, const char *msg)
{
	if (getenv("KVCTL_DEBUG") != NULL)
		fprintf(stderr, "kvctl: berkeley db: %s\n", msg);
}

static void handles_close(struct store_admin *sa)
{
	if (sa->expiry != NULL)
		sa->expiry->close(sa->expiry, 0);
	if (sa->primary != NULL)
		sa->primary->close(sa->primary, 0);
	sa->expiry = NULL;
	sa->primary = NULL;
}

static int handles_open(struct store_admin *sa)
{
	int ret;

	ret = store_env_db_open(sa->env, &sa->primary, STORE_PRIMARY_FILE, 0);
	if (ret != 0)
		goto out;
	ret = store_env_db_open(sa->env, &sa->expiry, STORE_EXPIRY_FILE, DB_DUP | DB_DUPSORT);
	if (ret != 0)
		goto out;
	ret = sa->primary->associate(sa->primary, NULL, sa->expiry, store_env_expiry_of, 0);
out:
	if (ret != 0)
		handles_close(sa);
	return ret;
}

static int env_configure(DB_ENV *env, void *arg)
{
	const struct store_admin *sa = arg;

	env->set_errcall(env, on_bdb_error);
	return store_env_configure(env, sa->cfg->cache_size);
}

int store_admin_open(const struct config *cfg, struct store_admin **out)
{
	struct store_admin *sa = calloc(1, sizeof(*sa));
	struct stat info;
	int ret;

	*out = NULL;
	if (sa == NULL)
		return ENOMEM;
	sa->cfg = cfg;
	/* Berkeley DB would create the store's files anywhere it is told. */
	if (stat(cfg->store, &info) != 0) {
		ret = errno;
		goto out;
	}
	/* A log file or a copy that another user creates in the store locks
	 * its owner's web workers out of it. */
	if (info.st_uid != geteuid()) {
		ret = ERR_NOT_OWNER;
		goto out;
	}
	if ((sa->join = store_join_new(cfg->store, env_configure, sa)) == NULL) {
		ret = ENOMEM;
		goto out;
	}
	watchdog_install("kvctl");
	watchdog_arm_live(sa);
	if ((ret = store_join_enter(sa->join, ADMIN_JOIN_WAIT_MS, &sa->env)) != 0)
		goto out;
	ret = handles_open(sa);
out:
	watchdog_disarm();
	if (ret != 0)
		store_admin_close(sa);
	else
		*out = sa;
	return ret;
}

static int copy_open(struct store_admin *live, struct store_admin **out);

void store_admin_close(struct store_admin *sa)
{
	if (sa == NULL)
		return;
	handles_close(sa);
	if (sa->join != NULL)
		store_join_free(sa->join);	/* closes the environment */
	else if (sa->env != NULL)
		sa->env->close(sa->env, 0);
	if (sa->copy_dir != NULL)
		fsutil_dir_remove(sa->copy_dir);
	free(sa->copy_dir);
	free(sa);
}

const char *store_admin_strerror(int err)
{
	switch (err) {
	case EBUSY:
		return "the store stayed locked by other processes; try again";
	case STORE_JOIN_BUSY:
		return "the store is being recovered; try again";
	case ENOTEMPTY:
		return "the directory is not empty";
	case ERR_NOT_OWNER:
		return "run kvctl as the user that owns the store directory "
		       "(files it would create there would lock that user out)";
	case DB_RUNRECOVERY:
		return "the store needs recovery, which the next process to join it runs; try again";
	case DB_VERIFY_BAD:
		return "a database is damaged";
	default:
		return db_strerror(err);
	}
}

/* ---- transactions ---- */

typedef int (*txn_body_fn)(struct store_admin *sa, DB_TXN *txn, void *arg);

/* Runs body in a transaction, again when Berkeley DB aborts it to break a
 * deadlock or a lock wait that timed out (failchk first: the lock may
 * belong to a dead process). A read-only body runs read-committed, so it
 * keeps no read lock past the page it is on. */
static int run_txn(struct store_admin *sa, bool read_only, txn_body_fn body, void *arg)
{
	DB_TXN *txn = NULL;
	int ret = 0;
	u_int32_t commit_flags = sa->cfg->sync ? 0 : DB_TXN_WRITE_NOSYNC;

	for (int attempt = 0; attempt < ADMIN_ATTEMPTS; attempt++) {
		watchdog_arm_live(sa);
		ret = sa->env->txn_begin(sa->env, NULL, &txn, read_only ? DB_READ_COMMITTED : 0);
		if (ret != 0)
			break;
		ret = body(sa, txn, arg);
		if (ret == 0)
			ret = txn->commit(txn, commit_flags);
		else
			txn->abort(txn);
		txn = NULL;
		if (ret == DB_RUNRECOVERY && sa->join != NULL)
			store_join_want_recovery(sa->join);
		if (ret == DB_LOCK_NOTGRANTED)
			sa->env->failchk(sa->env, 0);
		else if (ret != DB_LOCK_DEADLOCK)
			break;
		usleep(1000u << (attempt < 8 ? attempt : 8));
	}
	watchdog_disarm();
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		ret = EBUSY;
	return ret;
}

static void dbt_init(DBT *dbt, const void *data, size_t size)
{
	memset(dbt, 0, sizeof(*dbt));
	dbt->data = (void *)data;
	dbt->size = (u_int32_t)size;
}

/* Reads the counter with its write lock, as every write begins. */
static int counter_lock(struct store_admin *sa, DB_TXN *txn, uint64_t *vs)
{
	unsigned char buf[RECORD_HEADER];
	struct record rec;
	DBT k, d;
	int ret;

	dbt_init(&k, STORE_COUNTER_KEY, sizeof(STORE_COUNTER_KEY));
	memset(&d, 0, sizeof(d));
	d.data = buf;
	d.ulen = d.dlen = RECORD_HEADER;
	d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	*vs = 0;
	ret = sa->primary->get(sa->primary, txn, &k, &d, DB_RMW);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return ret;
	if (!record_unpack(buf, d.size, &rec))
		return EINVAL;
	*vs = rec.versionstamp;
	return 0;
}

static int put_record(struct store_admin *sa, DB_TXN *txn, const char *key, size_t key_len,
		      const struct record *rec)
{
	return store_env_put_record(sa->primary, txn, key, key_len, rec);
}

static bool is_counter(const DBT *k)
{
	return k->size == sizeof(STORE_COUNTER_KEY) && memcmp(k->data, STORE_COUNTER_KEY, k->size) == 0;
}

/* ---- stats ---- */

static int stats_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	struct store_admin_stats *st = arg;
	int64_t now = util_now_ms();
	DBC *cursor = NULL;
	struct record rec;
	DBT k, d;
	int ret, closed;

	st->keys_live = st->keys_expired = st->value_bytes = st->versionstamp = 0;
	memset(&k, 0, sizeof(k));
	k.flags = DB_DBT_REALLOC;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	if ((ret = sa->primary->cursor(sa->primary, txn, &cursor, 0)) != 0)
		goto out;
	while ((ret = cursor->get(cursor, &k, &d, DB_NEXT)) == 0) {
		if (!record_unpack(d.data, d.size, &rec)) {
			ret = EINVAL;
			goto out;
		}
		if (is_counter(&k))
			st->versionstamp = rec.versionstamp;
		else if (record_expired(&rec, now))
			st->keys_expired++;
		else {
			st->keys_live++;
			st->value_bytes += rec.value_len;
		}
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
out:
	if (cursor != NULL && (closed = cursor->close(cursor)) != 0 && ret == 0)
		ret = closed;
	free(k.data);
	free(d.data);
	return ret;
}

/* Sizes of the database files and of the log files in the store directory. */
static int stats_files(const struct store_admin *sa, struct store_admin_stats *st)
{
	DIR *dir = opendir(sa->cfg->store);
	struct dirent *e;
	struct stat info;
	char path[4096];

	if (dir == NULL)
		return errno;
	while ((e = readdir(dir)) != NULL) {
		bool log = strncmp(e->d_name, "log.", 4) == 0;
		bool db = strcmp(e->d_name, STORE_PRIMARY_FILE) == 0 ||
			  strcmp(e->d_name, STORE_EXPIRY_FILE) == 0;

		if (!log && !db)
			continue;
		snprintf(path, sizeof(path), "%s/%s", sa->cfg->store, e->d_name);
		if (stat(path, &info) != 0)
			continue;	/* a log removed since readdir */
		if (log) {
			st->log_bytes += (uint64_t)info.st_size;
			st->log_files++;
		} else {
			st->db_bytes += (uint64_t)info.st_size;
		}
	}
	closedir(dir);
	return 0;
}

int store_admin_stats(struct store_admin *sa, struct store_admin_stats *st)
{
	DB_MPOOL_STAT *mp = NULL;
	DB_TXN_STAT *tx = NULL;
	int ret;

	memset(st, 0, sizeof(*st));
	if ((ret = run_txn(sa, true, stats_body, st)) != 0)
		goto out;
	if ((ret = stats_files(sa, st)) != 0)
		goto out;
	if ((ret = sa->env->memp_stat(sa->env, &mp, NULL, 0)) != 0)
		goto out;
	st->cache_hits = mp->st_cache_hit;
	st->cache_misses = mp->st_cache_miss;
	st->cache_bytes = (uint64_t)mp->st_gbytes * (1u << 30) + mp->st_bytes;
	if ((ret = sa->env->txn_stat(sa->env, &tx, 0)) != 0)
		goto out;
	st->last_checkpoint = tx->st_time_ckp;
out:
	free(mp);
	free(tx);
	return ret;
}

/* ---- sweep ---- */

struct sweep_op {
	unsigned batch;
	unsigned removed;	/* by the last transaction */
};

/* Removes up to op->batch expired records, oldest expiry first, after
 * locking the counter as every write does. */
static int sweep_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	struct sweep_op *op = arg;
	uint64_t vs;
	int ret;

	op->removed = 0;
	if ((ret = counter_lock(sa, txn, &vs)) != 0)
		return ret;
	return store_env_purge_expired(sa->expiry, txn, util_now_ms(), op->batch, &op->removed);
}

int store_admin_sweep(struct store_admin *sa, unsigned batch,
		      store_admin_progress_fn progress, void *arg, uint64_t *removed)
{
	struct sweep_op op = { .batch = batch };
	int ret;

	*removed = 0;
	do {
		if ((ret = run_txn(sa, false, sweep_body, &op)) != 0)
			break;
		*removed += op.removed;
		if (progress != NULL)
			progress(*removed, arg);
	} while (op.removed == batch);
	if (ret == 0)
		sa->env->txn_checkpoint(sa->env, 0, 0, 0);
	return ret;
}

/* ---- dump ---- */

struct dump_op {
	char range[KEYPATH_MAX + 1];	/* encoded prefix and separator */
	size_t range_len;
	store_admin_record_fn fn;
	void *arg;
	int stopped;			/* what fn returned to stop */
};

static bool in_range(const struct dump_op *op, const DBT *k)
{
	if (op->range_len == 0)
		return !is_counter(k);
	return k->size > op->range_len && memcmp(k->data, op->range, op->range_len) == 0;
}

static int dump_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	struct dump_op *op = arg;
	int64_t now = util_now_ms();
	char key[KEYPATH_MAX + 1];
	struct store_admin_record out;
	DBC *cursor = NULL;
	struct record rec;
	DBT k, d;
	int ret, closed;

	memset(&k, 0, sizeof(k));
	k.flags = DB_DBT_REALLOC;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	if ((ret = sa->primary->cursor(sa->primary, txn, &cursor, 0)) != 0)
		goto out;
	if (op->range_len > 0) {
		k.data = malloc(op->range_len);
		if (k.data == NULL) {
			ret = ENOMEM;
			goto out;
		}
		memcpy(k.data, op->range, op->range_len);
		k.size = (u_int32_t)op->range_len;
		ret = cursor->get(cursor, &k, &d, DB_SET_RANGE);
	} else {
		ret = cursor->get(cursor, &k, &d, DB_FIRST);
	}
	for (; ret == 0; ret = cursor->get(cursor, &k, &d, DB_NEXT)) {
		watchdog_arm_live(sa);
		if (is_counter(&k) && op->range_len == 0)
			continue;
		if (!in_range(op, &k) || k.size > KEYPATH_MAX)
			break;
		if (!record_unpack(d.data, d.size, &rec)) {
			ret = EINVAL;
			goto out;
		}
		if (record_expired(&rec, now))
			continue;
		keypath_decode(k.data, k.size, key);
		key[k.size] = '\0';
		out.key = key;
		out.key_len = k.size;
		out.value = rec.value;
		out.value_len = rec.value_len;
		out.expires_at = rec.expires_at;
		out.versionstamp = rec.versionstamp;
		if ((op->stopped = op->fn(&out, op->arg)) != 0) {
			ret = op->stopped;
			goto out;
		}
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
out:
	if (cursor != NULL && (closed = cursor->close(cursor)) != 0 && ret == 0)
		ret = closed;
	free(k.data);
	free(d.data);
	return ret;
}

int store_admin_dump(struct store_admin *sa, const char *prefix, size_t prefix_len,
		     store_admin_record_fn fn, void *arg)
{
	struct dump_op *op = calloc(1, sizeof(*op));
	struct store_admin *copy = NULL;
	int ret;

	if (op == NULL)
		return ENOMEM;
	if (prefix_len > KEYPATH_MAX) {
		ret = EINVAL;
		goto out;
	}
	op->fn = fn;
	op->arg = arg;
	if (prefix_len > 0) {
		keypath_encode(prefix, prefix_len, op->range);
		op->range[prefix_len] = KEYPATH_SEP;
		op->range_len = prefix_len + 1;
	}
	if ((ret = copy_open(sa, &copy)) != 0)
		goto out;
	/* Nothing else uses the copy: the transaction never has to be
	 * retried, so no record is handed to fn twice. */
	ret = run_txn(copy, true, dump_body, op);
out:
	store_admin_close(copy);
	free(op);
	return ret;
}

/* ---- load ---- */

static int fresh_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	DBT k, d;
	int ret;

	dbt_init(&k, STORE_COUNTER_KEY, sizeof(STORE_COUNTER_KEY));
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_PARTIAL;
	ret = sa->primary->get(sa->primary, txn, &k, &d, 0);
	*(bool *)arg = ret == DB_NOTFOUND;
	return ret == DB_NOTFOUND ? 0 : ret;
}

int store_admin_fresh(struct store_admin *sa, bool *fresh)
{
	return run_txn(sa, true, fresh_body, fresh);
}

struct load_op {
	const struct store_admin_record *recs;
	size_t n;
	bool keep;
	uint64_t skipped;
};

static int load_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	struct load_op *op = arg;
	int64_t now = util_now_ms();
	char key[KEYPATH_MAX];
	struct record rec, counter = { 0 };
	uint64_t vs;
	int ret;

	op->skipped = 0;
	if ((ret = counter_lock(sa, txn, &vs)) != 0)
		return ret;
	for (size_t i = 0; i < op->n; i++) {
		const struct store_admin_record *in = &op->recs[i];

		if (in->key_len == 0 || in->key_len > KEYPATH_MAX)
			return EINVAL;
		if (in->expires_at != 0 && in->expires_at <= now) {
			op->skipped++;
			continue;
		}
		rec.versionstamp = op->keep ? in->versionstamp : vs + 1;
		if (rec.versionstamp > vs)
			vs = rec.versionstamp;
		rec.expires_at = in->expires_at;
		rec.value = in->value;
		rec.value_len = in->value_len;
		keypath_encode(in->key, in->key_len, key);
		if ((ret = put_record(sa, txn, key, in->key_len, &rec)) != 0)
			return ret;
	}
	counter.versionstamp = vs;
	return put_record(sa, txn, STORE_COUNTER_KEY, sizeof(STORE_COUNTER_KEY), &counter);
}

int store_admin_load(struct store_admin *sa, const struct store_admin_record *recs, size_t n,
		     bool keep_versionstamps, uint64_t *skipped)
{
	struct load_op op = { .recs = recs, .n = n, .keep = keep_versionstamps };
	int ret = run_txn(sa, false, load_body, &op);

	*skipped = op.skipped;
	if (ret == 0)
		sa->env->txn_checkpoint(sa->env, 4096, 1, 0);
	return ret;
}

/* ---- backup and restore ---- */

/* Opens the environment files in dir in a private environment after
 * catastrophic recovery, which replays every log there into the databases
 * so that they are consistent on their own. Private: the regions live in
 * this process and no region file is left behind. */
static int private_env_open(const char *dir, uint64_t cache, DB_ENV **out)
{
	DB_ENV *env = NULL;
	int ret;

	*out = NULL;
	if ((ret = db_env_create(&env, 0)) != 0)
		return ret;
	env->set_errcall(env, on_bdb_error);
	ret = env->set_cachesize(env, (u_int32_t)(cache >> 30),
				 (u_int32_t)(cache & ((1u << 30) - 1)), 1);
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

static int recover_dir(const char *dir, uint64_t cache)
{
	DB_ENV *env;
	int ret;

	if ((ret = private_env_open(dir, cache, &env)) != 0)
		return ret;
	ret = env->txn_checkpoint(env, 0, 0, DB_FORCE);
	env->close(env, 0);
	return ret;
}

/* Berkeley DB's hot backup of the live environment into dir: the
 * databases, then the logs written meanwhile. A checkpoint first, so that
 * recovery of the copy replays only what was written while it was made.
 * It takes as long as the files are big, so no watchdog; the copy holds no
 * lock a web worker waits on. */
static int backup_into(struct store_admin *sa, const char *dir)
{
	int ret;

	if ((ret = sa->env->txn_checkpoint(sa->env, 0, 0, DB_FORCE)) != 0)
		return ret;
	return sa->env->backup(sa->env, dir, DB_BACKUP_SINGLE_DIR);
}

int store_admin_backup(struct store_admin *sa, const char *dir)
{
	int ret;

	if ((ret = fsutil_dir_prepare(dir)) != 0)
		return ret;
	if ((ret = backup_into(sa, dir)) != 0)
		return ret;
	return recover_dir(dir, sa->cfg->cache_size);
}

/* A consistent copy of the live store, as of the end of the copy, in a
 * directory inside the store (the same file system, which has room for
 * the store), opened privately; store_admin_close() removes it. */
static int copy_open(struct store_admin *live, struct store_admin **out)
{
	struct store_admin *sa = calloc(1, sizeof(*sa));
	size_t size = strlen(live->cfg->store) + sizeof("/kvctl-copy.XXXXXX");
	int ret;

	*out = NULL;
	if (sa == NULL || (sa->copy_dir = malloc(size)) == NULL) {
		ret = ENOMEM;
		goto out;
	}
	sa->cfg = live->cfg;
	snprintf(sa->copy_dir, size, "%s/kvctl-copy.XXXXXX", live->cfg->store);
	if (mkdtemp(sa->copy_dir) == NULL) {
		ret = errno;
		free(sa->copy_dir);
		sa->copy_dir = NULL;
		goto out;
	}
	if ((ret = backup_into(live, sa->copy_dir)) != 0)
		goto out;
	if ((ret = private_env_open(sa->copy_dir, live->cfg->cache_size, &sa->env)) != 0)
		goto out;
	ret = handles_open(sa);
out:
	if (ret != 0)
		store_admin_close(sa);
	else
		*out = sa;
	return ret;
}

/* Copies the databases and logs of the backup in from into to. */
static int copy_backup(const char *from, const char *to, bool *found)
{
	char src[4096], dst[4096];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	*found = false;
	if ((d = opendir(from)) == NULL)
		return errno;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		bool db = strcmp(e->d_name, STORE_PRIMARY_FILE) == 0 ||
			  strcmp(e->d_name, STORE_EXPIRY_FILE) == 0;

		if (!db && strncmp(e->d_name, "log.", 4) != 0)
			continue;
		if (strcmp(e->d_name, STORE_PRIMARY_FILE) == 0)
			*found = true;
		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		ret = fsutil_copy_file(src, dst);
	}
	closedir(d);
	return ret;
}

static int count_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	struct store_admin_stats st;
	int ret = stats_body(sa, txn, &st);

	*(uint64_t *)arg = st.keys_live;
	return ret;
}

/* The backup in from, copied into to and recovered there. */
static int restore_into(const struct config *cfg, const char *from, const char *to)
{
	bool found;
	int ret;

	if ((ret = copy_backup(from, to, &found)) != 0)
		return ret;
	if (!found)
		return ENOENT;
	return recover_dir(to, cfg->cache_size);
}

/* Restores beside the store directory, then renames the result into its
 * place: a web worker that looks meanwhile finds no store (503), never a
 * half-copied one that it would take for a new store and recover. */
static int restore_beside(const struct config *cfg, const char *from)
{
	size_t size = strlen(cfg->store) + sizeof(".restore.XXXXXX");
	char *tmp = malloc(size);
	int ret;

	if (tmp == NULL)
		return ENOMEM;
	snprintf(tmp, size, "%s.restore.XXXXXX", cfg->store);
	if (mkdtemp(tmp) == NULL) {
		ret = errno;
		goto out;
	}
	chmod(tmp, 0750);
	if ((ret = restore_into(cfg, from, tmp)) == 0 && rename(tmp, cfg->store) != 0)
		ret = errno;
	if (ret != 0)
		fsutil_dir_remove(tmp);
out:
	free(tmp);
	return ret;
}

int store_admin_restore(const struct config *cfg, const char *dir, uint64_t *keys)
{
	struct store_admin *sa = NULL;
	int ret;

	*keys = 0;
	/* The directory must be missing or empty; rmdir makes an empty one
	 * missing, for the rename. A mount point cannot be renamed onto: the
	 * backup is copied into it in place then. */
	if ((ret = fsutil_dir_prepare(cfg->store)) != 0)
		return ret;
	if (rmdir(cfg->store) == 0)
		ret = restore_beside(cfg, dir);
	else if (errno == EBUSY)
		ret = restore_into(cfg, dir, cfg->store);
	else
		ret = errno;
	if (ret != 0)
		return ret;
	/* Join it as the service will, and count what it holds. */
	if ((ret = store_admin_open(cfg, &sa)) != 0)
		return ret;
	ret = run_txn(sa, true, count_body, keys);
	store_admin_close(sa);
	return ret;
}

/* ---- verify ---- */

static int verify_file(struct store_admin *sa, const char *file)
{
	DB *db = NULL;
	int ret;

	if ((ret = db_create(&db, sa->env, 0)) != 0)
		return ret;
	/* The handle is gone after verify, whatever it returns. */
	return db->verify(db, file, NULL, NULL, DB_NOORDERCHK);
}

struct index_op {
	const char *problem;
};

/* Every primary record with an expiry has its index entry... */
static int index_primary(struct store_admin *sa, DB_TXN *txn, struct index_op *op,
			 uint64_t *with_expiry)
{
	DBC *cursor = NULL, *index = NULL;
	unsigned char when[8];
	struct record rec;
	DBT k, d, sk, pk, pd;
	int ret, closed;

	*with_expiry = 0;
	memset(&k, 0, sizeof(k));
	k.flags = DB_DBT_REALLOC;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	if ((ret = sa->primary->cursor(sa->primary, txn, &cursor, 0)) != 0)
		goto out;
	if ((ret = sa->expiry->cursor(sa->expiry, txn, &index, 0)) != 0)
		goto out;
	while ((ret = cursor->get(cursor, &k, &d, DB_NEXT)) == 0) {
		if (!record_unpack(d.data, d.size, &rec)) {
			op->problem = "a record has an unknown format";
			break;
		}
		if (rec.expires_at == 0)
			continue;
		(*with_expiry)++;
		util_put_be64(when, (uint64_t)rec.expires_at);
		dbt_init(&sk, when, sizeof(when));
		dbt_init(&pk, k.data, k.size);
		memset(&pd, 0, sizeof(pd));
		pd.flags = DB_DBT_PARTIAL;
		ret = index->pget(index, &sk, &pk, &pd, DB_GET_BOTH);
		if (ret == DB_NOTFOUND) {
			op->problem = "a record with an expiry is missing from the expiry index";
			ret = 0;
			break;
		}
		if (ret != 0)
			goto out;
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
out:
	if (index != NULL && (closed = index->close(index)) != 0 && ret == 0)
		ret = closed;
	if (cursor != NULL && (closed = cursor->close(cursor)) != 0 && ret == 0)
		ret = closed;
	free(k.data);
	free(d.data);
	return ret;
}

/* ...and the index holds nothing else: as many entries, each pointing at a
 * record with that expiry. */
static int index_entries(struct store_admin *sa, DB_TXN *txn, struct index_op *op,
			 uint64_t *entries)
{
	DBC *index = NULL;
	struct record rec;
	DBT sk, pk, pd;
	int ret, closed;

	*entries = 0;
	memset(&sk, 0, sizeof(sk));
	sk.flags = DB_DBT_REALLOC;
	memset(&pk, 0, sizeof(pk));
	pk.flags = DB_DBT_REALLOC;
	memset(&pd, 0, sizeof(pd));
	pd.flags = DB_DBT_REALLOC;
	if ((ret = sa->expiry->cursor(sa->expiry, txn, &index, 0)) != 0)
		goto out;
	while ((ret = index->pget(index, &sk, &pk, &pd, DB_NEXT)) == 0) {
		(*entries)++;
		if (sk.size != 8 || !record_unpack(pd.data, pd.size, &rec) ||
		    (uint64_t)rec.expires_at != util_get_be64(sk.data)) {
			op->problem = "an expiry index entry does not match its record";
			break;
		}
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	if (ret == DB_SECONDARY_BAD) {
		op->problem = "an expiry index entry points at no record";
		ret = 0;
	}
out:
	if (index != NULL && (closed = index->close(index)) != 0 && ret == 0)
		ret = closed;
	free(sk.data);
	free(pk.data);
	free(pd.data);
	return ret;
}

static int index_body(struct store_admin *sa, DB_TXN *txn, void *arg)
{
	struct index_op *op = arg;
	uint64_t with_expiry, entries;
	int ret;

	op->problem = NULL;
	if ((ret = index_primary(sa, txn, op, &with_expiry)) != 0 || op->problem != NULL)
		return ret;
	if ((ret = index_entries(sa, txn, op, &entries)) != 0 || op->problem != NULL)
		return ret;
	if (entries != with_expiry)
		op->problem = "the expiry index holds entries for no record";
	return 0;
}

/* Works on a copy: DB->verify takes no locks and may report pages that a
 * web worker is changing as damaged, and the index check needs a store
 * that does not change under it. The copy holds the live files' pages as
 * they are, so damage in them shows in it. */
int store_admin_verify(struct store_admin *sa, const char **problem)
{
	struct index_op op = { NULL };
	struct store_admin *copy = NULL;
	int ret;

	*problem = NULL;
	if ((ret = copy_open(sa, &copy)) != 0)
		goto out;
	/* DB->verify wants the file without open handles. */
	handles_close(copy);
	if ((ret = verify_file(copy, STORE_PRIMARY_FILE)) != 0 ||
	    (ret = verify_file(copy, STORE_EXPIRY_FILE)) != 0) {
		if (ret == DB_VERIFY_BAD) {
			*problem = "a database file is damaged";
			ret = 0;
		}
		goto out;
	}
	if ((ret = handles_open(copy)) != 0)
		goto out;
	ret = run_txn(copy, true, index_body, &op);
	*problem = op.problem;
out:
	store_admin_close(copy);
	return ret;
}

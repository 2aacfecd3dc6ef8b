/* store_admin_stats.c: kvctl's stats and sweep */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_admin_ops.h"
#include "util.h"

static bool is_counter(const DBT *k)
{
	return k->size == sizeof(KVDB_COUNTER_KEY) &&
	       memcmp(k->data, KVDB_COUNTER_KEY, k->size) == 0;
}

struct count_op {
	struct store_admin_stats *st;
	int64_t now;
};

static int count_visit(struct kvdb *db, const DBT *k, const DBT *d, void *arg)
{
	struct count_op *op = arg;
	struct store_admin_stats *st = op->st;
	struct record rec;
	int ret;

	if ((ret = kvdb_unpack(db, d, &rec)) != 0)
		return ret;
	if (is_counter(k)) {
		struct changelog_meta meta;

		st->versionstamp = rec.versionstamp;
		if (!changelog_meta_unpack((const unsigned char *)rec.value, rec.value_len, &meta))
			return EINVAL;
		st->changes = meta.entries;
		st->changes_bytes = meta.bytes;
		st->changes_floor = meta.present ? meta.floor : rec.versionstamp;
	}
	else if (record_expired(&rec, op->now))
		st->keys_expired++;
	else {
		st->keys_live++;
		st->value_bytes += rec.value_len;
	}
	return 0;
}

int store_admin_count(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct count_op op = { .st = arg, .now = util_now_ms() };

	/* A retried scan counts again from the start. */
	op.st->keys_live = op.st->keys_expired = op.st->value_bytes = op.st->versionstamp = 0;
	op.st->changes = op.st->changes_bytes = op.st->changes_floor = 0;
	return kvdb_walk(db, txn, NULL, 0, count_visit, &op);
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
		bool db = kvdb_database_file(e->d_name);

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

/* The cache's and the log's own statistics. */
static int stats_env(DB_ENV *env, struct store_admin_stats *st)
{
	DB_MPOOL_STAT *mp = NULL;
	DB_TXN_STAT *tx = NULL;
	int ret;

	if ((ret = env->memp_stat(env, &mp, NULL, 0)) != 0)
		goto out;
	st->cache_hits = mp->st_cache_hit;
	st->cache_misses = mp->st_cache_miss;
	st->cache_bytes = (uint64_t)mp->st_gbytes * (1u << 30) + mp->st_bytes;
	if ((ret = env->txn_stat(env, &tx, 0)) != 0)
		goto out;
	st->last_checkpoint = tx->st_time_ckp;
out:
	free(mp);
	free(tx);
	return ret;
}

enum store_status store_admin_stats(struct store_admin *sa, struct store_admin_stats *st,
				    struct error *err)
{
	enum store_status status;
	int ret;

	memset(st, 0, sizeof(*st));
	if ((status = kvdb_run(sa->db, false, store_admin_count, st)) != STORE_OK)
		return store_admin_fail(sa->db, status, err);
	if ((ret = stats_files(sa, st)) != 0 || (ret = stats_env(kvdb_env(sa->db), st)) != 0)
		return store_admin_error(ret, err);
	return STORE_OK;
}

struct sweep_op {
	unsigned batch;
	unsigned removed;	/* by the last transaction */
};

/* Removes up to op->batch expired records, oldest expiry first, after
 * locking the counter as every write does. */
static int sweep_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct sweep_op *op = arg;
	uint64_t vs;
	int ret;

	op->removed = 0;
	if ((ret = kvdb_lock_counter(db, txn, &vs)) != 0)
		return ret;
	return kvdb_purge(db, txn, util_now_ms(), op->batch, &op->removed);
}

enum store_status store_admin_sweep(struct store_admin *sa, unsigned batch,
				    store_admin_progress_fn progress, void *arg,
				    uint64_t *removed, struct error *err)
{
	struct sweep_op op = { .batch = batch };
	enum store_status status;

	*removed = 0;
	do {
		if ((status = kvdb_run(sa->db, true, sweep_body, &op)) != STORE_OK)
			return store_admin_fail(sa->db, status, err);
		*removed += op.removed;
		if (progress != NULL)
			progress(*removed, arg);
		if (op.removed == batch)
			kvdb_yield();
	} while (op.removed == batch);
	kvdb_checkpoint(sa->db, 0, 0);
	return STORE_OK;
}

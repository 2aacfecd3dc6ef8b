/* store_admin_backup.c: kvctl's backup, restore and verify */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "store_admin_ops.h"
#include "util.h"

/* The mode of the store's files, and of a directory that holds them: what
 * store_mode and store_group say, else what they were before either. */
static mode_t file_mode(const struct config *cfg)
{
	return fsutil_store_mode(cfg->store_mode, cfg->store_group != NULL, 0660);
}

static mode_t dir_mode(const struct config *cfg)
{
	return cfg->store_mode != 0 || cfg->store_group != NULL ?
	       fsutil_dir_mode(file_mode(cfg)) : 0750;
}

/* A directory that becomes a store, or a copy of one, with store_group:
 * its files belong to the group. */
static void dir_group(const struct config *cfg, const char *dir)
{
	gid_t gid;

	if (cfg->store_group != NULL && fsutil_group_id(cfg->store_group, &gid) == 0)
		(void)fsutil_dir_group(dir, gid);
}

/* Berkeley DB's hot backup makes its copies 0600 whatever it is told:
 * with store_mode or store_group, they follow them afterwards. */
static void files_adjust(const struct config *cfg, const char *dir)
{
	char path[4096];
	struct dirent *e;
	gid_t gid = (gid_t)-1;
	DIR *d;

	if (cfg->store_mode == 0 && cfg->store_group == NULL)
		return;
	if (cfg->store_group != NULL && fsutil_group_id(cfg->store_group, &gid) != 0)
		gid = (gid_t)-1;
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			fsutil_file_adjust(path, gid, file_mode(cfg));
	}
	closedir(d);
}

enum store_status store_admin_backup(struct store_admin *sa, const char *dir, struct error *err)
{
	int ret;

	if ((ret = fsutil_dir_prepare(dir, dir_mode(sa->cfg))) != 0)
		return store_admin_error(ret, err);
	dir_group(sa->cfg, dir);
	if ((ret = store_admin_backup_into(sa, dir)) != 0 ||
	    (ret = kvdb_recover_dir(dir, sa->cfg->cache_size)) != 0)
		return store_admin_error(ret, err);
	files_adjust(sa->cfg, dir);
	return STORE_OK;
}

/* Copies the databases and logs of the backup in from into to. */
static int copy_backup(const char *from, const char *to, mode_t mode, bool *found)
{
	char src[4096], dst[4096];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	*found = false;
	if ((d = opendir(from)) == NULL)
		return errno;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		bool db = kvdb_database_file(e->d_name);

		if (!db && strncmp(e->d_name, "log.", 4) != 0)
			continue;
		if (strcmp(e->d_name, KVDB_PRIMARY_FILE) == 0)
			*found = true;
		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", to, e->d_name);
		ret = fsutil_copy_file(src, dst, mode);
	}
	closedir(d);
	return ret;
}

/* The backup in from, copied into to and recovered there. */
static int restore_into(const struct config *cfg, const char *from, const char *to)
{
	bool found;
	int ret;

	if ((ret = copy_backup(from, to, file_mode(cfg), &found)) != 0)
		return ret;
	if (!found)
		return ENOENT;
	return kvdb_recover_dir(to, cfg->cache_size);
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
	chmod(tmp, dir_mode(cfg));
	dir_group(cfg, tmp);
	if ((ret = restore_into(cfg, from, tmp)) == 0 && rename(tmp, cfg->store) != 0)
		ret = errno;
	if (ret != 0)
		fsutil_dir_remove(tmp);
out:
	free(tmp);
	return ret;
}

/* The directory must be missing or empty; rmdir makes an empty one
 * missing, for the rename. A mount point cannot be renamed onto: the
 * backup is copied into it in place then. */
static int restore_files(const struct config *cfg, const char *from)
{
	int ret;

	if ((ret = fsutil_dir_prepare(cfg->store, dir_mode(cfg))) != 0)
		return ret;
	if (rmdir(cfg->store) == 0)
		return restore_beside(cfg, from);
	if (errno == EBUSY)
		return restore_into(cfg, from, cfg->store);
	return errno;
}

enum store_status store_admin_restore(const struct config *cfg, const char *dir, uint64_t *keys,
				      struct error *err)
{
	struct store_admin_stats counts = { 0 };
	struct store_admin *sa = NULL;
	enum store_status status;
	int ret;

	*keys = 0;
	if ((ret = restore_files(cfg, dir)) == ENOENT) {
		error_operator(err, "%s holds no backup of a store", dir);
		return STORE_NOTFOUND;
	}
	if (ret == ENOTEMPTY) {
		error_operator(err, "the store directory %s is not empty; restore into a new one",
			       cfg->store);
		return STORE_PRECONDITION;
	}
	if (ret != 0)
		return store_admin_error(ret, err);
	/* Join it as the service will, and count what it holds. */
	if ((status = store_admin_open(cfg, &sa, err)) != STORE_OK)
		return status;
	if ((status = kvdb_run(sa->db, false, store_admin_count, &counts)) != STORE_OK)
		store_admin_fail(sa->db, status, err);
	*keys = counts.keys_live;
	store_admin_close(sa);
	return status;
}

/* ---- verify ---- */

static int verify_file(DB_ENV *env, const char *file)
{
	DB *db = NULL;
	int ret;

	if ((ret = db_create(&db, env, 0)) != 0)
		return ret;
	/* The handle is gone after verify, whatever it returns. */
	return db->verify(db, file, NULL, NULL, DB_NOORDERCHK);
}

struct index_op {
	DBC *index;		/* a cursor on the expiry index */
	uint64_t with_expiry;	/* records with an expiry seen */
	const char *problem;
};

/* Every primary record with an expiry has its index entry... */
static int index_visit(struct kvdb *db, const DBT *k, const DBT *d, void *arg)
{
	struct index_op *op = arg;
	unsigned char when[8];
	struct record rec;
	DBT sk, pk;
	int ret;

	if (!record_unpack(d->data, d->size, &rec)) {
		op->problem = "a record has an unknown format";
		return KVDB_STOP;
	}
	if (rec.expires_at == 0)
		return 0;
	op->with_expiry++;
	/* The one duplicate of its expiry that names its key. DB_GET_BOTH
	 * writes what it found back into both, the same bytes. */
	util_put_be64(when, (uint64_t)rec.expires_at);
	kvdb_dbt_into(&sk, when, sizeof(when));
	sk.size = sizeof(when);
	kvdb_dbt_into(&pk, k->data, k->size);
	pk.size = k->size;
	ret = op->index->get(op->index, &sk, &pk, DB_GET_BOTH);
	if (ret == DB_NOTFOUND) {
		op->problem = "a record with an expiry is missing from the expiry index";
		return KVDB_STOP;
	}
	return ret;
}

static int index_primary(struct kvdb *db, DB_TXN *txn, struct index_op *op)
{
	DB *expiry = kvdb_expiry(db);
	int ret;

	op->with_expiry = 0;
	if ((ret = expiry->cursor(expiry, txn, &op->index, 0)) != 0)
		return ret;
	ret = kvdb_walk(db, txn, NULL, 0, index_visit, op);
	ret = kvdb_cursor_end(op->index, ret);
	op->index = NULL;
	return ret;
}

/* ...and the index holds nothing else: as many entries, each pointing at a
 * record with that expiry. */
static int index_entries(struct kvdb *db, DB_TXN *txn, struct index_op *op, uint64_t *entries)
{
	DB *expiry = kvdb_expiry(db), *primary = kvdb_primary(db);
	DBC *index = NULL;
	struct record rec;
	DBT sk, pk, k, pd;
	int ret;

	*entries = 0;
	kvdb_dbt_grown(&sk);
	kvdb_dbt_grown(&pk);
	kvdb_dbt_grown(&pd);
	if ((ret = expiry->cursor(expiry, txn, &index, 0)) != 0)
		goto out;
	while ((ret = index->get(index, &sk, &pk, DB_NEXT)) == 0) {
		(*entries)++;
		kvdb_dbt(&k, pk.data, pk.size);
		if ((ret = primary->get(primary, txn, &k, &pd, 0)) == DB_NOTFOUND) {
			op->problem = "an expiry index entry points at no record";
			ret = 0;
			break;
		}
		if (ret != 0)
			break;
		if (sk.size != 8 || !record_unpack(pd.data, pd.size, &rec) ||
		    (uint64_t)rec.expires_at != util_get_be64(sk.data)) {
			op->problem = "an expiry index entry does not match its record";
			break;
		}
	}
out:
	ret = kvdb_cursor_end(index, ret);
	free(sk.data);
	free(pk.data);
	free(pd.data);
	return ret;
}

static int index_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct index_op *op = arg;
	uint64_t entries;
	int ret;

	op->problem = NULL;
	if ((ret = index_primary(db, txn, op)) != 0 || op->problem != NULL)
		return ret;
	if ((ret = index_entries(db, txn, op, &entries)) != 0 || op->problem != NULL)
		return ret;
	if (entries != op->with_expiry)
		op->problem = "the expiry index holds entries for no record";
	return 0;
}

/* Works on a copy: DB->verify takes no locks and may report pages that a
 * web worker is changing as damaged, and the index check needs a store
 * that does not change under it. The copy holds the live files' pages as
 * they are, so damage in them shows in it. */
enum store_status store_admin_verify(struct store_admin *sa, struct error *err)
{
	struct index_op op = { .problem = NULL };
	struct store_admin *copy = NULL;
	enum store_status status;
	int ret;

	if ((status = store_admin_copy(sa, &copy, err)) != STORE_OK)
		goto out;
	/* DB->verify wants the file without open handles. */
	kvdb_handles_close(copy->db);
	if ((ret = verify_file(kvdb_env(copy->db), KVDB_PRIMARY_FILE)) != 0 ||
	    (ret = verify_file(kvdb_env(copy->db), KVDB_EXPIRY_FILE)) != 0 ||
	    (ret = verify_file(kvdb_env(copy->db), CHANGELOG_FILE)) != 0) {
		if (ret == DB_VERIFY_BAD)
			error_operator(err, "a database file is damaged");
		else
			store_admin_error(ret, err);
		status = STORE_ERROR;
		goto out;
	}
	if ((status = kvdb_run(copy->db, false, index_body, &op)) != STORE_OK) {
		store_admin_fail(copy->db, status, err);
		goto out;
	}
	if (op.problem != NULL) {
		error_operator(err, "%s", op.problem);
		status = STORE_ERROR;
	}
out:
	store_admin_close(copy);
	return status;
}

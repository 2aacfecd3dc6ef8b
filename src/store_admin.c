/* store_admin.c: kvctl's handle on the store, and private copies of it
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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "store_admin_ops.h"
#include "store_join.h"
#include "store_ops.h"

/* A call into the store that takes this long is stuck behind a mutex a
 * killed process left locked (watchdog.h). */
#define ADMIN_WATCHDOG_SECONDS 60

/* How long kvctl waits for a recovery that others run, or for the
 * processes inside to leave so that one can begin. */
#define ADMIN_JOIN_WAIT_MS 30000

static const struct kvdb_role admin = {
	.who = "kvctl",
	.watchdog_seconds = ADMIN_WATCHDOG_SECONDS,
	.join_wait_ms = ADMIN_JOIN_WAIT_MS,
	.log = false,
	.rep_threads = 1,
};

enum store_status store_admin_error(int ret, struct error *err)
{
	error_operator(err, "%s", kvdb_strerror(ret));
	switch (ret) {
	case ENOENT:
		return STORE_NOTFOUND;
	case ENOTEMPTY:
		return STORE_PRECONDITION;
	case ENOSPC:
	case EDQUOT:
		return STORE_FULL;
	case STORE_JOIN_BUSY:
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return STORE_BUSY;
	default:
		return STORE_ERROR;
	}
}

enum store_status store_admin_fail(const struct kvdb *db, enum store_status status,
				   struct error *err)
{
	if (status == STORE_NOT_MASTER || status == STORE_NO_MASTER)
		error_operator(err, "this site is a replica of a replicated group: writes go to its "
			       "master (kvctl replication names it)");
	else if (status == STORE_UNCERTAIN)
		error_operator(err, "written here, but the group did not acknowledge it within "
			       "ack_timeout: it may or may not survive a failover");
	else if (kvdb_problem(db) != NULL)
		error_operator(err, "%s", kvdb_problem(db));
	else if (kvdb_last_error(db) != 0)
		error_operator(err, "%s", kvdb_strerror(kvdb_last_error(db)));
	else
		error_operator(err, "the store is unavailable; try again");
	return status;
}

/* Whether the store directory is shared through store_group: it belongs
 * to the group, with the set-group-ID bit, so that every file created in
 * it does too, with a mode that lets the group use it. */
static bool store_shared(const struct config *cfg, const struct stat *dir)
{
	gid_t gid;

	return cfg->store_group != NULL && fsutil_group_id(cfg->store_group, &gid) == 0 &&
	       dir->st_gid == gid && (dir->st_mode & S_ISGID) &&
	       (fsutil_store_mode(cfg->store_mode, true, 0660) & 0060) == 0060;
}

/* Gives sa to the caller when status is STORE_OK, else closes it. */
static enum store_status hand_out(struct store_admin *sa, enum store_status status,
				  struct store_admin **out)
{
	if (status != STORE_OK)
		store_admin_close(sa);
	else
		*out = sa;
	return status;
}

enum store_status store_admin_open(const struct config *cfg, struct store_admin **out,
				   struct error *err)
{
	struct store_admin *sa = calloc(1, sizeof(*sa));
	enum store_status status = STORE_ERROR;
	struct stat info;

	*out = NULL;
	if (sa == NULL)
		return store_admin_error(ENOMEM, err);
	sa->cfg = cfg;
	/* Berkeley DB would create the store's files anywhere it is told. */
	if (stat(cfg->store, &info) != 0) {
		status = store_admin_error(errno, err);
		goto out;
	}
	/* A log file or a copy that another user creates in the store locks
	 * its owner's web workers out of it, unless store_group shares it. */
	if (info.st_uid != geteuid() && !store_shared(cfg, &info)) {
		error_operator(err, "run kvctl as the user that owns the store directory "
			       "(files it would create there would lock that user out), "
			       "or share the store with store_group");
		status = STORE_UNAVAILABLE;
		goto out;
	}
	if ((sa->db = kvdb_new(cfg, &admin)) == NULL) {
		status = store_admin_error(ENOMEM, err);
		goto out;
	}
	if ((status = kvdb_open(sa->db)) != STORE_OK)
		store_admin_fail(sa->db, status, err);
out:
	return hand_out(sa, status, out);
}

enum store_status store_admin_attach(struct store *st, const struct config *cfg,
				     struct store_admin **out, struct error *err)
{
	struct store_admin *sa = calloc(1, sizeof(*sa));

	*out = NULL;
	if (sa == NULL)
		return store_admin_error(ENOMEM, err);
	sa->cfg = cfg;
	sa->db = st->db;
	sa->borrowed = true;
	*out = sa;
	return STORE_OK;
}

void store_admin_close(struct store_admin *sa)
{
	if (sa == NULL)
		return;
	if (!sa->borrowed)
		kvdb_free(sa->db);
	if (sa->copy_dir != NULL)
		fsutil_dir_remove(sa->copy_dir);
	free(sa->copy_dir);
	free(sa);
}

/* A checkpoint first, so that recovery of the copy replays only what was
 * written while it was made. It takes as long as the files are big, so no
 * watchdog; the copy holds no lock a web worker waits on. */
int store_admin_backup_into(struct store_admin *sa, const char *dir)
{
	DB_ENV *env = kvdb_env(sa->db);
	int ret;

	if (env == NULL)	/* left after a failed call */
		return DB_RUNRECOVERY;
	if ((ret = env->txn_checkpoint(env, 0, 0, DB_FORCE)) != 0)
		return ret;
	return env->backup(env, dir, DB_BACKUP_SINGLE_DIR);
}

/* The copy lives in a directory inside the store: the same file system,
 * which has room for the store. */
enum store_status store_admin_copy(struct store_admin *live, struct store_admin **out,
				   struct error *err)
{
	struct store_admin *sa = calloc(1, sizeof(*sa));
	size_t size = strlen(live->cfg->store) + sizeof("/kvctl-copy.XXXXXX");
	enum store_status status;
	int ret;

	*out = NULL;
	if (sa == NULL || (sa->copy_dir = malloc(size)) == NULL) {
		status = store_admin_error(ENOMEM, err);
		goto out;
	}
	sa->cfg = live->cfg;
	snprintf(sa->copy_dir, size, "%s/kvctl-copy.XXXXXX", live->cfg->store);
	if (mkdtemp(sa->copy_dir) == NULL) {
		status = store_admin_error(errno, err);
		free(sa->copy_dir);
		sa->copy_dir = NULL;
		goto out;
	}
	if ((ret = store_admin_backup_into(live, sa->copy_dir)) != 0) {
		status = store_admin_error(ret, err);
		goto out;
	}
	if ((sa->db = kvdb_new(live->cfg, kvdb_role_of(live->db))) == NULL) {
		status = store_admin_error(ENOMEM, err);
		goto out;
	}
	if ((status = kvdb_open_private(sa->db, sa->copy_dir)) != STORE_OK)
		store_admin_fail(sa->db, status, err);
out:
	return hand_out(sa, status, out);
}

/* store_admin_upgrade.c: kvctl's upgrade, where a store is brought to the
 * format this build writes
 *
 * A store's format is the layout of its records (record.h: the format
 * byte that starts each one). A later build that changes the layout
 * raises RECORD_FORMAT and converts each record of an older format here,
 * in batches like a load; the administrator runs it once, with the
 * service stopped and a backup taken (docs/operations.md). Format 1 is the
 * first, so today there is nothing to convert: the command joins the
 * store (which runs recovery when it needs it) and checks that every
 * record is of the current format. A record of a format this build does
 * not read (written by a newer kv, or damaged) is reported and left as it
 * is.
 *
 * It refuses a store that other processes are using: a conversion must
 * not race the service's writes, and the check costs nothing today. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store_admin_ops.h"
#include "store_join.h"

/* Whether any process holds the store's lock file: every one that has
 * the environment open holds a shared lock on it. A store that has no
 * lock file yet has never been joined; one kvctl may not open is
 * explained by store_admin_open(), which refuses it. */
static enum store_status store_idle(const struct config *cfg, struct error *err)
{
	char path[4096];
	int fd, ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cfg->store, STORE_LOCK_FILE) >=
	    sizeof(path))
		return store_admin_error(ENAMETOOLONG, err);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == EACCES ? STORE_OK : store_admin_error(errno, err);
	ret = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
	close(fd);	/* drops the lock, if taken */
	if (ret == EWOULDBLOCK) {
		error_operator(err, "other processes are using the store: stop the service "
			       "(every kvd) and any other kvctl first");
		return STORE_BUSY;
	}
	return ret == 0 ? STORE_OK : store_admin_error(ret, err);
}

/* Counts the records of the primary, the counter's included, by format. */
static int format_visit(struct kvdb *db, const DBT *k, const DBT *d, void *arg)
{
	struct store_admin_format *f = arg;
	struct record rec;

	if (record_unpack(d->data, d->size, &rec))
		f->records++;
	else
		f->unknown++;
	return 0;
}

static int format_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct store_admin_format *f = arg;

	/* A retried scan counts again from the start. */
	f->records = f->unknown = 0;
	return kvdb_walk(db, txn, NULL, 0, format_visit, f);
}

enum store_status store_admin_upgrade(const struct config *cfg, struct store_admin_format *f,
				      struct error *err)
{
	struct store_admin *sa = NULL;
	enum store_status status;

	memset(f, 0, sizeof(*f));
	f->format = RECORD_FORMAT;
	if ((status = store_idle(cfg, err)) != STORE_OK)
		goto out;
	if ((status = store_admin_open(cfg, &sa, err)) != STORE_OK)
		goto out;
	if ((status = kvdb_run(sa->db, false, format_body, f)) != STORE_OK) {
		store_admin_fail(sa->db, status, err);
		goto out;
	}
	if (f->unknown > 0) {
		error_operator(err, "%" PRIu64 " of %" PRIu64 " records are not of format %u, the "
			       "only one this kvctl reads: a newer kv wrote them (install it "
			       "again), or they are damaged (kvctl verify)",
			       f->unknown, f->records + f->unknown, RECORD_FORMAT);
		status = STORE_ERROR;
	}
out:
	store_admin_close(sa);
	return status;
}

/* store_admin_ops.h: what kvctl's store operations share
 *
 * Internal to store_admin.c, store_admin_stats.c, store_admin_dump.c and
 * store_admin_backup.c: kvctl's side of the database core (kvdb.h). */
#ifndef KV_STORE_ADMIN_OPS_H
#define KV_STORE_ADMIN_OPS_H

#include "error.h"
#include "kvdb.h"
#include "store_admin.h"

struct store_admin {
	const struct config *cfg;
	struct kvdb *db;
	char *copy_dir;		/* set on a private copy: removed on close */
	bool borrowed;		/* db is the service's (store_admin_attach): not freed */
};

/* Fills err with what made a call on db fail (db->last_error) and returns
 * status. */
enum store_status store_admin_fail(const struct kvdb *db, enum store_status status,
				   struct error *err);

/* Fills err with an errno or Berkeley DB error; returns the status that
 * stands for it. */
enum store_status store_admin_error(int ret, struct error *err);

/* Berkeley DB's hot backup of the live environment into dir. */
int store_admin_backup_into(struct store_admin *sa, const char *dir);

/* A consistent copy of the live store, as of the end of the copy, opened
 * privately; store_admin_close() removes it. Nothing else uses the copy,
 * so a transaction on it never has to be retried. */
enum store_status store_admin_copy(struct store_admin *live, struct store_admin **out,
				   struct error *err);

/* A transaction body that counts the records of the primary into a
 * struct store_admin_stats (keys_live, keys_expired, value_bytes and
 * versionstamp). */
int store_admin_count(struct kvdb *db, DB_TXN *txn, void *arg);

#endif

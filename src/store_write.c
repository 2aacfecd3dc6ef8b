/* store_write.c: the service's writes of one key: put and delete */
#include <string.h>

#include "etag.h"
#include "store_ops.h"
#include "util.h"

/* Expired records each write removes through the expiry index; few enough
 * to keep the write's locks short. */
#define PURGE_BATCH 64

int store_purge_some(struct kvdb *db, DB_TXN *txn, int64_t now)
{
	unsigned removed;

	return kvdb_purge(db, txn, now, PURGE_BATCH, &removed);
}

/* The start of every single-key write: locks the counter, reads the key's
 * current state (its expiry in *expires_at, 0 for none) and checks the
 * request's conditions (raw If-Match and If-None-Match values, or NULL)
 * against it; an expired key counts as absent. Returns KVDB_ROLLBACK with
 * the outcome set when they fail. */
static int write_prepare(struct kvdb *db, DB_TXN *txn, struct store_key_op *op,
			 const char *if_match, const char *if_none_match, int64_t now,
			 uint64_t *last_vs, bool *found, bool *live, int64_t *expires_at)
{
	char tag[VERSIONSTAMP_LEN + 1];
	struct record cur;
	int ret;

	if ((ret = kvdb_lock_counter(db, txn, last_vs)) != 0)
		return ret;
	ret = kvdb_read_header(db, txn, op->key, op->key_len, DB_RMW, found, &cur);
	if (ret != 0)
		return ret;
	*live = *found && !record_expired(&cur, now);
	*expires_at = *found ? cur.expires_at : 0;
	record_format_vs(*found ? cur.versionstamp : 0, tag);
	if ((if_match != NULL && !etag_matches(if_match, ETAG_STRONG, *live, tag)) ||
	    (if_none_match != NULL && etag_matches(if_none_match, ETAG_WEAK, *live, tag))) {
		op->outcome = STORE_PRECONDITION;
		return KVDB_ROLLBACK;
	}
	return 0;
}

static int put_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct store_key_op *op = arg;
	struct store_put *put = op->args;
	int64_t now = util_now_ms();
	struct record rec;
	uint64_t last_vs;
	int64_t old_expiry;
	bool found, live;
	int ret;

	ret = write_prepare(db, txn, op, put->if_match, put->if_none_match, now,
			    &last_vs, &found, &live, &old_expiry);
	if (ret != 0)
		return ret;
	rec.versionstamp = last_vs + 1;
	rec.expires_at = put->ttl_ms > 0 ? now + put->ttl_ms : 0;
	rec.value = put->value;
	rec.value_len = put->value_len;
	rec.kind = RECORD_JSON;
	if ((ret = kvdb_write_versionstamp(db, txn, rec.versionstamp)) != 0)
		return ret;
	ret = kvdb_replace_record(db, txn, op->key, op->key_len, old_expiry, &rec);
	if (ret != 0)
		return ret;
	if ((ret = store_purge_some(db, txn, now)) != 0)
		return ret;
	put->versionstamp = rec.versionstamp;
	put->expires_at = rec.expires_at;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_put(struct store *st, struct store_put *put)
{
	return store_run_key(st, true, put_body, put->key, put->key_len, put);
}

static int delete_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct store_key_op *op = arg;
	struct store_delete *del = op->args;
	int64_t now = util_now_ms();
	uint64_t last_vs;
	int64_t old_expiry;
	bool found, live;
	int ret;

	ret = write_prepare(db, txn, op, del->if_match, NULL, now, &last_vs, &found, &live,
			    &old_expiry);
	if (ret != 0)
		return ret;
	if (found) {
		/* An expired record goes too, though the client is told that
		 * there was nothing to delete; the log shows it expired. */
		if ((ret = kvdb_write_versionstamp(db, txn, last_vs + 1)) != 0 ||
		    (ret = kvdb_del(db, txn, op->key, op->key_len)) != 0)
			return ret;
		del->versionstamp = live ? last_vs + 1 : 0;
	}
	if ((ret = store_purge_some(db, txn, now)) != 0)
		return ret;
	del->deleted = live;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_delete(struct store *st, struct store_delete *del)
{
	return store_run_key(st, true, delete_body, del->key, del->key_len, del);
}

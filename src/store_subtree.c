/* store_subtree.c: the service's recursive delete: a key and every key
 * below it
 *
 * One write transaction: the counter is locked first, as by every write,
 * so that no other write lands under the prefix meanwhile; the records are
 * counted against the bound, then collected a batch at a time with a
 * cursor and each removed through the core's delete (kvdb_del), all under
 * one new versionstamp. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "util.h"

/* Keys collected by one pass of the cursor before they are deleted: the
 * cursor is closed before the deletes, so that none of them lands under
 * it, and the batch bounds the memory a subtree of long keys takes. */
#define DELETE_BATCH 64

struct tree_op {
	struct store_delete_tree *del;
	char prefix[KEYPATH_MAX];	/* encoded */
	size_t prefix_len;
	enum store_status outcome;
	char (*batch)[KEYPATH_MAX + 1];
	size_t batch_len[DELETE_BATCH];
};

/* Whether an encoded key is the prefix or lies below it. */
static bool in_subtree(const struct tree_op *op, const DBT *k)
{
	const char *key = k->data;

	return k->size >= op->prefix_len && memcmp(key, op->prefix, op->prefix_len) == 0 &&
	       (k->size == op->prefix_len || key[op->prefix_len] == KEYPATH_SEP);
}

/* Opens a cursor on the subtree's first record, reading keys into kbuf
 * and, with header set, the records' headers into d (else nothing). */
static int subtree_first(struct kvdb *db, DB_TXN *txn, const struct tree_op *op, DBC **cursor,
			 DBT *k, char *kbuf, DBT *d, unsigned char *header)
{
	DB *primary = kvdb_primary(db);
	int ret;

	memset(k, 0, sizeof(*k));
	k->data = kbuf;
	k->ulen = KEYPATH_MAX + 1;
	k->flags = DB_DBT_USERMEM;
	memcpy(kbuf, op->prefix, op->prefix_len);
	k->size = (u_int32_t)op->prefix_len;
	memset(d, 0, sizeof(*d));
	d->data = header;
	d->ulen = header != NULL ? RECORD_HEADER : 0;
	d->dlen = d->ulen;
	d->flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	if ((ret = primary->cursor(primary, txn, cursor, 0)) != 0)
		return ret;
	/* DB_RMW: the records are write-locked at once, as they will be
	 * deleted, so that no reader's lock makes the delete upgrade. */
	return (*cursor)->get(*cursor, k, d, DB_SET_RANGE | DB_RMW);
}

/* Counts the records of the subtree, stopping once past max, and the
 * live ones among them. */
static int subtree_count(struct kvdb *db, DB_TXN *txn, struct tree_op *op, int64_t now,
			 uint64_t *records, uint64_t *live)
{
	unsigned char header[RECORD_HEADER];
	char kbuf[KEYPATH_MAX + 1];
	DBC *cursor = NULL;
	struct record rec;
	DBT k, d;
	int ret;

	*records = *live = 0;
	for (ret = subtree_first(db, txn, op, &cursor, &k, kbuf, &d, header);
	     ret == 0 && in_subtree(op, &k) && *records <= op->del->max;
	     ret = cursor->get(cursor, &k, &d, DB_NEXT | DB_RMW)) {
		if ((ret = kvdb_unpack(db, &d, &rec)) != 0)
			break;
		++*records;
		if (!record_expired(&rec, now))
			++*live;
	}
	return kvdb_cursor_end(cursor, ret);
}

/* Collects up to DELETE_BATCH keys from the subtree's first one into the
 * batch; *n says how many. */
static int batch_collect(struct kvdb *db, DB_TXN *txn, struct tree_op *op, size_t *n)
{
	char kbuf[KEYPATH_MAX + 1];
	DBC *cursor = NULL;
	DBT k, d;
	int ret;

	*n = 0;
	for (ret = subtree_first(db, txn, op, &cursor, &k, kbuf, &d, NULL);
	     ret == 0 && in_subtree(op, &k) && *n < DELETE_BATCH;
	     ret = cursor->get(cursor, &k, &d, DB_NEXT | DB_RMW)) {
		memcpy(op->batch[*n], k.data, k.size);
		op->batch_len[*n] = k.size;
		++*n;
	}
	return kvdb_cursor_end(cursor, ret);
}

/* Deletes every record of the subtree, records of them in all. */
static int subtree_delete(struct kvdb *db, DB_TXN *txn, struct tree_op *op, uint64_t records)
{
	uint64_t done = 0;
	size_t n;
	int ret;

	while (done < records) {
		if ((ret = batch_collect(db, txn, op, &n)) != 0)
			return ret;
		if (n == 0)	/* within one transaction the count cannot shrink */
			return EINVAL;
		for (size_t i = 0; i < n; i++) {
			if ((ret = kvdb_del(db, txn, op->batch[i], op->batch_len[i])) != 0)
				return ret;
		}
		done += n;
	}
	return 0;
}

/* A subtree under the bound can still hold more pages than the lock
 * table has room for (big values, few to a page): Berkeley DB then fails
 * with ENOMEM, and the transaction is refused as too large, nothing
 * deleted, rather than answered as an internal error. */
static int tree_refusal(struct tree_op *op, int ret)
{
	if (ret != ENOMEM)
		return ret;
	op->outcome = STORE_TOO_MANY;
	return KVDB_ROLLBACK;
}

static int tree_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct tree_op *op = arg;
	struct store_delete_tree *del = op->del;
	int64_t now = util_now_ms();
	uint64_t last_vs, records, live;
	int ret;

	if ((ret = kvdb_lock_counter(db, txn, &last_vs)) != 0)
		return ret;
	if ((ret = subtree_count(db, txn, op, now, &records, &live)) != 0)
		return tree_refusal(op, ret);
	if (records > del->max) {
		op->outcome = STORE_TOO_MANY;
		return KVDB_ROLLBACK;
	}
	if (records > 0) {
		del->versionstamp = last_vs + 1;
		if ((ret = kvdb_write_versionstamp(db, txn, del->versionstamp)) != 0 ||
		    (ret = subtree_delete(db, txn, op, records)) != 0)
			return tree_refusal(op, ret);
	}
	if ((ret = store_purge_some(db, txn, now)) != 0)
		return ret;
	del->deleted = live;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_delete_tree(struct store *st, struct store_delete_tree *del)
{
	struct tree_op *op = calloc(1, sizeof(*op));
	enum store_status status = STORE_ERROR;

	del->deleted = 0;
	del->versionstamp = 0;
	if (op == NULL || del->prefix_len == 0 || del->prefix_len > KEYPATH_MAX)
		goto out;
	if ((op->batch = malloc(DELETE_BATCH * sizeof(*op->batch))) == NULL)
		goto out;
	op->del = del;
	keypath_encode(del->prefix, del->prefix_len, op->prefix);
	op->prefix_len = del->prefix_len;
	status = kvdb_run(st->db, true, tree_body, op);
	if (status == STORE_OK)
		status = op->outcome;
out:
	if (op != NULL)
		free(op->batch);
	free(op);
	return status;
}

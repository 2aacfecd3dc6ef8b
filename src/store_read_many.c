/* store_read_many.c: the service's read of many keys from one snapshot
 *
 * The keys are read in one transaction (kvdb_run's write kind, the only
 * one that has a transaction) that first reads the versionstamp counter.
 * Its read lock lasts until the end, and every write locks the counter
 * first for writing: no write commits between the first read and the
 * last, so the keys are read as of the counter's versionstamp. The
 * transaction writes nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "util.h"

static void read_reset(struct store_read_many *read)
{
	for (size_t i = 0; i < read->n_keys; i++) {
		store_item_free(&read->keys[i].item);
		memset(&read->keys[i].item, 0, sizeof(read->keys[i].item));
		read->keys[i].found = false;
	}
	read->versionstamp = 0;
}

void store_read_many_free(struct store_read_many *read)
{
	read_reset(read);
}

/* Reads one key's live record into a copy of its own. */
static int read_one(struct kvdb *db, DB_TXN *txn, int64_t now, struct store_read_key *rk)
{
	DB *primary = kvdb_primary(db);
	char key[KEYPATH_MAX];
	struct record rec;
	DBT k, d;
	int ret;

	keypath_encode(rk->key, rk->key_len, key);
	kvdb_dbt(&k, key, rk->key_len);
	kvdb_dbt_grown(&d);
	ret = primary->get(primary, txn, &k, &d, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		goto out;
	if ((ret = kvdb_unpack(db, &d, &rec)) != 0 || record_expired(&rec, now))
		goto out;
	rk->found = true;
	rk->item.versionstamp = rec.versionstamp;
	rk->item.expires_at = rec.expires_at;
	rk->item.value = rec.value;
	rk->item.value_len = rec.value_len;
	rk->item.kind = rec.kind;
	rk->item.buf = d.data;	/* the value points into it */
	d.data = NULL;
out:
	free(d.data);
	return ret;
}

static int read_many_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct store_read_many *read = arg;
	int64_t now = util_now_ms();
	struct record counter;
	bool found;
	int ret;

	read_reset(read);	/* a retried transaction reads every key again */
	ret = kvdb_read_header(db, txn, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY), 0, &found,
			       &counter);
	if (ret != 0)
		return ret;
	read->versionstamp = found ? counter.versionstamp : 0;
	for (size_t i = 0; i < read->n_keys; i++) {
		if ((ret = read_one(db, txn, now, &read->keys[i])) != 0)
			return ret;
	}
	return 0;
}

enum store_status store_read_many(struct store *st, struct store_read_many *read)
{
	enum store_status status;

	for (size_t i = 0; i < read->n_keys; i++) {
		if (read->keys[i].key_len == 0 || read->keys[i].key_len > KEYPATH_MAX)
			return STORE_ERROR;
		memset(&read->keys[i].item, 0, sizeof(read->keys[i].item));
		read->keys[i].found = false;
	}
	status = kvdb_run(st->db, true, read_many_body, read);
	if (status != STORE_OK)
		read_reset(read);
	return status;
}

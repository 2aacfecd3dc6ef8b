/* store_read.c: the service's reads: one key, and the health check */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "util.h"

/* Reads key's record into the store's own buffer, growing it as needed. */
static int get_reused(struct store *st, DB_TXN *txn, DBT *k, DBT *d)
{
	DB *primary = kvdb_primary(st->db);
	void *grown;
	int ret;

	for (;;) {
		memset(d, 0, sizeof(*d));
		d->data = st->get_buf;
		d->ulen = st->get_cap;
		d->flags = DB_DBT_USERMEM;
		ret = primary->get(primary, txn, k, d, 0);
		if (ret != DB_BUFFER_SMALL)
			return ret;
		if ((grown = realloc(st->get_buf, d->size)) == NULL)
			return ENOMEM;
		st->get_buf = grown;
		st->get_cap = d->size;
	}
}

static int get_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct store_key_op *op = arg;
	struct store_item *item = op->args;
	struct record rec;
	DBT k, d;
	int ret;

	kvdb_dbt(&k, op->key, op->key_len);
	ret = get_reused(op->st, txn, &k, &d);
	if (ret == DB_NOTFOUND) {
		op->outcome = STORE_NOTFOUND;
		return 0;
	}
	if (ret != 0)
		return ret;
	if ((ret = kvdb_unpack(db, &d, &rec)) != 0)
		return ret;
	op->outcome = record_expired(&rec, util_now_ms()) ? STORE_NOTFOUND : STORE_OK;
	item->versionstamp = rec.versionstamp;
	item->expires_at = rec.expires_at;
	item->value = rec.value;
	item->value_len = rec.value_len;
	item->kind = rec.kind;
	return 0;
}

enum store_status store_get(struct store *st, const char *key, size_t key_len,
			    struct store_item *item)
{
	memset(item, 0, sizeof(*item));
	return store_run_key(st, false, get_body, key, key_len, item);
}

void store_item_free(struct store_item *item)
{
	free(item->buf);
	item->buf = NULL;
}

static int ping_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct record counter;
	bool found;

	return kvdb_read_header(db, txn, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY), 0,
				&found, &counter);
}

enum store_status store_ping(struct store *st)
{
	return kvdb_run(st->db, false, ping_body, NULL);
}

/* store_admin_dump.c: kvctl's dump and load of records */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_admin_ops.h"
#include "util.h"

struct dump_op {
	struct kvdb_range range;
	store_admin_begin_fn begin;
	store_admin_record_fn fn;
	void *arg;
	int64_t now;		/* records expired by then are left out */
	bool stopped;		/* fn said to stop */
};

/* Hands one live record under the prefix to the caller's function. */
static int dump_visit(struct kvdb *db, const DBT *k, const DBT *d, void *arg)
{
	struct dump_op *op = arg;
	char key[KEYPATH_MAX + 1];
	struct store_admin_record out;
	struct record rec;
	int ret;

	if (!kvdb_in_range(&op->range, k) || k->size > KEYPATH_MAX)
		return KVDB_STOP;
	/* A dump is the REST face's: keys a Deno program wrote with parts
	 * of other kinds have no keypath to write (kvctl backup keeps them). */
	if (!keypath_stored_valid(k->data, k->size))
		return 0;
	if ((ret = kvdb_unpack(db, d, &rec)) != 0)
		return ret;
	/* Nor values with no JSON form, which only Deno reads. */
	if (record_expired(&rec, op->now) || !record_kind_json(rec.kind))
		return 0;
	keypath_decode(k->data, k->size, key);
	key[k->size] = '\0';
	out.key = key;
	out.key_len = k->size;
	out.value = rec.value;
	out.value_len = rec.value_len;
	out.expires_at = rec.expires_at;
	out.versionstamp = rec.versionstamp;
	if (op->fn(&out, op->arg))
		return 0;
	op->stopped = true;
	return KVDB_STOP;
}

static int dump_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct dump_op *op = arg;
	char start[KEYPATH_MAX + 1];
	size_t start_len = kvdb_range_first(&op->range, start);
	struct record counter;
	bool found;
	int ret;

	op->now = util_now_ms();
	if (op->begin != NULL) {
		ret = kvdb_read_header(db, txn, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY), 0,
				       &found, &counter);
		if (ret != 0)
			return ret;
		if (!op->begin(found ? counter.versionstamp : 0, op->arg)) {
			op->stopped = true;
			return 0;
		}
	}
	return kvdb_walk(db, txn, start, start_len, dump_visit, op);
}

enum store_status store_admin_dump(struct store_admin *sa, const char *prefix, size_t prefix_len,
				   store_admin_begin_fn begin, store_admin_record_fn fn,
				   void *arg, struct error *err)
{
	struct dump_op *op = calloc(1, sizeof(*op));
	struct store_admin *copy = NULL;
	enum store_status status;

	if (op == NULL)
		return store_admin_error(ENOMEM, err);
	if (prefix_len > KEYPATH_MAX) {
		status = store_admin_error(EINVAL, err);
		goto out;
	}
	op->begin = begin;
	op->fn = fn;
	op->arg = arg;
	kvdb_range_init(&op->range, prefix, prefix_len);
	if ((status = store_admin_copy(sa, &copy, err)) != STORE_OK)
		goto out;
	/* Nothing else uses the copy: the read never has to be run again,
	 * so no record is handed to fn twice. */
	if ((status = kvdb_run(copy->db, false, dump_body, op)) != STORE_OK)
		store_admin_fail(copy->db, status, err);
	else if (op->stopped)
		status = store_admin_error(EPIPE, err);
out:
	store_admin_close(copy);
	free(op);
	return status;
}

static int fresh_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	DB *primary = kvdb_primary(db);
	DBT k, d;
	int ret;

	kvdb_dbt(&k, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY));
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	ret = primary->get(primary, txn, &k, &d, 0);
	*(bool *)arg = ret == DB_NOTFOUND;
	return ret == DB_NOTFOUND ? 0 : ret;
}

enum store_status store_admin_fresh(struct store_admin *sa, bool *fresh, struct error *err)
{
	enum store_status status = kvdb_run(sa->db, false, fresh_body, fresh);

	return status == STORE_OK ? STORE_OK : store_admin_fail(sa->db, status, err);
}

struct load_op {
	const struct store_admin_record *recs;
	size_t n;
	bool keep;
	uint64_t skipped;
	uint64_t versionstamp;	/* the counter when the transaction ends */
};

static int load_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct load_op *op = arg;
	int64_t now = util_now_ms();
	char key[KEYPATH_MAX];
	struct record rec;
	uint64_t vs;
	int ret;

	op->skipped = 0;
	if ((ret = kvdb_lock_counter(db, txn, &vs)) != 0)
		return ret;
	op->versionstamp = vs;
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
		rec.kind = RECORD_JSON;
		keypath_encode(in->key, in->key_len, key);
		if ((ret = kvdb_put_record(db, txn, key, in->key_len, &rec)) != 0)
			return ret;
	}
	/* Nothing written (every record expired, or none): the counter stays
	 * as it is, and a store that never took a write stays so. */
	if (op->skipped == op->n)
		return 0;
	op->versionstamp = vs;
	return kvdb_write_versionstamp(db, txn, vs);
}

enum store_status store_admin_load(struct store_admin *sa, const struct store_admin_record *recs,
				   size_t n, bool keep_versionstamps, uint64_t *skipped,
				   uint64_t *versionstamp, struct error *err)
{
	struct load_op op = { .recs = recs, .n = n, .keep = keep_versionstamps };
	enum store_status status = kvdb_run(sa->db, true, load_body, &op);

	*skipped = op.skipped;
	if (versionstamp != NULL)
		*versionstamp = op.versionstamp;
	if (status != STORE_OK)
		return store_admin_fail(sa->db, status, err);
	kvdb_checkpoint(sa->db, 4096, 1);
	kvdb_yield();
	return STORE_OK;
}

/* store_commit.c: the service's atomic commits of checks and mutations */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "store_ops.h"
#include "util.h"

/* A key's btree form: a dotted keypath encoded, a stored one as it is. */
static void btree_key(const char *key, size_t len, bool stored, char *out)
{
	if (stored)
		memcpy(out, key, len);
	else
		keypath_encode(key, len, out);
}

struct commit_op {
	struct store_commit *commit;
	enum store_status outcome;
};

/* Whether one check holds: an expired key counts as absent. */
static int check_holds(struct kvdb *db, DB_TXN *txn, const struct store_check *c,
		       int64_t now, bool *holds)
{
	char key[KEYPATH_MAX];
	struct record cur;
	bool found;
	int ret;

	btree_key(c->key, c->key_len, c->stored, key);
	if ((ret = kvdb_read_header(db, txn, key, c->key_len, 0, &found, &cur)) != 0)
		return ret;
	found = found && !record_expired(&cur, now);
	*holds = c->absent ? !found : found && cur.versionstamp == c->versionstamp;
	return 0;
}

/* sum, min or max of the live value (absent: the operand alone) and the
 * operand; the outcome says why not when the value is not an integer or
 * the result leaves the signed 64-bit range. */
static enum store_status combine(const struct store_mutation *m, const struct record *cur,
				 bool live, int64_t *result)
{
	int64_t v;

	*result = m->operand;
	if (!live)
		return STORE_OK;
	if (!record_kind_json(cur->kind))
		return STORE_TYPE_MISMATCH;
	switch (jsontext_integer(cur->value, cur->value_len, &v)) {
	case JSONTEXT_NOT_INTEGER:
		return STORE_TYPE_MISMATCH;
	case JSONTEXT_OUT_OF_RANGE:
		return STORE_OVERFLOW;
	case JSONTEXT_INTEGER:
		break;
	}
	if (m->op == STORE_SUM)
		return __builtin_add_overflow(v, m->operand, result) ? STORE_OVERFLOW : STORE_OK;
	if ((m->op == STORE_MIN) == (v < m->operand))
		*result = v;
	return STORE_OK;
}

/* The same for KvU64s: the stored value must be one. */
static enum store_status combine_u64(const struct store_mutation *m, const struct record *cur,
				     bool live, uint64_t *result)
{
	uint64_t v;

	*result = m->operand_u64;
	if (!live)
		return STORE_OK;
	if (cur->kind != RECORD_U64 || !util_parse_u64(cur->value, cur->value_len, &v))
		return STORE_TYPE_MISMATCH;
	if (m->op == STORE_SUM)
		*result = v + m->operand_u64;
	else if ((m->op == STORE_MIN) == (v < m->operand_u64))
		*result = v;
	return STORE_OK;
}

/* The result of sum, min or max as the record's value, in text[24]. */
static enum store_status combine_text(const struct store_mutation *m, const struct record *cur,
				      bool live, struct record *rec, char *text)
{
	enum store_status outcome;
	uint64_t u;
	int64_t i;

	if (m->u64) {
		outcome = combine_u64(m, cur, live, &u);
		rec->value_len = (size_t)snprintf(text, 24, "%" PRIu64, u);
		rec->kind = RECORD_U64;
	} else {
		outcome = combine(m, cur, live, &i);
		rec->value_len = (size_t)snprintf(text, 24, "%" PRId64, i);
	}
	rec->value = text;
	return outcome;
}

/* Applies sum, min or max to one key: reads its whole record, takes the
 * write lock at once, and writes the result as a JSON integer. */
static int apply_combine(struct kvdb *db, DB_TXN *txn, const struct store_mutation *m,
			 const char *key, struct record *rec, int64_t now,
			 enum store_status *outcome)
{
	DB *primary = kvdb_primary(db);
	char text[24];
	struct record cur;
	int64_t old_expiry = 0;
	bool live = false;
	DBT k, d;
	int ret;

	kvdb_dbt(&k, key, m->key_len);
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_MALLOC;
	ret = primary->get(primary, txn, &k, &d, DB_RMW);
	if (ret == 0 && (ret = kvdb_unpack(db, &d, &cur)) == 0) {
		live = !record_expired(&cur, now);
		old_expiry = cur.expires_at;
	} else if (ret == DB_NOTFOUND) {
		ret = 0;
	}
	if (ret != 0)
		goto out;
	if ((*outcome = combine_text(m, &cur, live, rec, text)) != STORE_OK) {
		ret = KVDB_ROLLBACK;
		goto out;
	}
	/* A new ttl replaces the key's expiry; without one it stays. */
	if (m->ttl_ms == 0 && live && !m->u64)
		rec->expires_at = cur.expires_at;
	ret = kvdb_replace_record(db, txn, key, m->key_len, old_expiry, rec);
out:
	free(d.data);
	return ret;
}

static int apply_mutation(struct kvdb *db, DB_TXN *txn, const struct store_mutation *m,
			  uint64_t vs, int64_t now, enum store_status *outcome)
{
	char key[KEYPATH_MAX];
	struct record rec = {
		.versionstamp = vs,
		.expires_at = m->ttl_ms > 0 ? now + m->ttl_ms : 0,
		.value = m->value,
		.value_len = m->value_len,
		.kind = m->kind != 0 ? m->kind : RECORD_JSON,
	};
	int ret;

	btree_key(m->key, m->key_len, m->stored, key);
	switch (m->op) {
	case STORE_SET:
		return kvdb_put_record(db, txn, key, m->key_len, &rec);
	case STORE_DELETE:
		ret = kvdb_del(db, txn, key, m->key_len);
		return ret == DB_NOTFOUND ? 0 : ret;
	default:
		return apply_combine(db, txn, m, key, &rec, now, outcome);
	}
}

static int commit_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct commit_op *op = arg;
	struct store_commit *c = op->commit;
	int64_t now = util_now_ms();
	uint64_t last_vs;
	bool holds;
	int ret;

	if ((ret = kvdb_lock_counter(db, txn, &last_vs)) != 0)
		return ret;
	for (size_t i = 0; i < c->n_checks; i++) {
		if ((ret = check_holds(db, txn, &c->checks[i], now, &holds)) != 0)
			return ret;
		if (!holds) {
			c->failed = i;
			op->outcome = STORE_CHECK_FAILED;
			return KVDB_ROLLBACK;
		}
	}
	c->versionstamp = last_vs;
	if (c->n_mutations == 0) {
		op->outcome = STORE_OK;
		return KVDB_ROLLBACK;	/* nothing to write */
	}
	c->versionstamp = last_vs + 1;
	for (size_t i = 0; i < c->n_mutations; i++) {
		ret = apply_mutation(db, txn, &c->mutations[i], c->versionstamp, now, &op->outcome);
		if (ret != 0) {
			c->failed = i;
			return ret;
		}
	}
	if ((ret = kvdb_write_versionstamp(db, txn, c->versionstamp)) != 0)
		return ret;
	if ((ret = store_purge_some(db, txn, now)) != 0)
		return ret;
	op->outcome = STORE_OK;
	return 0;
}

enum store_status store_commit(struct store *st, struct store_commit *commit)
{
	struct commit_op op = { .commit = commit, .outcome = STORE_ERROR };
	enum store_status status = kvdb_run(st->db, true, commit_body, &op);

	return status == STORE_OK ? op.outcome : status;
}

/* store_changes.c: the service's change feed: reading the change log, and
 * removing expired keys on time so that the feed shows them */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "util.h"

/* An answer holds at most this many bytes of values, a commit's own
 * aside: a client with big values gets shorter answers. */
#define CHANGES_PAGE_BYTES (4u << 20)

/* Changes outside the prefix one answer looks at before it answers with
 * what it has: a narrow feed over a long log answers in bounded time. */
#define CHANGES_SCAN_MAX 100000

/* Expired keys one sweep removes in one transaction. */
#define EXPIRE_BATCH 256
#define EXPIRE_ROUNDS 16

struct wake *store_wake(struct store *st)
{
	return kvdb_wake(st->db);
}

static void changes_reset(struct store_changes *ch)
{
	for (size_t i = 0; i < ch->count; i++) {
		free(ch->changes[i].key);
		free(ch->changes[i].value);
	}
	free(ch->changes);
	ch->changes = NULL;
	ch->count = 0;
	ch->more = false;
}

void store_changes_free(struct store_changes *ch)
{
	changes_reset(ch);
}

struct changes_op {
	struct store_changes *ch;
	char prefix[KEYPATH_MAX];	/* encoded */
	struct kvdb_range range;
	size_t cap;
	size_t page_bytes;
	enum store_status outcome;
};

static bool changes_match(const struct changes_op *op, const struct changelog_entry *e)
{
	DBT k;

	/* A Deno key with parts of other kinds has no keypath to show. */
	if (!keypath_stored_valid(e->key, e->key_len))
		return false;
	if (op->ch->prefix_len == 0)
		return true;
	if (e->key_len == op->ch->prefix_len && memcmp(e->key, op->prefix, e->key_len) == 0)
		return true;
	kvdb_dbt(&k, e->key, e->key_len);
	return kvdb_in_range(&op->range, &k);
}

static const enum store_change_op ops[] = {
	[CHANGELOG_SET] = STORE_CHANGE_SET,
	[CHANGELOG_DELETE] = STORE_CHANGE_DELETE,
	[CHANGELOG_EXPIRE] = STORE_CHANGE_EXPIRE,
};

/* Takes a copy of the change into the answer. */
static int changes_keep(struct changes_op *op, const struct changelog_entry *e)
{
	struct store_changes *ch = op->ch;
	struct store_change *c;

	if (ch->count == op->cap) {
		size_t cap = op->cap == 0 ? 16 : 2 * op->cap;
		struct store_change *grown = realloc(ch->changes, cap * sizeof(*grown));

		if (grown == NULL)
			return ENOMEM;
		ch->changes = grown;
		op->cap = cap;
	}
	c = &ch->changes[ch->count];
	memset(c, 0, sizeof(*c));
	if ((c->key = malloc(e->key_len + 1)) == NULL)
		return ENOMEM;
	keypath_decode(e->key, e->key_len, c->key);
	c->key[e->key_len] = '\0';
	c->key_len = e->key_len;
	c->op = ops[e->op];
	c->versionstamp = e->versionstamp;
	c->expires_at = e->expires_at;
	c->kind = e->opaque != 0 ? (enum record_kind)e->opaque : RECORD_JSON;
	if (ch->with_values && e->op == CHANGELOG_SET) {
		if ((c->value = malloc(e->value_len + 1)) == NULL) {
			free(c->key);
			return ENOMEM;
		}
		/* A value with no JSON form is not in the log. */
		if (e->value_len > 0)
			memcpy(c->value, e->value, e->value_len);
		c->value_len = e->value_len;
		op->page_bytes += e->value_len;
	}
	ch->count++;
	return 0;
}

/* Whether the answer ends before the commit of e begins: it has enough,
 * or looked at enough. */
static bool changes_full(const struct changes_op *op, size_t scanned)
{
	return op->ch->count >= op->ch->limit || op->page_bytes >= CHANGES_PAGE_BYTES ||
	       scanned >= CHANGES_SCAN_MAX;
}

/* Walks the log from the commit after since up to current, the counter
 * read first: every commit up to it is whole in the log. */
static int changes_walk(struct kvdb *db, struct changes_op *op, uint64_t current)
{
	struct store_changes *ch = op->ch;
	unsigned char start[CHANGELOG_KEY_LEN];
	struct changelog_entry e;
	uint64_t commit = ch->since;	/* the last commit looked at whole */
	size_t scanned = 0;
	DBC *cursor = NULL;
	DB *log = kvdb_changes(db);
	DBT k, d;
	int ret;

	ch->versionstamp = current;
	changelog_key_pack(ch->since + 1, 0, start);
	memset(&k, 0, sizeof(k));
	k.data = start;
	k.size = sizeof(start);
	k.ulen = sizeof(start);
	k.flags = DB_DBT_USERMEM;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	if ((ret = log->cursor(log, NULL, &cursor, 0)) != 0)
		goto out;
	for (ret = cursor->get(cursor, &k, &d, DB_SET_RANGE); ret == 0;
	     ret = cursor->get(cursor, &k, &d, DB_NEXT)) {
		if (!changelog_unpack(k.data, k.size, d.data, d.size, &e)) {
			ret = EINVAL;
			goto out;
		}
		if (e.versionstamp > current) {
			ch->more = true;
			break;
		}
		if (e.versionstamp != commit) {
			/* Between two commits: the answer may end here. */
			if (changes_full(op, scanned)) {
				ch->versionstamp = commit;
				ch->more = true;
				break;
			}
			commit = e.versionstamp;
		}
		scanned++;
		if (changes_match(op, &e) && (ret = changes_keep(op, &e)) != 0)
			goto out;
	}
out:
	free(d.data);
	return kvdb_cursor_end(cursor, ret);
}

static int changes_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct changes_op *op = arg;
	struct store_changes *ch = op->ch;
	struct changelog_meta meta;
	uint64_t current, floor;
	int ret;

	changes_reset(ch);	/* a retried read starts again */
	op->cap = 0;
	op->page_bytes = 0;
	op->outcome = STORE_OK;
	if ((ret = kvdb_read_counter(db, txn, 0, &current, &meta)) != 0)
		return ret;
	floor = meta.present ? meta.floor : current;
	if (!ch->has_since) {
		ch->versionstamp = current;
		return 0;
	}
	if (ch->since > current || ch->since < floor) {
		op->outcome = ch->since > current ? STORE_AHEAD : STORE_GONE;
		return KVDB_ROLLBACK;
	}
	if ((ret = changes_walk(db, op, current)) != 0)
		return ret;
	/* Pruned while the walk went on: what it did not find is gone. */
	if ((ret = kvdb_read_counter(db, txn, 0, &current, &meta)) != 0)
		return ret;
	if (meta.present && ch->since < meta.floor) {
		op->outcome = STORE_GONE;
		return KVDB_ROLLBACK;
	}
	return 0;
}

enum store_status store_changes(struct store *st, struct store_changes *ch)
{
	struct changes_op *op = calloc(1, sizeof(*op));
	enum store_status status = STORE_ERROR;
	int64_t next;

	ch->changes = NULL;
	ch->count = 0;
	ch->more = false;
	if (op == NULL)
		return STORE_ERROR;
	op->ch = ch;
	keypath_encode(ch->prefix, ch->prefix_len, op->prefix);
	kvdb_range_init(&op->range, ch->prefix, ch->prefix_len);
	/* Keys whose expiry passed are removed first, so that the answer
	 * shows them; a store that cannot write now still answers. */
	if (ch->has_since)
		(void)store_expire_due(st, &next);
	status = kvdb_run(st->db, false, changes_body, op);
	if (status == STORE_OK)
		status = op->outcome;
	if (status != STORE_OK)
		changes_reset(ch);
	free(op);
	return status;
}

static int versionstamp_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct changelog_meta meta;

	return kvdb_read_counter(db, txn, 0, arg, &meta);
}

enum store_status store_versionstamp(struct store *st, uint64_t *vs)
{
	*vs = 0;
	return kvdb_run(st->db, false, versionstamp_body, vs);
}

/* The earliest expiry in the index, 0 for none. */
static int next_expiry(struct kvdb *db, DB_TXN *txn, int64_t *next)
{
	unsigned char when[8];
	DB *expiry = kvdb_expiry(db);
	DBC *cursor = NULL;
	DBT k, d;
	int ret;

	*next = 0;
	if ((ret = expiry->cursor(expiry, txn, &cursor, 0)) != 0)
		return ret;
	memset(&k, 0, sizeof(k));
	k.data = when;
	k.ulen = sizeof(when);
	k.flags = DB_DBT_USERMEM;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	ret = cursor->get(cursor, &k, &d, DB_FIRST);
	if (ret == 0 && k.size == sizeof(when))
		*next = (int64_t)util_get_be64(when);
	return kvdb_cursor_end(cursor, ret);
}

static int next_expiry_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	return next_expiry(db, txn, arg);
}

struct expire_op {
	unsigned removed;
};

static int expire_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct expire_op *op = arg;
	uint64_t vs;
	int ret;

	op->removed = 0;
	if ((ret = kvdb_lock_counter(db, txn, &vs)) != 0)
		return ret;
	return kvdb_purge(db, txn, util_now_ms(), EXPIRE_BATCH, &op->removed);
}

enum store_status store_expire_due(struct store *st, int64_t *next)
{
	struct expire_op op;
	enum store_status status;

	/* Bounded: a store with more due than this is swept further by the
	 * next call. */
	for (int round = 0; round < EXPIRE_ROUNDS; round++) {
		status = kvdb_run(st->db, false, next_expiry_body, next);
		if (status != STORE_OK || *next == 0 || *next > util_now_ms())
			return status;
		status = kvdb_run(st->db, true, expire_body, &op);
		if (status != STORE_OK)
			return status;
		if (op.removed == EXPIRE_BATCH)
			kvdb_yield();
	}
	return STORE_OK;
}

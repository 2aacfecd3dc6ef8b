/* store_children.c: the service's one-level list: the direct children of
 * a prefix
 *
 * A child is the prefix followed by one more segment. The walk finds a
 * child from any key of its subtree, looks at the child's own record and
 * for one live key below it, then seeks past the whole subtree (to the
 * child's key followed by the byte after the separator) or, in reverse,
 * to the key before the child: a child with a million keys below it
 * costs a few seeks, never a read of its descendants. Like a list, it
 * runs outside any transaction. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "util.h"

/* A page holds at most this many bytes of values, as a list's page. */
#define CHILDREN_PAGE_BYTES (4u << 20)

static void children_reset(struct store_children *page)
{
	for (size_t i = 0; i < page->count; i++) {
		free(page->entries[i].entry.key);
		store_item_free(&page->entries[i].entry.item);
	}
	free(page->entries);
	page->entries = NULL;
	page->count = 0;
	page->more = false;
}

void store_children_free(struct store_children *page)
{
	children_reset(page);
}

/* An encoded key: a child's, or where a cursor is to go. */
struct ekey {
	char bytes[KEYPATH_MAX + 2];
	size_t len;
};

struct children_op {
	struct kvdb *db;
	struct store_children *page;
	struct kvdb_range range;	/* the keys strictly under the prefix */
	int64_t now;
	DBC *cursor;
	DBT k, d;
	char kbuf[KEYPATH_MAX + 1];
	size_t page_bytes;
};

/* Moves the cursor to key's position (DB_SET_RANGE) reading headers only. */
static int seek(struct children_op *op, const struct ekey *key, u_int32_t dlen)
{
	memcpy(op->kbuf, key->bytes, key->len);
	op->k.size = (u_int32_t)key->len;
	op->d.flags = DB_DBT_REALLOC | DB_DBT_PARTIAL;
	op->d.dlen = dlen;
	return op->cursor->get(op->cursor, &op->k, &op->d, DB_SET_RANGE);
}

/* Moves the cursor to the last key before key. */
static int seek_before(struct children_op *op, const struct ekey *key)
{
	int ret = seek(op, key, 0);

	if (ret == DB_NOTFOUND)
		return op->cursor->get(op->cursor, &op->k, &op->d, DB_LAST);
	if (ret != 0)
		return ret;
	return op->cursor->get(op->cursor, &op->k, &op->d, DB_PREV);
}

/* The child whose subtree holds the cursor's key, which is in range. */
static void child_of(const struct children_op *op, struct ekey *child)
{
	const char *key = op->k.data;
	size_t from = op->range.len;
	const char *sep = memchr(key + from, KEYPATH_SEP, op->k.size - from);

	child->len = sep != NULL ? (size_t)(sep - key) : op->k.size;
	memcpy(child->bytes, key, child->len);
}

/* The child's key followed by one byte: the first key of its subtree
 * (the separator) or the first key past it (the byte after). */
static void child_bound(const struct ekey *child, char byte, struct ekey *out)
{
	memcpy(out->bytes, child->bytes, child->len);
	out->bytes[child->len] = byte;
	out->len = child->len + 1;
}

/* Whether a live key lies below the child: the first one of its subtree
 * that has not expired, expired ones passed over. */
static int child_has_live(struct children_op *op, const struct ekey *child, bool *found)
{
	struct ekey first;
	struct record rec;
	int ret;

	*found = false;
	child_bound(child, KEYPATH_SEP, &first);
	for (ret = seek(op, &first, RECORD_HEADER);
	     ret == 0 && op->k.size > child->len && memcmp(op->k.data, first.bytes, first.len) == 0;
	     ret = op->cursor->get(op->cursor, &op->k, &op->d, DB_NEXT)) {
		if ((ret = kvdb_unpack(op->db, &op->d, &rec)) != 0)
			return ret;
		if (!record_expired(&rec, op->now)) {
			*found = true;
			return 0;
		}
	}
	return ret == DB_NOTFOUND ? 0 : ret;
}

/* Reads the child's own record into e when it is live. */
static int child_value(struct children_op *op, const struct ekey *child,
		       struct store_child *c)
{
	bool with_values = op->page->with_values;
	struct store_item *item = &c->entry.item;
	struct record rec;
	int ret;

	memcpy(op->kbuf, child->bytes, child->len);
	op->k.size = (u_int32_t)child->len;
	op->d.flags = DB_DBT_REALLOC | (with_values ? 0 : DB_DBT_PARTIAL);
	op->d.dlen = RECORD_HEADER;
	ret = op->cursor->get(op->cursor, &op->k, &op->d, DB_SET);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return ret;
	if ((ret = kvdb_unpack(op->db, &op->d, &rec)) != 0)
		return ret;
	if (record_expired(&rec, op->now))
		return 0;
	c->has_value = true;
	item->versionstamp = rec.versionstamp;
	item->expires_at = rec.expires_at;
	item->kind = rec.kind;
	if (with_values && rec.value_len > 0) {
		if ((item->buf = malloc(rec.value_len)) == NULL)
			return ENOMEM;
		memcpy(item->buf, rec.value, rec.value_len);
		item->value = item->buf;
		item->value_len = rec.value_len;
	}
	return 0;
}

/* Looks at one child and keeps it in the page when it holds a live value
 * or has a live key below it; *full when the page had no room left. */
static int child_visit(struct children_op *op, const struct ekey *child, bool *full)
{
	struct store_children *page = op->page;
	struct store_child c = { .has_value = false };
	struct store_entry *e = &c.entry;
	int ret;

	*full = false;
	/* A child whose part is of another kind than a segment (a Deno
	 * key's, connect_key.h) has no keypath; nothing below it has one. */
	if (!keypath_stored_valid(child->bytes, child->len))
		return 0;
	if ((ret = child_value(op, child, &c)) != 0 ||
	    (ret = child_has_live(op, child, &c.has_children)) != 0)
		goto out;
	if (!c.has_value && !c.has_children)
		goto out;
	if (page->count == page->limit ||
	    (page->count > 0 && op->page_bytes + e->item.value_len > CHILDREN_PAGE_BYTES)) {
		page->more = *full = true;
		goto out;
	}
	if ((e->key = malloc(child->len + 1)) == NULL) {
		ret = ENOMEM;
		goto out;
	}
	keypath_decode(child->bytes, child->len, e->key);
	e->key[child->len] = '\0';
	e->key_len = child->len;
	op->page_bytes += e->item.value_len;
	page->entries[page->count++] = c;
	return 0;
out:
	store_item_free(&e->item);
	return ret;
}

/* Moves the cursor to the next child's subtree after child (NULL: the
 * first of the page). */
static int next_child(struct children_op *op, const struct ekey *child)
{
	const struct store_children *page = op->page;
	struct ekey at;

	if (child != NULL) {
		child_bound(child, KEYPATH_SEP + 1, &at);
		return page->reverse ? seek_before(op, child) : seek(op, &at, 0);
	}
	if (page->after != NULL) {
		struct ekey after;

		keypath_encode(page->after, page->after_len, after.bytes);
		after.len = page->after_len;
		child_bound(&after, KEYPATH_SEP + 1, &at);
		return page->reverse ? seek_before(op, &after) : seek(op, &at, 0);
	}
	if (page->reverse) {
		at.len = kvdb_range_past(&op->range, at.bytes);
		return seek_before(op, &at);
	}
	at.len = kvdb_range_first(&op->range, at.bytes);
	return seek(op, &at, 0);
}

/* The store's last versionstamp, read without keeping a lock. */
static int read_versionstamp(struct kvdb *db, DB_TXN *txn, uint64_t *vs)
{
	struct record counter;
	bool found;
	int ret = kvdb_read_header(db, txn, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY), 0,
				   &found, &counter);

	*vs = ret == 0 && found ? counter.versionstamp : 0;
	return ret;
}

static int children_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct children_op *op = arg;
	struct store_children *page = op->page;
	DB *primary = kvdb_primary(db);
	struct ekey child;
	bool full = false;
	int ret;

	children_reset(page);	/* a retried walk starts the page again */
	op->db = db;
	op->now = util_now_ms();
	op->page_bytes = 0;
	op->cursor = NULL;
	if ((page->entries = calloc(page->limit, sizeof(*page->entries))) == NULL)
		return ENOMEM;
	/* Read before the walk: every change committed after it is one
	 * the page may miss and the change feed from it shows. */
	if ((ret = read_versionstamp(db, txn, &page->versionstamp)) != 0)
		return ret;
	if ((ret = primary->cursor(primary, txn, &op->cursor, 0)) != 0)
		goto out;
	ret = next_child(op, NULL);
	while (ret == 0 && kvdb_in_range(&op->range, &op->k)) {
		child_of(op, &child);
		if ((ret = child_visit(op, &child, &full)) != 0 || full)
			break;
		ret = next_child(op, &child);
	}
out:
	ret = kvdb_cursor_end(op->cursor, ret);
	op->cursor = NULL;
	return ret;
}

enum store_status store_children(struct store *st, struct store_children *page)
{
	struct children_op *op = calloc(1, sizeof(*op));
	enum store_status status = STORE_ERROR;

	page->entries = NULL;
	page->count = 0;
	page->more = false;
	if (op == NULL)
		goto out;
	op->page = page;
	kvdb_range_init(&op->range, page->prefix, page->prefix_len);
	op->k.data = op->kbuf;
	op->k.ulen = sizeof(op->kbuf);
	op->k.flags = DB_DBT_USERMEM;
	status = kvdb_run(st->db, false, children_body, op);
	if (status != STORE_OK)
		children_reset(page);
	free(op->d.data);
out:
	free(op);
	return status;
}

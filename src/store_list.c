/* store_list.c: the service's list pages: live keys under a prefix */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"
#include "util.h"

/* A page of a list holds at most this many bytes of values; a client with
 * big values gets shorter pages and follows the cursor. */
#define LIST_PAGE_BYTES (4u << 20)

static void list_reset(struct store_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->entries[i].key);
		store_item_free(&list->entries[i].item);
	}
	free(list->entries);
	list->entries = NULL;
	list->count = 0;
	list->more = false;
}

void store_list_free(struct store_list *list)
{
	list_reset(list);
}

struct list_op {
	struct store_list *list;
	struct kvdb_range range;
	char start[KEYPATH_MAX + 1];	/* encoded key to position at */
	size_t start_len;
};

/* Takes a copy of the entry under the cursor into the page. */
static int list_keep(struct store_list *list, const DBT *k, const DBT *d, const struct record *rec)
{
	struct store_entry *e = &list->entries[list->count];

	memset(e, 0, sizeof(*e));
	e->key = malloc(k->size + 1);
	if (e->key == NULL)
		return ENOMEM;
	keypath_decode(k->data, k->size, e->key);
	e->key[k->size] = '\0';
	e->key_len = k->size;
	e->item.versionstamp = rec->versionstamp;
	e->item.expires_at = rec->expires_at;
	e->item.kind = rec->kind;
	if (list->with_values && rec->value_len > 0) {
		e->item.buf = malloc(rec->value_len);
		if (e->item.buf == NULL) {
			free(e->key);
			return ENOMEM;
		}
		memcpy(e->item.buf, rec->value, rec->value_len);
		e->item.value = e->item.buf;
		e->item.value_len = rec->value_len;
	}
	list->count++;
	return 0;
}

/* Positions the cursor on the first candidate of the page: forward, the
 * first key at or after start; in reverse, the last key before it. */
static int list_position(DBC *cursor, struct list_op *op, DBT *k, DBT *d)
{
	int ret;

	memcpy(k->data, op->start, op->start_len);
	k->size = (u_int32_t)op->start_len;
	ret = cursor->get(cursor, k, d, DB_SET_RANGE);
	if (!op->list->reverse)
		return ret;
	if (ret == DB_NOTFOUND)
		return cursor->get(cursor, k, d, DB_LAST);
	if (ret != 0)
		return ret;
	return cursor->get(cursor, k, d, DB_PREV);
}

static int list_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct list_op *op = arg;
	struct store_list *list = op->list;
	int64_t now = util_now_ms();
	char keybuf[KEYPATH_MAX + 1];
	size_t page_bytes = 0;
	DBC *cursor = NULL;
	DB *primary;
	struct changelog_meta meta;
	struct record rec;
	DBT k, d;
	int ret;
	bool after = list->after != NULL;

	list_reset(list);	/* a retried transaction starts the page again */
	list->entries = calloc(list->limit, sizeof(*list->entries));
	if (list->entries == NULL)
		return ENOMEM;
	memset(&k, 0, sizeof(k));
	k.data = keybuf;
	k.ulen = sizeof(keybuf);
	k.flags = DB_DBT_USERMEM;
	memset(&d, 0, sizeof(d));
	d.flags = DB_DBT_REALLOC;
	if (!list->with_values) {
		d.flags |= DB_DBT_PARTIAL;
		d.dlen = RECORD_HEADER;
	}
	/* Read before the walk: a change committed after it may show in the
	 * page or not, and the feed from it has it either way. */
	if ((ret = kvdb_read_counter(db, txn, 0, &list->versionstamp, &meta)) != 0)
		goto out;
	primary = kvdb_primary(db);
	if ((ret = primary->cursor(primary, txn, &cursor, 0)) != 0)
		goto out;
	for (ret = list_position(cursor, op, &k, &d); ret == 0;
	     ret = cursor->get(cursor, &k, &d, list->reverse ? DB_PREV : DB_NEXT)) {
		if (!kvdb_in_range(&op->range, &k))
			break;
		/* A key a Deno program wrote with parts of other kinds has
		 * no keypath, and no place in a REST list. */
		if (!keypath_stored_valid(k.data, k.size))
			continue;
		/* The cursor key itself was on the last page. */
		if (after && k.size == op->start_len && memcmp(k.data, op->start, k.size) == 0)
			continue;
		if ((ret = kvdb_unpack(db, &d, &rec)) != 0)
			goto out;
		if (record_expired(&rec, now))
			continue;
		if (list->count == list->limit || (list->count > 0 &&
		    page_bytes + rec.value_len > LIST_PAGE_BYTES)) {
			list->more = true;
			break;
		}
		page_bytes += rec.value_len;
		if ((ret = list_keep(list, &k, &d, &rec)) != 0)
			goto out;
	}
out:
	ret = kvdb_cursor_end(cursor, ret);
	free(d.data);
	return ret;
}

enum store_status store_list(struct store *st, struct store_list *list)
{
	struct list_op *op = calloc(1, sizeof(*op));
	enum store_status status = STORE_ERROR;

	list->entries = NULL;
	list->count = 0;
	list->more = false;
	if (op == NULL)
		goto out;
	op->list = list;
	kvdb_range_init(&op->range, list->prefix, list->prefix_len);
	if (list->after != NULL) {
		keypath_encode(list->after, list->after_len, op->start);
		op->start_len = list->after_len;
	} else if (!list->reverse) {
		op->start_len = kvdb_range_first(&op->range, op->start);
	} else {
		op->start_len = kvdb_range_past(&op->range, op->start);
	}
	status = kvdb_run(st->db, false, list_body, op);
	if (status != STORE_OK)
		list_reset(list);
out:
	free(op);
	return status;
}

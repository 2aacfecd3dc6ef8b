/* store_connect.c: the service's reads of Deno key ranges
 *
 * The btree holds the stored forms of Deno keys, which sort as their
 * Deno encodings do (connect_key.h), so a range of Deno keys is a run of the btree: the
 * walk seeks near its start bound and then compares each key's Deno
 * encoding with the bounds. The ranges are read in one transaction that
 * first reads the versionstamp counter, holding its read lock to the end
 * as store_read_many.c does, so that they all see the same commits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connect_key.h"
#include "store_ops.h"
#include "util.h"

/* Where the walk of a bound starts: the btree key at or before every
 * key whose Deno encoding is at or after the bound. The bound's leading
 * whole parts P have the stored form S (connect_key.h); what follows
 * them decides. Nothing, a part's tag or an incomplete part: S itself
 * (the walk then passes over what lies below the bound). A byte above
 * every tag: past S's subtree, since every key under S continues with a
 * tag. Returns the seek key's length in out (KEYPATH_MAX + 1 bytes). */
static size_t seek_key(const unsigned char *bound, size_t len, char *out)
{
	size_t n;
	size_t used = connect_key_to_stored(bound, len, out, &n);

	if (used < len && bound[used] > CONNECT_TAG_MAX) {
		out[n] = n == 0 ? (char)0xff : 0x01;	/* above every part, below every 00 */
		return n + 1;
	}
	if (n == 0) {
		out[0] = 0x01;	/* past the counter record */
		return 1;
	}
	return n;
}

/* The counter record's key, the only one that is no Deno key. */
static bool is_data_key(const DBT *k)
{
	return k->size > 0 && ((const unsigned char *)k->data)[0] != 0x00;
}

/* An empty bound (the store's first key) may have no bytes at all. */
static int bytes_cmp(const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len)
{
	size_t n = a_len < b_len ? a_len : b_len;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	return c != 0 ? c : (a_len > b_len) - (a_len < b_len);
}

struct range_walk {
	struct store_range *range;
	DBC *cursor;
	DBT k, d;
	char keybuf[KEYPATH_MAX + 1];
	unsigned char deno[CONNECT_KEY_MAX];	/* the key under the cursor, encoded */
	size_t deno_len;
	int64_t now;
};

static int walk_get(struct range_walk *w, u_int32_t flag)
{
	int ret = w->cursor->get(w->cursor, &w->k, &w->d, flag);

	/* A btree key that is no stored Deno key (the counter) has
	 * length 0 here, and every walk passes over it. */
	w->deno_len = 0;
	if (ret == 0 && is_data_key(&w->k))
		w->deno_len = connect_key_from_stored(w->k.data, w->k.size, w->deno);
	return ret;
}

static int walk_seek(struct range_walk *w, const unsigned char *bound, size_t len)
{
	w->k.size = (u_int32_t)seek_key(bound, len, w->keybuf);
	return walk_get(w, DB_SET_RANGE);
}

/* Keeps a copy of the live record under the cursor; *kept says whether
 * it was live. */
static int keep(struct kvdb *db, struct range_walk *w, bool *kept)
{
	struct store_range *range = w->range;
	struct store_range_entry *e = &range->entries[range->count];
	struct record rec;
	int ret;

	*kept = false;
	if ((ret = kvdb_unpack(db, &w->d, &rec)) != 0)
		return ret;
	if (record_expired(&rec, w->now))
		return 0;
	memset(e, 0, sizeof(*e));
	e->key = malloc(w->deno_len);
	e->item.buf = malloc(rec.value_len + 1);
	if (e->key == NULL || e->item.buf == NULL) {
		free(e->key);
		free(e->item.buf);
		return ENOMEM;
	}
	memcpy(e->key, w->deno, w->deno_len);
	e->key_len = w->deno_len;
	memcpy(e->item.buf, rec.value, rec.value_len);
	e->item.value = e->item.buf;
	e->item.value_len = rec.value_len;
	e->item.versionstamp = rec.versionstamp;
	e->item.expires_at = rec.expires_at;
	e->item.kind = rec.kind;
	range->count++;
	*kept = true;
	return 0;
}

static int walk_forward(struct kvdb *db, struct range_walk *w)
{
	struct store_range *r = w->range;
	bool kept;
	int ret;

	for (ret = walk_seek(w, r->start, r->start_len); ret == 0 && r->count < r->limit;
	     ret = walk_get(w, DB_NEXT)) {
		if (w->deno_len == 0 || bytes_cmp(w->deno, w->deno_len, r->start, r->start_len) < 0)
			continue;
		if (bytes_cmp(w->deno, w->deno_len, r->end, r->end_len) >= 0)
			break;
		if ((ret = keep(db, w, &kept)) != 0)
			return ret;
	}
	return ret;
}

static int walk_reverse(struct kvdb *db, struct range_walk *w)
{
	struct store_range *r = w->range;
	bool kept;
	int ret;

	/* To the first key at or past the end, then one back. */
	for (ret = walk_seek(w, r->end, r->end_len);
	     ret == 0 && (w->deno_len == 0 || bytes_cmp(w->deno, w->deno_len, r->end, r->end_len) < 0);
	     ret = walk_get(w, DB_NEXT))
		;
	if (ret == DB_NOTFOUND)
		ret = walk_get(w, DB_LAST);
	else if (ret == 0)
		ret = walk_get(w, DB_PREV);
	for (; ret == 0 && r->count < r->limit; ret = walk_get(w, DB_PREV)) {
		if (w->deno_len == 0 ||
		    bytes_cmp(w->deno, w->deno_len, r->start, r->start_len) < 0)
			break;
		if ((ret = keep(db, w, &kept)) != 0)
			return ret;
	}
	return ret;
}

static void range_reset(struct store_range *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->entries[i].key);
		store_item_free(&r->entries[i].item);
	}
	free(r->entries);
	r->entries = NULL;
	r->count = 0;
}

void store_ranges_free(struct store_range *ranges, size_t n)
{
	for (size_t i = 0; i < n; i++)
		range_reset(&ranges[i]);
}

struct ranges_op {
	struct store_range *ranges;
	size_t n;
};

static int read_range(struct kvdb *db, DB_TXN *txn, struct store_range *r, int64_t now)
{
	DB *primary = kvdb_primary(db);
	struct range_walk *w = calloc(1, sizeof(*w));
	int ret;

	if (w == NULL)
		return ENOMEM;
	r->entries = calloc(r->limit, sizeof(*r->entries));
	if (r->entries == NULL) {
		free(w);
		return ENOMEM;
	}
	w->range = r;
	w->now = now;
	w->k.data = w->keybuf;
	w->k.ulen = sizeof(w->keybuf);
	w->k.flags = DB_DBT_USERMEM;
	w->d.flags = DB_DBT_REALLOC;
	if ((ret = primary->cursor(primary, txn, &w->cursor, 0)) == 0) {
		/* An empty range reads nothing. */
		if (bytes_cmp(r->start, r->start_len, r->end, r->end_len) < 0)
			ret = r->reverse ? walk_reverse(db, w) : walk_forward(db, w);
		ret = kvdb_cursor_end(w->cursor, ret);
	}
	free(w->d.data);
	free(w);
	return ret;
}

static int ranges_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	struct ranges_op *op = arg;
	int64_t now = util_now_ms();
	struct record counter;
	bool found;
	int ret;

	/* A retried transaction reads every range again. */
	store_ranges_free(op->ranges, op->n);
	ret = kvdb_read_header(db, txn, KVDB_COUNTER_KEY, sizeof(KVDB_COUNTER_KEY), 0, &found,
			       &counter);
	for (size_t i = 0; ret == 0 && i < op->n; i++)
		ret = read_range(db, txn, &op->ranges[i], now);
	return ret;
}

enum store_status store_read_ranges(struct store *st, struct store_range *ranges, size_t n)
{
	struct ranges_op op = { .ranges = ranges, .n = n };
	enum store_status status;

	for (size_t i = 0; i < n; i++) {
		ranges[i].entries = NULL;
		ranges[i].count = 0;
		if (ranges[i].limit == 0)
			return STORE_ERROR;
	}
	status = kvdb_run(st->db, true, ranges_body, &op);
	if (status != STORE_OK)
		store_ranges_free(ranges, n);
	return status;
}

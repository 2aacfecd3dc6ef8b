/* changelog.c: the store's log of changes, which the change feed reads */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "changelog.h"
#include "util.h"

#define CHANGELOG_FORMAT 1

void changelog_meta_pack(const struct changelog_meta *m, unsigned char out[CHANGELOG_META_LEN])
{
	util_put_be64(out, m->floor);
	util_put_be64(out + 8, m->bytes);
	util_put_be64(out + 16, m->entries);
	util_put_be64(out + 24, (uint64_t)m->oldest_ms);
}

bool changelog_meta_unpack(const unsigned char *buf, size_t len, struct changelog_meta *m)
{
	memset(m, 0, sizeof(*m));
	if (len == 0)
		return true;
	if (len != CHANGELOG_META_LEN)
		return false;
	m->present = true;
	m->floor = util_get_be64(buf);
	m->bytes = util_get_be64(buf + 8);
	m->entries = util_get_be64(buf + 16);
	m->oldest_ms = (int64_t)util_get_be64(buf + 24);
	return true;
}

void changelog_key_pack(uint64_t vs, uint32_t seq, unsigned char out[CHANGELOG_KEY_LEN])
{
	util_put_be64(out, vs);
	out[8] = (unsigned char)(seq >> 24);
	out[9] = (unsigned char)(seq >> 16);
	out[10] = (unsigned char)(seq >> 8);
	out[11] = (unsigned char)seq;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The data's header: format and op in one byte each (the op's high four
 * bits hold an opaque value's format), time and expiry, the key's and
 * the value's lengths; then key and value. */
size_t changelog_data_size(const struct changelog_entry *e)
{
	return CHANGELOG_DATA_HEADER + e->key_len + e->value_len;
}

void changelog_data_pack(const struct changelog_entry *e, unsigned char *out)
{
	out[0] = CHANGELOG_FORMAT;
	out[1] = (unsigned char)(e->op | (e->opaque & 0x0f) << 4);
	util_put_be64(out + 2, (uint64_t)e->time_ms);
	util_put_be64(out + 10, (uint64_t)e->expires_at);
	out[18] = (unsigned char)(e->key_len >> 8);
	out[19] = (unsigned char)e->key_len;
	out[20] = (unsigned char)(e->value_len >> 24);
	out[21] = (unsigned char)(e->value_len >> 16);
	out[22] = (unsigned char)(e->value_len >> 8);
	out[23] = (unsigned char)e->value_len;
	memcpy(out + CHANGELOG_DATA_HEADER, e->key, e->key_len);
	if (e->value_len > 0)
		memcpy(out + CHANGELOG_DATA_HEADER + e->key_len, e->value, e->value_len);
}

/* The header alone: enough to know a change's op, time and size. */
static bool unpack_header(const unsigned char *d, size_t len, struct changelog_entry *e)
{
	unsigned char op = len > 1 ? d[1] & 0x0f : 0;

	if (len < CHANGELOG_DATA_HEADER || d[0] != CHANGELOG_FORMAT || op < CHANGELOG_SET ||
	    op > CHANGELOG_EXPIRE || (op != CHANGELOG_SET && d[1] >> 4 != 0))
		return false;
	e->op = (enum changelog_op)op;
	e->opaque = d[1] >> 4;
	e->time_ms = (int64_t)util_get_be64(d + 2);
	e->expires_at = (int64_t)util_get_be64(d + 10);
	e->key_len = (size_t)d[18] << 8 | d[19];
	e->value_len = get_be32(d + 20);
	return e->key_len > 0;
}

bool changelog_unpack(const void *key, size_t key_len, const void *data, size_t data_len,
		      struct changelog_entry *e)
{
	const unsigned char *d = data;

	memset(e, 0, sizeof(*e));
	if (key_len != CHANGELOG_KEY_LEN || !unpack_header(d, data_len, e) ||
	    data_len != CHANGELOG_DATA_HEADER + e->key_len + e->value_len)
		return false;
	e->versionstamp = util_get_be64(key);
	e->seq = get_be32((const unsigned char *)key + 8);
	e->key = (const char *)d + CHANGELOG_DATA_HEADER;
	e->value = e->value_len > 0 ? e->key + e->key_len : NULL;
	return true;
}

int changelog_pending_add(struct changelog_pending *p, enum changelog_op op, const char *key,
			  size_t key_len, const char *value, size_t value_len, int64_t expires_at)
{
	struct changelog_entry *e;
	char *copy;

	if (p->count == p->cap) {
		size_t cap = p->cap == 0 ? 4 : 2 * p->cap;
		struct changelog_entry *grown = realloc(p->entries, cap * sizeof(*grown));

		if (grown == NULL)
			return ENOMEM;
		p->entries = grown;
		p->cap = cap;
	}
	if ((copy = malloc(key_len + value_len + 1)) == NULL)
		return ENOMEM;
	memcpy(copy, key, key_len);
	if (value_len > 0)
		memcpy(copy + key_len, value, value_len);
	e = &p->entries[p->count++];
	memset(e, 0, sizeof(*e));
	e->op = op;
	e->key = copy;
	e->key_len = key_len;
	e->value = value_len > 0 ? copy + key_len : NULL;
	e->value_len = value_len;
	e->expires_at = expires_at;
	return 0;
}

void changelog_pending_clear(struct changelog_pending *p)
{
	for (size_t i = 0; i < p->count; i++)
		free((char *)p->entries[i].key);
	p->count = 0;
}

int changelog_append(DB *log, DB_TXN *txn, uint64_t vs, int64_t now,
		     const struct changelog_pending *p, struct changelog_meta *meta)
{
	unsigned char k[CHANGELOG_KEY_LEN];
	unsigned char *buf = NULL;
	size_t cap = 0;
	int ret = 0;

	for (size_t i = 0; i < p->count; i++) {
		struct changelog_entry e = p->entries[i];
		size_t size;
		DBT kd, dd;

		e.versionstamp = vs;
		e.seq = (uint32_t)i;
		e.time_ms = now;
		size = changelog_data_size(&e);
		if (size > cap) {
			unsigned char *grown = realloc(buf, size);

			if (grown == NULL) {
				ret = ENOMEM;
				goto out;
			}
			buf = grown;
			cap = size;
		}
		changelog_key_pack(vs, e.seq, k);
		changelog_data_pack(&e, buf);
		memset(&kd, 0, sizeof(kd));
		kd.data = k;
		kd.size = sizeof(k);
		memset(&dd, 0, sizeof(dd));
		dd.data = buf;
		dd.size = (u_int32_t)size;
		if ((ret = log->put(log, txn, &kd, &dd, 0)) != 0)
			goto out;
		meta->bytes += CHANGELOG_KEY_LEN + size;
		if (meta->entries++ == 0)
			meta->oldest_ms = now;
	}
out:
	free(buf);
	return ret;
}

bool changelog_beyond(const struct changelog_bounds *b, const struct changelog_meta *meta,
		      int64_t now)
{
	return meta->entries > 0 &&
	       (meta->bytes > b->max_bytes || meta->oldest_ms < now - b->keep_ms);
}

int changelog_prune(DB *log, DB_TXN *txn, int64_t now, const struct changelog_bounds *b,
		    struct changelog_meta *meta, unsigned *pruned)
{
	unsigned char kbuf[CHANGELOG_KEY_LEN], dbuf[CHANGELOG_DATA_HEADER];
	struct changelog_entry e;
	DBC *cursor = NULL;
	uint64_t size;
	DBT k, d;
	int ret;

	*pruned = 0;
	if ((ret = log->cursor(log, txn, &cursor, 0)) != 0)
		return ret;
	while (*pruned < b->batch) {
		memset(&k, 0, sizeof(k));
		k.data = kbuf;
		k.ulen = sizeof(kbuf);
		k.flags = DB_DBT_USERMEM;
		memset(&d, 0, sizeof(d));
		d.data = dbuf;
		d.ulen = sizeof(dbuf);
		d.dlen = sizeof(dbuf);
		d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
		if ((ret = cursor->get(cursor, &k, &d, DB_NEXT | DB_RMW)) != 0)
			break;
		if (k.size != CHANGELOG_KEY_LEN || !unpack_header(dbuf, d.size, &e)) {
			ret = EINVAL;
			break;
		}
		/* The first change left is the oldest: its time is the log's. */
		meta->oldest_ms = e.time_ms;
		if (!changelog_beyond(b, meta, now))
			break;
		if ((ret = cursor->del(cursor, 0)) != 0)
			break;
		size = CHANGELOG_KEY_LEN + CHANGELOG_DATA_HEADER + e.key_len + e.value_len;
		/* A log counted by a program that kept no meta counts short. */
		meta->bytes = meta->bytes > size ? meta->bytes - size : 0;
		meta->entries = meta->entries > 0 ? meta->entries - 1 : 0;
		/* A commit pruned in part is no longer whole in the log: the
		 * floor covers it, so a feed from before it is told so. */
		e.versionstamp = util_get_be64(kbuf);
		if (e.versionstamp > meta->floor)
			meta->floor = e.versionstamp;
		++*pruned;
	}
	if (ret == DB_NOTFOUND) {
		/* Nothing left: an empty log counts nothing. */
		meta->bytes = meta->entries = 0;
		meta->oldest_ms = 0;
		ret = 0;
	}
	if (cursor != NULL) {
		int closed = cursor->close(cursor);

		if (ret == 0)
			ret = closed;
	}
	return ret;
}

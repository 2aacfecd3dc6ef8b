/* changelog.h: the store's log of changes, which the change feed reads
 *
 * kv-changes.db is a btree from (versionstamp, sequence) to one change:
 * a key set (with the value it took), deleted, or removed on expiry.
 * Every write transaction appends its changes under the versionstamp it
 * writes to the counter, in the order it made them, in the same
 * transaction as the writes themselves, so the log never disagrees with
 * the data. How much of it there is and where it starts (the floor: the
 * newest versionstamp pruned) is kept beside the versionstamp in the
 * counter record, which every write locks and writes anyway; pruning
 * removes the oldest changes once they are older than the retention time
 * or the log holds more bytes than its bound, and the floor covers every
 * commit it removed any change of.
 *
 * The byte layouts and the pending list are pure and unit-tested; the
 * append and prune work on an open handle inside a write transaction. */
#ifndef KV_CHANGELOG_H
#define KV_CHANGELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <db.h>

#define CHANGELOG_FILE "kv-changes.db"

enum changelog_op {
	CHANGELOG_SET = 1,
	CHANGELOG_DELETE = 2,
	CHANGELOG_EXPIRE = 3,
};

/* What the counter record carries for the log, after the versionstamp. */
struct changelog_meta {
	bool present;		/* false: a store that kept no log yet */
	uint64_t floor;		/* changes after it are all in the log */
	uint64_t bytes;		/* of the log's keys and data */
	uint64_t entries;
	int64_t oldest_ms;	/* the oldest change's time; 0: the log is empty */
};
#define CHANGELOG_META_LEN 32

void changelog_meta_pack(const struct changelog_meta *m, unsigned char out[CHANGELOG_META_LEN]);

/* len 0 is a counter without a log (present false); any other length but
 * CHANGELOG_META_LEN is not a counter of this format. */
bool changelog_meta_unpack(const unsigned char *buf, size_t len, struct changelog_meta *m);

/* One change. key is the encoded keypath (keypath.h); value and
 * expires_at belong to a set only. */
struct changelog_entry {
	uint64_t versionstamp;
	uint32_t seq;		/* its place within the commit */
	enum changelog_op op;
	int64_t time_ms;	/* when it was committed, for retention */
	int64_t expires_at;
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
	/* A set's value with no JSON form (a Uint8Array's bytes, a V8
	 * value: record.h's format byte, 0 for JSON) is not logged; the
	 * feed says which it was. */
	unsigned char opaque;
};

/* A log key: the versionstamp and the sequence, big-endian, so that the
 * btree's byte order is commit order. */
#define CHANGELOG_KEY_LEN 12
void changelog_key_pack(uint64_t vs, uint32_t seq, unsigned char out[CHANGELOG_KEY_LEN]);

/* The packed data of e: the op, the time, the expiry, the key's length,
 * the key and the value. */
#define CHANGELOG_DATA_HEADER 24
size_t changelog_data_size(const struct changelog_entry *e);
void changelog_data_pack(const struct changelog_entry *e, unsigned char *out);

/* Reads a log record back; e's key and value point into data. False when
 * it is not one of this format. */
bool changelog_unpack(const void *key, size_t key_len, const void *data, size_t data_len,
		      struct changelog_entry *e);

/* The changes a transaction made, held until it knows its versionstamp
 * (a commit writes the counter last) and appended then. */
struct changelog_pending {
	struct changelog_entry *entries;	/* key and value owned */
	size_t count;
	size_t cap;
};

/* Copies key and value in; ENOMEM or 0. */
int changelog_pending_add(struct changelog_pending *p, enum changelog_op op, const char *key,
			  size_t key_len, const char *value, size_t value_len, int64_t expires_at);
void changelog_pending_clear(struct changelog_pending *p);

/* Appends p under vs at now, counting it into meta. */
int changelog_append(DB *log, DB_TXN *txn, uint64_t vs, int64_t now,
		     const struct changelog_pending *p, struct changelog_meta *meta);

/* How much of the log to keep. */
struct changelog_bounds {
	int64_t keep_ms;
	uint64_t max_bytes;
	unsigned batch;		/* the most changes one call prunes */
};

/* Whether the log is beyond b at now, by what meta says: a write that
 * appended prunes only then, without a look at the log. */
bool changelog_beyond(const struct changelog_bounds *b, const struct changelog_meta *meta,
		      int64_t now);

/* Prunes the oldest changes while the log is beyond b, at most b->batch
 * of them, keeping meta's oldest time, raising meta's floor to the newest commit it pruned any of: a
 * commit too big for one call is pruned over several, and a feed from
 * before it is answered 410 from the first. *pruned counts the changes
 * removed. */
int changelog_prune(DB *log, DB_TXN *txn, int64_t now, const struct changelog_bounds *b,
		    struct changelog_meta *meta, unsigned *pruned);

#endif

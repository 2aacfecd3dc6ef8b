/* store_ops.h: what the service's store operations share
 *
 * Internal to store.c, store_read.c, store_write.c, store_commit.c,
 * store_list.c, store_subtree.c, store_children.c and store_read_many.c:
 * the service's side of the database core (kvdb.h). */
#ifndef KV_STORE_OPS_H
#define KV_STORE_OPS_H

#include "kvdb.h"
#include "store.h"

struct store {
	struct kvdb *db;
	/* A GET's record lands here, reused from one request to the next,
	 * rather than in a fresh block per GET. */
	void *get_buf;
	u_int32_t get_cap;
};

/* What a single-key operation carries through its transaction. */
struct store_key_op {
	struct store *st;
	char key[KEYPATH_MAX];	/* encoded */
	size_t key_len;
	void *args;		/* the caller's store_item, store_put or store_delete */
	enum store_status outcome;
};

/* Runs body on a store_key_op for the dotted key; the body's outcome when
 * the transaction ran. */
enum store_status store_run_key(struct store *st, bool write, kvdb_body_fn body,
				const char *key, size_t key_len, void *args);

/* Removes a few expired records, oldest first: every write does, so that
 * dead keys do not pile up. */
int store_purge_some(struct kvdb *db, DB_TXN *txn, int64_t now);

#endif

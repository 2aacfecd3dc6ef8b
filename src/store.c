/* store.c: the service's store: its life, and the run of one operation
 *
 * The operations are in store_read.c (get, ping), store_write.c (put,
 * delete), store_commit.c (atomic commits) and store_list.c (list pages),
 * all on the database core (kvdb.h). */
#include <stdlib.h>

#include "store_ops.h"

/* A store call, or joining the store, that takes this long is stuck
 * behind a process that died inside Berkeley DB (watchdog.h). A healthy
 * call takes milliseconds, and lock waits give up within seconds. */
#define WATCHDOG_SECONDS 10

/* How long a request waits for a recovery that other processes run, or
 * for the processes still inside to leave so that it can begin, before it
 * is answered 503 with Retry-After. */
#define JOIN_WAIT_MS 3000

static const struct kvdb_role service = {
	.who = PACKAGE_NAME "d",
	.watchdog_seconds = WATCHDOG_SECONDS,
	.join_wait_ms = JOIN_WAIT_MS,
	.log = true,
	.rep_threads = 3,
	.flusher = true,
};

struct store *store_new(const struct config *cfg)
{
	struct store *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	if ((st->db = kvdb_new(cfg, &service)) == NULL) {
		free(st);
		return NULL;
	}
	(void)kvdb_open(st->db);
	return st;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	kvdb_free(st->db);
	free(st->get_buf);
	free(st);
}

void store_end_request(struct store *st)
{
	kvdb_end_request(st->db);
}

enum store_status store_site(struct store *st, struct store_site *out)
{
	return kvdb_site(st->db, out);
}

/* Rewrites the counter record as it is: a commit the group must
 * acknowledge, that changes nothing a reader sees. */
static int barrier_body(struct kvdb *db, DB_TXN *txn, void *arg)
{
	return kvdb_touch_counter(db, txn);
}

enum store_status store_barrier(struct store *st)
{
	return kvdb_run(st->db, true, barrier_body, NULL);
}

bool store_is_listener(const struct store *st)
{
	return kvdb_is_listener(st->db);
}

bool store_renew_wanted(struct store *st, unsigned settle_ms)
{
	return kvdb_renew_wanted(st->db, settle_ms);
}

void store_renew(struct store *st)
{
	kvdb_renew(st->db);
}

void store_leave(struct store *st)
{
	kvdb_leave(st->db);
}

enum store_status store_site_recent(struct store *st, unsigned max_age_ms,
				    struct store_site *out)
{
	return kvdb_site_recent(st->db, max_age_ms, out);
}

bool store_commit_token(const struct store *st, char out[STORE_TOKEN_TEXT + 1])
{
	return kvdb_commit_token(st->db, out);
}

enum store_status store_wait_applied(struct store *st, const char *token, unsigned timeout_ms)
{
	return kvdb_wait_applied(st->db, token, timeout_ms);
}

void store_watch_start(struct store *st)
{
	kvdb_watch_start(st->db);
}

enum store_status store_run_key(struct store *st, bool write, kvdb_body_fn body,
				const char *key, size_t key_len, void *args)
{
	struct store_key_op op = {
		.st = st, .key_len = key_len, .args = args, .outcome = STORE_ERROR,
	};
	enum store_status status;

	keypath_encode(key, key_len, op.key);
	status = kvdb_run(st->db, write, body, &op);
	return status == STORE_OK ? op.outcome : status;
}

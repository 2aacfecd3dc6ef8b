/* kvdb.h: the database core under the service and kvctl
 *
 * One Berkeley DB environment in the store directory, joined through the
 * lock-file protocol of store_join.h by every process that uses the store
 * (web server workers, plain CGI runs, kvctl), holding two databases:
 * kv.db, a btree from encoded keypath (keypath.h) to record (record.h),
 * and kv-expiry.db, its index from expiry time to key, with sorted
 * duplicates and no entry for keys without a ttl, which the writers
 * below keep in the transaction of each write. The counter that
 * hands out versionstamps is a record under KVDB_COUNTER_KEY, and every
 * write locks it first, so writers queue in one order and never deadlock
 * one another.
 *
 * This is the layer the store's operations sit on: the service's
 * (store.h, store_*.c) and kvctl's (store_admin.h, store_admin*.c). Only
 * they include this header; with store_join.h (included by kvdb.c,
 * store_admin.c and watchdog.c) it is the only one that includes Berkeley
 * DB's. Every other module sees the store through store.h or
 * store_admin.h, which name no Berkeley DB type. */
#ifndef KV_KVDB_H
#define KV_KVDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "changelog.h"
#include "config.h"
#include "keypath.h"
#include "record.h"
#include "store.h"

/* The btree from encoded keypath to record, and its expiry index. */
#define KVDB_PRIMARY_FILE "kv.db"
#define KVDB_EXPIRY_FILE "kv-expiry.db"

/* The key of the record that holds the last versionstamp given out: one
 * zero byte, which no keypath encodes to and which sorts first. */
extern const char KVDB_COUNTER_KEY[1];

/* A transaction body returns 0 to commit, KVDB_ROLLBACK to abort on
 * purpose (the outcome is in its argument), or a Berkeley DB or errno
 * error. KVDB_ROLLBACK and KVDB_STOP (below) are neither errno values
 * nor Berkeley DB's (-30999 to -30800). */
#define KVDB_ROLLBACK (-1)

/* What differs between the programs that use the core. */
struct kvdb_role {
	const char *who;		/* names the program in the watchdog's message */
	unsigned watchdog_seconds;	/* the bound on one call into the store */
	unsigned join_wait_ms;		/* the wait for a recovery others run */
	bool log;			/* log failures and Berkeley DB's messages
					 * (the service); kvctl reports one line of
					 * its own per failure instead */
	int rep_threads;		/* message threads, should the process become
					 * its site's replication process */
	bool flusher;			/* a FastCGI process writes the cache out on
					 * a thread of its own (flusher.h) */
};

struct kvdb;

/* A handle for the store of cfg (which must outlive it), not joined yet;
 * installs the watchdog. NULL when out of memory. */
struct kvdb *kvdb_new(const struct config *cfg, const struct kvdb_role *role);

/* Joins the environment and opens the handles, under the watchdog; with
 * open = per_request they are closed again until the next call. */
enum store_status kvdb_open(struct kvdb *db);

/* Opens the environment files in dir in a private environment after
 * catastrophic recovery, which replays every log there into the databases
 * so that they are consistent on their own, and opens the handles.
 * Private: the regions live in this process and no region file is left
 * behind. db comes from kvdb_new and joins nothing. */
enum store_status kvdb_open_private(struct kvdb *db, const char *dir);

/* Runs catastrophic recovery on the environment files in dir and a
 * checkpoint, so that its databases are consistent without the logs. */
int kvdb_recover_dir(const char *dir, uint64_t cache_size);

/* Closes the handles and leaves (or closes) the environment, then frees. */
void kvdb_free(struct kvdb *db);

/* The handles of an open store: the primary, its expiry index, the
 * change log (changelog.h), the environment (NULL when a failed call
 * left it). The index follows the primary only through the core's
 * writers (kvdb_put_record and after), never through a put or del on
 * the handle. */
DB *kvdb_primary(const struct kvdb *db);
DB *kvdb_expiry(const struct kvdb *db);
DB *kvdb_changes(const struct kvdb *db);
DB_ENV *kvdb_env(const struct kvdb *db);

/* Whether a file of the store directory is one of its databases, which a
 * backup copies and the statistics count. */
bool kvdb_database_file(const char *name);

/* How the store's processes tell waiting feeds of a commit (wake.h):
 * every write committed through kvdb_run() touches it. */
struct wake *kvdb_wake(const struct kvdb *db);

/* The role db was made for: a private copy of the store takes its
 * live handle's, so that the watchdog keeps its program's name. */
const struct kvdb_role *kvdb_role_of(const struct kvdb *db);

/* The Berkeley DB or errno error that made the last call fail. */
int kvdb_last_error(const struct kvdb *db);

/* After STORE_PERMISSION: the sentence that says which file, which user,
 * and how to fix it (the service logs it too). NULL otherwise. */
const char *kvdb_problem(const struct kvdb *db);

/* The database handles alone; DB->verify wants none open on its file. */
enum store_status kvdb_handles_open(struct kvdb *db);
void kvdb_handles_close(struct kvdb *db);

/* The end of a request: runs the checkpoint its writes made due, closes
 * the handles when the configuration says open = per_request, and leaves
 * an environment that panicked. */
void kvdb_end_request(struct kvdb *db);

/* Starts the watcher thread: between requests, it leaves a store that
 * wants recovery (store_join.h). */
void kvdb_watch_start(struct kvdb *db);

typedef int (*kvdb_body_fn)(struct kvdb *db, DB_TXN *txn, void *arg);

/* A checkpoint when more than kbytes of log were written or more than
 * minutes passed since the last one (both 0: whenever anything was
 * written since). */
int kvdb_checkpoint(struct kvdb *db, unsigned kbytes, unsigned minutes);

/* Runs body once the store is ready (joined again after a recovery or a
 * replacement, handles open), under the watchdog. A write runs in a
 * transaction that never waits for a lock (DB_TXN_NOWAIT) and commits
 * without fsync, the log flushed after the commit when sync is on; a read
 * runs outside any transaction, so with the isolation of read committed.
 * A body that finds a lock taken is run again after a growing pause, for
 * a bounded time. A write into files that were removed or replaced under
 * the process is never acknowledged. What the failure was is left for
 * kvdb_last_error(). */
enum store_status kvdb_run(struct kvdb *db, bool write, kvdb_body_fn body, void *arg);

/* A replicated store's site as this process sees it now (replica.h). */
enum store_status kvdb_site(struct kvdb *db, struct store_site *out);

/* The same, as seen at most max_age_ms ago. */
enum store_status kvdb_site_recent(struct kvdb *db, unsigned max_age_ms, struct store_site *out);

/* In the site's replication process: whether the site's other processes
 * must join the store again, for an event at least settle_ms ago (a site
 * joined or left the group, this replica caught up with its master),
 * since the last time this said so. */
bool kvdb_renew_wanted(struct kvdb *db, unsigned settle_ms);

/* Makes the site's other processes join the store again (store_join.h). */
void kvdb_renew(struct kvdb *db);

/* Whether this process is its site's replication process. */
bool kvdb_is_listener(const struct kvdb *db);

/* Leaves the environment between requests; the next call joins again. */
void kvdb_leave(struct kvdb *db);

/* The commit token of this process's last write, as text, in a
 * replicated store; false when there is none. */
#define KVDB_TOKEN_TEXT STORE_TOKEN_TEXT
bool kvdb_commit_token(const struct kvdb *db, char out[KVDB_TOKEN_TEXT + 1]);

/* Waits up to timeout_ms for the write whose token is text to be applied
 * at this site: STORE_OK (applied, or never to be), STORE_NOT_MASTER or
 * STORE_NO_MASTER when it was not in time, STORE_INVALID for text that
 * is not a token. */
enum store_status kvdb_wait_applied(struct kvdb *db, const char *text, unsigned timeout_ms);

/* Called between the transactions of a long operation (a sweep, a load):
 * pauses for longer than the longest pause of a writer that found the
 * counter locked, so that every waiting writer takes its turn instead of
 * waiting for the whole operation. */
void kvdb_yield(void);

/* One line describing a Berkeley DB or errno error, for kvctl. */
const char *kvdb_strerror(int err);

/* ---- helpers for transaction bodies ---- */

/* A DBT pointing at size bytes of data. */
void kvdb_dbt(DBT *dbt, const void *data, size_t size);

/* An empty DBT that Berkeley DB fills into buf, size bytes at most
 * (DB_BUFFER_SMALL beyond). */
void kvdb_dbt_into(DBT *dbt, void *buf, size_t size);

/* An empty DBT that Berkeley DB fills, growing its data as needed; the
 * caller frees dbt->data. */
void kvdb_dbt_grown(DBT *dbt);

/* Unpacks a record read from the btree; a record of an unknown format is
 * reported as EINVAL, an error of the store, not of the client. */
int kvdb_unpack(const struct kvdb *db, const DBT *d, struct record *rec);

/* Reads the header of the record under an encoded key. *found is false
 * when there is none; rec->value is not set. With DB_RMW the read takes
 * the write lock at once, so two writers never deadlock upgrading. */
int kvdb_read_header(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len,
		     u_int32_t flags, bool *found, struct record *rec);

/* Reads the counter record: the last versionstamp handed out (0 in a
 * fresh store) and what it says of the change log. */
int kvdb_read_counter(struct kvdb *db, DB_TXN *txn, u_int32_t flags, uint64_t *vs,
		      struct changelog_meta *meta);

/* Writes the counter record back as it is, locking it: a commit that
 * changes nothing a reader sees (a replicated master's barrier). */
int kvdb_touch_counter(struct kvdb *db, DB_TXN *txn);

/* Every write begins here: takes the write lock on the counter record and
 * reads the last versionstamp handed out (0 in a fresh store). */
int kvdb_lock_counter(struct kvdb *db, DB_TXN *txn, uint64_t *last_vs);

/* Makes vs the transaction's versionstamp: the counter takes it when the
 * body returns, with the change log's figures, and every change the
 * body made is logged under it. A write that changes keys without
 * calling it gets the one after the counter's. */
int kvdb_write_versionstamp(struct kvdb *db, DB_TXN *txn, uint64_t vs);

/* Writes rec under an encoded key of the primary, and its expiry index
 * entry; the log shows a set. It reads the record it replaces first, for
 * its expiry: a caller that read it already calls the next. */
int kvdb_put_record(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len,
		    const struct record *rec);

/* The same over a record the caller read in this transaction with DB_RMW:
 * old_expires_at is its expiry, 0 when there was none or it had no ttl.
 * The index changes only when the expiry does. */
int kvdb_replace_record(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len,
			int64_t old_expires_at, const struct record *rec);

/* Removes the record under an encoded key of the primary and its expiry
 * index entry (DB_NOTFOUND when there is none); the log shows a delete,
 * or an expiry when the record had expired. */
int kvdb_del(struct kvdb *db, DB_TXN *txn, const char *key, size_t key_len);

/* Removes up to max records whose expiry has passed at now, oldest first,
 * through the expiry index, each with its entry; an entry that names no
 * record with its expiry goes alone, logged. The log shows an expiry for
 * each record removed; *removed counts them. */
int kvdb_purge(struct kvdb *db, DB_TXN *txn, int64_t now, unsigned max, unsigned *removed);

/* Ends a walk with a cursor: closes cursor (NULL for none) and returns
 * ret, or the close's error when ret is 0. DB_NOTFOUND, the end of the
 * records, counts as 0. */
int kvdb_cursor_end(DBC *cursor, int ret);

/* A walk's visit of one record of the primary (encoded key, packed
 * record): 0 to go on, KVDB_STOP to end the walk with 0, or an error. */
#define KVDB_STOP (-2)
typedef int (*kvdb_visit_fn)(struct kvdb *db, const DBT *k, const DBT *d, void *arg);

/* Walks the primary in key order, from the first key at or after start
 * (start_len 0: from the first key, the counter's), until visit says stop. */
int kvdb_walk(struct kvdb *db, DB_TXN *txn, const char *start, size_t start_len,
	      kvdb_visit_fn visit, void *arg);

/* ---- key ranges ---- */

/* The encoded keys strictly under a dotted prefix: the encoded prefix and
 * a separator; empty for the whole store but the counter. */
struct kvdb_range {
	char bytes[KEYPATH_MAX + 1];
	size_t len;
};

/* prefix_len at most KEYPATH_MAX; 0 for the whole store. */
void kvdb_range_init(struct kvdb_range *r, const char *prefix, size_t prefix_len);

/* The range's first possible key, into out (KEYPATH_MAX + 1 bytes): the
 * range itself, or past the counter for the whole store. Its length. */
size_t kvdb_range_first(const struct kvdb_range *r, char *out);

/* The first key past the range, into out: the prefix followed by the byte
 * after the separator; for the whole store, past every key. Its length. */
size_t kvdb_range_past(const struct kvdb_range *r, char *out);

bool kvdb_in_range(const struct kvdb_range *r, const DBT *k);

#endif

/* store_env.h: the settings and databases of the store's environment
 *
 * Internal to the store modules (store.c for the service, store_admin.c for
 * kvctl): both join the same environment (store_join.h) with the same
 * settings and open the same two databases, so that kvctl can work on a store that
 * web server workers are serving at the same time. */
#ifndef KV_STORE_ENV_H
#define KV_STORE_ENV_H

#include <stdint.h>

#include <db.h>

#include "record.h"

/* The btree from encoded keypath to record, and its expiry index. */
#define STORE_PRIMARY_FILE "kv.db"
#define STORE_EXPIRY_FILE "kv-expiry.db"

/* The btree page size of newly created databases. Berkeley DB moves an
 * item larger than about a quarter of a page to overflow pages of its own:
 * with the default 4 KiB pages, a 1 KiB value took a leaf entry plus an
 * overflow page, read and written separately. 16 KiB pages keep values up
 * to about 4 KiB in the leaf. Existing databases keep their page size. */
#define STORE_PAGESIZE (16u << 10)

/* How long one lock wait may last before it fails (the service's
 * transactions do not wait; kvctl's and opening the databases do). */
#define STORE_LOCK_TIMEOUT_US (500 * 1000)

/* Slots in the environment's thread table, one per process that has joined
 * it (web server workers, plain CGI runs, admin commands); dead ones are
 * reclaimed by failchk. */
#define STORE_THREADS 512

/* The key of the record that holds the last versionstamp given out: one
 * zero byte, which no keypath encodes to and which sorts first. */
extern const char STORE_COUNTER_KEY[1];

/* Writes rec under an encoded key of the primary, in txn. */
int store_env_put_record(DB *primary, DB_TXN *txn, const char *key, size_t key_len,
			 const struct record *rec);

/* Removes up to max records whose expiry has passed at now, oldest first,
 * through the expiry index, in txn; deleting through the index's cursor
 * removes the primary record too. *removed counts them. */
int store_env_purge_expired(DB *expiry, DB_TXN *txn, int64_t now, unsigned max,
			    unsigned *removed);

/* Applies the settings every joiner makes before DB_ENV->open: the thread
 * table and is-alive check for failchk, deadlock detection and lock
 * timeouts, the cache, and log removal. */
int store_env_configure(DB_ENV *env, uint64_t cache_size);

/* Allocates disk blocks for the region files up to the size their regions
 * may grow to, after DB_ENV->open. The cache and mutex regions grow on
 * demand by extending their files sparsely, and a process that touches a
 * page of a sparse file on a full disk dies of SIGBUS inside a
 * transaction: better to find out now, and refuse to work while the disk
 * is full, than to crash mid-write. */
int store_env_reserve(DB_ENV *env, const char *dir);

/* Opens one database of the environment, transactionally, creating it when
 * missing; db_flags are DB->set_flags flags. */
int store_env_db_open(DB_ENV *env, DB **out, const char *file, uint32_t db_flags);

/* The expiry index's key callback for DB->associate: the record's expiry
 * bytes; keys without a ttl (and the counter record) are not indexed. */
int store_env_expiry_of(DB *secondary, const DBT *key, const DBT *data, DBT *skey);

#endif

/* store_admin.h: the store's administrative operations, for kvctl
 *
 * They sit on the same database core as the service's (kvdb.h) and join
 * the same environment, so every operation here runs while web server
 * workers serve the store: reads that must be consistent work on a private
 * hot-backup copy, and writes go in short transactions that lock the
 * versionstamp counter first, as every write of the service does.
 * Each returns enum store_status (store.h) and, when it is not STORE_OK,
 * fills err with one line for the operator. */
#ifndef KV_STORE_ADMIN_H
#define KV_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "store.h"

struct store_admin;

/* Joins the environment of cfg->store (which must exist and belong to the
 * user kvctl runs as) and opens both databases; sets *out on STORE_OK. */
enum store_status store_admin_open(const struct config *cfg, struct store_admin **out,
				   struct error *err);

/* A handle on the environment that the service's st has joined, for the
 * service's backups over HTTP: the operations below then run as the
 * service's own, under its watchdog, without a second join. st must have
 * made a call into the store in this request (store_ping()), so that it
 * is joined and stays so, and must outlive the handle. */
enum store_status store_admin_attach(struct store *st, const struct config *cfg,
				     struct store_admin **out, struct error *err);

/* Closes the handles and leaves the environment (a handle from
 * store_admin_attach() leaves the service's store as it is). */
void store_admin_close(struct store_admin *sa);

/* A replicated store: removes the site at host:port from the group for
 * good (it no longer counts towards a majority). */
enum store_status store_admin_remove_site(struct store_admin *sa, const char *host,
					  unsigned port, struct error *err);

struct store_admin_stats {
	uint64_t keys_live;
	uint64_t keys_expired;		/* expired, not yet removed */
	uint64_t value_bytes;		/* JSON text of the live values */
	uint64_t versionstamp;		/* the last one handed out */
	uint64_t changes;		/* in the change log */
	uint64_t changes_bytes;
	uint64_t changes_floor;		/* the log is complete after it */
	uint64_t db_bytes;		/* both database files */
	uint64_t log_bytes;
	unsigned log_files;
	time_t last_checkpoint;		/* 0 when none since the regions were made */
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t cache_bytes;
};
enum store_status store_admin_stats(struct store_admin *sa, struct store_admin_stats *st,
				    struct error *err);

/* Called after each transaction of a long operation with the records done so far. */
typedef void (*store_admin_progress_fn)(uint64_t done, void *arg);

/* Removes every record whose expiry has passed, through the expiry index,
 * batch records per transaction. *removed counts them, also on error. */
enum store_status store_admin_sweep(struct store_admin *sa, unsigned batch,
				    store_admin_progress_fn progress, void *arg,
				    uint64_t *removed, struct error *err);

/* A record as dumped and loaded: key dotted, value its exact JSON text. */
struct store_admin_record {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
	int64_t expires_at;	/* 0 for none */
	uint64_t versionstamp;
};

/* Called for each live record of a dump, in key order; false stops the
 * dump, which then returns STORE_ERROR. */
typedef bool (*store_admin_record_fn)(const struct store_admin_record *rec, void *arg);

/* Called once before the first record of a dump with the versionstamp the
 * snapshot is complete up to; false stops the dump as for a record. */
typedef bool (*store_admin_begin_fn)(uint64_t versionstamp, void *arg);

/* Every live record strictly under prefix (dotted; "" for all), from one
 * consistent snapshot of the store: a private copy made for the dump.
 * begin may be NULL. */
enum store_status store_admin_dump(struct store_admin *sa, const char *prefix, size_t prefix_len,
				   store_admin_begin_fn begin, store_admin_record_fn fn,
				   void *arg, struct error *err);

/* True when no write ever happened in the store: the versionstamp counter
 * is still unset. */
enum store_status store_admin_fresh(struct store_admin *sa, bool *fresh, struct error *err);

/* Writes n records in one transaction. With keep_versionstamps each keeps
 * its versionstamp and the counter is raised to the largest, so that new
 * writes get versionstamps above everything loaded; without, each takes
 * the next versionstamp like any write. Records already expired are left
 * out and counted in *skipped. *versionstamp (when not NULL) is the
 * store's last versionstamp after the transaction; with nothing to write
 * (n == 0) the call only reads it. */
enum store_status store_admin_load(struct store_admin *sa, const struct store_admin_record *recs,
				   size_t n, bool keep_versionstamps, uint64_t *skipped,
				   uint64_t *versionstamp, struct error *err);

/* A hot backup of the live environment into dir, which must be missing or
 * empty: a checkpoint, Berkeley DB's own backup of the databases and logs,
 * then recovery of the copy, so that dir holds a consistent store as of the
 * end of the backup. */
enum store_status store_admin_backup(struct store_admin *sa, const char *dir, struct error *err);

/* Copies the backup in dir into the store directory of cfg, which must be
 * missing or empty (and nothing may serve it), and runs catastrophic
 * recovery on it. *keys is the number of live keys it then holds.
 * STORE_NOTFOUND when dir holds no backup, STORE_PRECONDITION when the
 * store directory is not empty. Does not join the live environment: no
 * store_admin handle. */
enum store_status store_admin_restore(const struct config *cfg, const char *dir, uint64_t *keys,
				      struct error *err);

/* Checks the structure of both databases, then that the expiry index holds
 * exactly one entry for each record with an expiry and nothing else, on a
 * private copy of the live store. STORE_ERROR with err naming the first
 * inconsistency found, or what stopped the check. */
enum store_status store_admin_verify(struct store_admin *sa, struct error *err);

/* What kvctl upgrade found: the format the store now holds (RECORD_FORMAT,
 * record.h) and the records it checked, the versionstamp counter's
 * included. */
struct store_admin_format {
	unsigned format;
	uint64_t records;	/* of the current format */
	uint64_t unknown;	/* of a format this build does not know */
};

/* Brings the store of cfg to the current format; run with the service
 * stopped. Joins it (recovering it when it needs it), converts the
 * records of older formats (none yet: format 1 is the first) and checks
 * that every record is of the current one. STORE_BUSY, before anything
 * is done, when other processes are using the store; STORE_ERROR when a
 * record is of a format this build does not know. Does not keep a
 * store_admin handle. */
enum store_status store_admin_upgrade(const struct config *cfg, struct store_admin_format *f,
				      struct error *err);

#endif

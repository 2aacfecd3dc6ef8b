/* store.h: the service's store: key operations, list pages and commits
 *
 * The service's operations on the database core (kvdb.h), which callers
 * never see: no Berkeley DB type appears here. Every write runs in its own
 * transaction and every read outside any (with the isolation of read
 * committed), tried again for a bounded time when it finds a lock taken.
 * Every store call, the service's and kvctl's (store_admin.h), returns
 * enum store_status. */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "record.h"

struct store;

enum store_status {
	STORE_OK,
	STORE_NOTFOUND,		/* no live key */
	STORE_PRECONDITION,	/* If-Match / If-None-Match not met; nothing written */
	STORE_BUSY,		/* lock waits did not resolve within the retries */
	STORE_UNAVAILABLE,	/* the environment cannot be opened or needs recovery */
	STORE_FULL,		/* the disk holding the store is full; nothing written */
	STORE_ERROR,		/* anything else; logged */
	STORE_CHECK_FAILED,	/* a commit's check did not hold; nothing written */
	STORE_TYPE_MISMATCH,	/* sum/min/max on a value that is not an integer */
	STORE_OVERFLOW,		/* sum/min/max beyond the signed 64-bit range */
	STORE_PERMISSION,	/* the store's files may not be used by this process's
				 * user: permanent until a person fixes it; logged */
	STORE_GONE,		/* a feed's since is older than the change log keeps */
	STORE_AHEAD,		/* a feed's since is beyond the store's versionstamp */
	STORE_TOO_MANY,		/* a recursive delete above its bound; nothing written */
	STORE_NOT_MASTER,	/* a replica: the master serves this (store_site) */
	STORE_NO_MASTER,	/* a replica that knows no master: an election */
	STORE_UNCERTAIN,	/* committed at the master, but the group's
				 * acknowledgements did not come in time */
	STORE_INVALID,		/* a commit token that is not one */
};

/* This site of a replicated group (docs/replication.md), as a process
 * sees it now; all false and NULL for a store that is not replicated. */
struct store_site {
	bool replicated;
	bool master;				/* this site is the master */
	bool confirmed;				/* a master connected to enough sites
						 * that no other can have been elected */
	const struct config_site *master_site;	/* the master's entry in the
						 * configuration; NULL: none known */
};

/* A commit token's text: hex digits. */
#define STORE_TOKEN_TEXT 40

/* A record as read: value points into buf, which the caller frees with
 * store_item_free(). */
struct store_item {
	uint64_t versionstamp;
	int64_t expires_at;	/* 0 for none */
	const char *value;
	size_t value_len;
	enum record_kind kind;	/* how value is encoded; 0 is JSON */
	void *buf;
};

/* Creates the store for cfg, which must outlive it, and tries to join the
 * environment. A store that cannot be joined yet is still returned: each
 * request tries again and is answered STORE_UNAVAILABLE meanwhile, so a
 * missing or broken directory never turns into a crash loop. NULL only
 * when out of memory. */
struct store *store_new(const struct config *cfg);

/* Closes the handles and leaves the environment. */
void store_free(struct store *st);

/* Called once a request is answered and its reply has left: runs the
 * checkpoint its writes made due, then closes the database handles when
 * the configuration says open = per_request. */
void store_end_request(struct store *st);

enum store_status store_site(struct store *st, struct store_site *out);

/* The same, as this process saw it at most max_age_ms ago: for what a
 * read tells of its site, which asking the library costs more than the
 * read itself. */
enum store_status store_site_recent(struct store *st, unsigned max_age_ms,
				    struct store_site *out);

/* At the master of a replicated group: a write of nothing, acknowledged
 * as the ack policy asks, so that what is read after it is the group's
 * latest. STORE_OK, STORE_NOT_MASTER or STORE_NO_MASTER, STORE_UNCERTAIN
 * when the acknowledgements did not come. */
enum store_status store_barrier(struct store *st);

/* Whether this process is its site's replication process (listener.h). */
bool store_is_listener(const struct store *st);

/* In the site's replication process: whether the site's other processes
 * must join the store again (a site joined or left the group, this
 * replica caught up with its master), for an event at least settle_ms
 * ago, since the last time this said so. */
bool store_renew_wanted(struct store *st, unsigned settle_ms);

/* Makes the site's other processes join the store again: a process
 * connects to the sites it knew when it joined. */
void store_renew(struct store *st);

/* Leaves the environment; the next call joins it again. */
void store_leave(struct store *st);

/* The token of this process's last write, for its answer's
 * KV-Commit-Token; false when the store is not replicated. */
bool store_commit_token(const struct store *st, char out[STORE_TOKEN_TEXT + 1]);

/* Waits up to timeout_ms until the write of a commit token is applied at
 * this site: STORE_OK (or when it never will be), STORE_NOT_MASTER or
 * STORE_NO_MASTER when it was not in time, STORE_INVALID for a token
 * that is not one. */
enum store_status store_wait_applied(struct store *st, const char *token, unsigned timeout_ms);

/* Starts a thread that, between requests, leaves a store that wants
 * recovery (store_join.h): for a FastCGI process, which may sit idle in
 * accept for long. Not for plain CGI, which leaves after one request. */
void store_watch_start(struct store *st);

/* Reads a live key. STORE_NOTFOUND when absent or expired. The item's
 * value lies in a buffer of the store's, good until its next call. */
enum store_status store_get(struct store *st, const char *key, size_t key_len,
			    struct store_item *item);
void store_item_free(struct store_item *item);

/* A write of one key; the conditions are raw If-Match / If-None-Match
 * header values or NULL. versionstamp and expires_at are set on success. */
struct store_put {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
	int64_t ttl_ms;		/* 0 for none */
	const char *if_match;
	const char *if_none_match;
	uint64_t versionstamp;
	int64_t expires_at;
};
enum store_status store_put(struct store *st, struct store_put *put);

struct store_delete {
	const char *key;
	size_t key_len;
	const char *if_match;
	bool deleted;		/* set: a live key was removed */
	uint64_t versionstamp;	/* set: the delete's, when a record was removed */
};
enum store_status store_delete(struct store *st, struct store_delete *del);

/* One page of the live keys strictly under prefix ("" for all), in key
 * order or reversed, starting after the key `after` when it is set. */
struct store_entry {
	char *key;		/* dotted, NUL-terminated; owned by the page */
	size_t key_len;
	struct store_item item;	/* value empty unless with_values */
};
struct store_list {
	const char *prefix;
	size_t prefix_len;
	const char *after;	/* NULL, or a key strictly under prefix */
	size_t after_len;
	bool reverse;
	bool with_values;
	unsigned limit;
	/* results, freed with store_list_free() */
	struct store_entry *entries;
	size_t count;
	bool more;		/* live keys follow the last entry */
	uint64_t versionstamp;	/* the store's when the page was read */
};
enum store_status store_list(struct store *st, struct store_list *list);
void store_list_free(struct store_list *list);

/* An atomic commit: every check holds, then every mutation is applied in
 * order, in one transaction, all with one new versionstamp; or nothing is
 * written and the outcome names the check or mutation that refused. */
enum store_op { STORE_SET, STORE_DELETE, STORE_SUM, STORE_MIN, STORE_MAX };

struct store_check {
	const char *key;	/* dotted keypath, or the btree key when stored */
	size_t key_len;
	bool stored;		/* KV Connect's: key is a Deno key's stored form (connect_key.h) */
	const char *grant;	/* stored: the dotted keypath its grants are checked on */
	size_t grant_len;
	bool absent;		/* the key must not exist (a null versionstamp) */
	uint64_t versionstamp;	/* else the live key must have this one */
};

struct store_mutation {
	enum store_op op;
	const char *key;	/* as a check's */
	size_t key_len;
	bool stored;
	const char *grant;
	size_t grant_len;
	const char *value;	/* STORE_SET: the value's JSON text, or as kind says */
	size_t value_len;
	enum record_kind kind;	/* STORE_SET: 0 is JSON */
	int64_t operand;	/* STORE_SUM, STORE_MIN, STORE_MAX */
	int64_t ttl_ms;		/* 0: a set never expires; sum/min/max keep the key's expiry */
	/* Deno's KvU64 (record.h): sum, min and max take operand_u64,
	 * work only on a stored KvU64 or none (else STORE_TYPE_MISMATCH),
	 * wrap modulo 2^64 and, as in Deno, replace the key's expiry with
	 * ttl_ms's. */
	bool u64;
	uint64_t operand_u64;
};

struct store_commit {
	const struct store_check *checks;
	size_t n_checks;
	const struct store_mutation *mutations;
	size_t n_mutations;
	uint64_t versionstamp;	/* set on success: the commit's, or the current one without mutations */
	size_t failed;		/* the index of the refusing check or mutation */
};
enum store_status store_commit(struct store *st, struct store_commit *commit);

/* A recursive delete (store_subtree.c): the key prefix and every key
 * below it, in one transaction under one new versionstamp, each through
 * the core's delete. STORE_TOO_MANY, with nothing deleted, when more than
 * max records lie there, expired ones included, or more than one
 * transaction can lock. */
struct store_delete_tree {
	const char *prefix;	/* dotted, not empty */
	size_t prefix_len;
	uint32_t max;
	uint64_t deleted;	/* set: the live keys removed */
	uint64_t versionstamp;	/* set: the delete's; 0 when nothing was there */
};
enum store_status store_delete_tree(struct store *st, struct store_delete_tree *del);

/* One page of the direct children of prefix ("" for the first segments)
 * (store_children.c), in key order or reversed, starting after the child
 * `after` when it is set. A child is listed when it holds a live value or
 * has a live key below it; the walk seeks past each child's subtree
 * instead of reading it. */
struct store_child {
	struct store_entry entry;	/* the child's key, and its own record when
					 * has_value (value empty unless with_values) */
	bool has_value;
	bool has_children;	/* a live key lies below the child */
};
struct store_children {
	const char *prefix;
	size_t prefix_len;
	const char *after;	/* NULL, or a direct child of prefix */
	size_t after_len;
	bool reverse;
	bool with_values;
	unsigned limit;
	/* results, freed with store_children_free() */
	struct store_child *entries;
	size_t count;
	bool more;		/* children follow the last entry */
	uint64_t versionstamp;	/* the store's when the walk began */
};
enum store_status store_children(struct store *st, struct store_children *page);
void store_children_free(struct store_children *page);

/* A read of many keys (store_read_many.c) in one transaction that holds
 * the versionstamp counter's read lock, which every write takes first:
 * the keys are read as of one versionstamp. */
struct store_read_key {
	const char *key;	/* dotted keypath */
	size_t key_len;
	bool found;		/* set: a live key; item is its record */
	struct store_item item;
};
struct store_read_many {
	struct store_read_key *keys;
	size_t n_keys;
	uint64_t versionstamp;	/* set: the last write the reads reflect */
};
enum store_status store_read_many(struct store *st, struct store_read_many *read);
/* Frees the items a read left in its keys. */
void store_read_many_free(struct store_read_many *read);

/* ---- KV Connect (docs/kv-connect.md) ---- */

/* A range of keys in Deno's key encoding (connect_key.h): the live keys
 * whose encoding k has start <= k < end, compared bytewise, at most
 * limit of them, from the end backwards when reverse. */
struct store_range_entry {
	unsigned char *key;	/* the key's Deno encoding; owned */
	size_t key_len;
	struct store_item item;	/* its record; the value is owned */
};
struct store_range {
	const unsigned char *start;
	size_t start_len;
	const unsigned char *end;
	size_t end_len;
	unsigned limit;
	bool reverse;
	/* results, freed with store_ranges_free() */
	struct store_range_entry *entries;
	size_t count;
};

/* Reads the ranges in one transaction that holds the versionstamp
 * counter's read lock, as store_read_many() does: all of them as of one
 * versionstamp. */
enum store_status store_read_ranges(struct store *st, struct store_range *ranges, size_t n);
void store_ranges_free(struct store_range *ranges, size_t n);

/* Reads the store's counter record: a health check that touches the store. */
enum store_status store_ping(struct store *st);

/* ---- the change feed ---- */

enum store_change_op { STORE_CHANGE_SET, STORE_CHANGE_DELETE, STORE_CHANGE_EXPIRE };

struct store_change {
	char *key;		/* dotted, NUL-terminated; owned by the answer */
	size_t key_len;
	enum store_change_op op;
	uint64_t versionstamp;
	int64_t expires_at;	/* a set's; 0 for none */
	char *value;		/* a set's JSON text when with_values; owned */
	size_t value_len;
	enum record_kind kind;	/* a set's value's: REST shows no value of
				 * a kind with no JSON form */
};

/* The changes to the key prefix itself and every key under it ("" for
 * all) committed after since, oldest first, whole commits only; see the
 * contract's change feed. */
struct store_changes {
	const char *prefix;
	size_t prefix_len;
	bool has_since;		/* false: from now, no changes */
	uint64_t since;
	bool with_values;
	unsigned limit;
	/* results, freed with store_changes_free() */
	struct store_change *changes;
	size_t count;
	uint64_t versionstamp;	/* the answer is complete up to it */
	bool more;		/* changes past it are there already */
};
/* STORE_GONE when since is older than the log keeps, STORE_AHEAD when it
 * is beyond the store. Expired keys due for removal are removed first,
 * so that the answer shows their expiry. */
enum store_status store_changes(struct store *st, struct store_changes *ch);
void store_changes_free(struct store_changes *ch);

/* The store's versionstamp now: how a waiting feed sees that something
 * committed since it last looked. */
enum store_status store_versionstamp(struct store *st, uint64_t *vs);

/* Removes the keys whose expiry has passed, so that feeds show them;
 * *next is the earliest expiry still ahead (0 for none). */
enum store_status store_expire_due(struct store *st, int64_t *next);

/* How the store's processes hear of each other's commits (wake.h). */
struct wake *store_wake(struct store *st);

#endif

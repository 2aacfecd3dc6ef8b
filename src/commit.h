/* commit.h: the body of an atomic commit (POST /kv/), read into the
 * store's terms
 *
 *   {"checks":    [{"key": "a.b", "versionstamp": "0000000000000000002a" | null}],
 *    "mutations": [{"type": "set", "key": "a.b", "value": <JSON>, "ttl": <ms>},
 *                  {"type": "delete" | "sum" | "min" | "max", ...}]}
 */
#ifndef KV_COMMIT_H
#define KV_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* The contract's bounds on one commit. */
#define COMMIT_CHECKS_MAX 100
#define COMMIT_MUTATIONS_MAX 1000

/* A parsed commit. op points at checks and mutations, whose keys are
 * decoded into keys and whose values point into the request body, which
 * must outlive the commit. */
struct commit {
	struct store_commit op;
	struct store_check *checks;
	struct store_mutation *mutations;
	char *keys;
};

/* Reads body[0..len) at the time now (ms since the epoch, for ttls), with
 * values of at most max_value bytes nesting at most value_depth deep.
 * Returns false with err filled on bad input (400 invalid_json,
 * invalid_body, invalid_key, invalid_ttl or too_many_operations, 413
 * value_too_large; the message names the entry, as "mutations[2]: ...")
 * or when out of memory (500). The commit is freed with commit_free()
 * either way. */
bool commit_parse(struct commit *commit, const char *body, size_t len, size_t max_value,
		  int value_depth, int64_t now, struct error *err);

void commit_free(struct commit *commit);

#endif

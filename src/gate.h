/* gate.h: what a request must pass before any handler runs, and every
 * grant it needs
 *
 * In order: the client's rate budget (429), its token (401), maintenance
 * mode for writes (503, a backup's load included) and the grant for what
 * it names (403): the key or list prefix of its path, the admin grant for
 * a backup or a load, and for the atomic commit, which names its
 * keys in its body, a grant of any kind before the body is read and then
 * gate_commit() on what the commit parser read from it. */
#ifndef KV_GATE_H
#define KV_GATE_H

#include <stdbool.h>

#include "auth.h"
#include "config.h"
#include "error.h"
#include "ratelimit.h"
#include "request.h"
#include "store.h"

/* Room for the header lines of a refusal (Retry-After, WWW-Authenticate). */
#define GATE_HEADERS_MAX 64

/* Sets req->client and req->common_headers (the RateLimit-* headers every
 * reply then carries). Returns false when the request may not go on, with
 * err filled and headers (GATE_HEADERS_MAX bytes) set to the header lines
 * its reply carries, or "". rl may be NULL when cfg->rate is 0. */
bool gate_pass(struct request *req, const struct config *cfg, struct ratelimit *rl,
	       struct error *err, char *headers);

/* The grants of an atomic commit: any grant at all, even for a commit
 * that names no key (it answers the store's versionstamp); a read grant
 * on every check's key, as a check reads; a write grant on every
 * mutation's key. Returns false with err filled (403 forbidden) for the
 * first one missing, before the store is touched. */
bool gate_commit(const struct auth_client *client, const struct store_commit *op,
		 struct error *err);

/* The grants of a read of many keys: any grant at all, as for a commit,
 * and a read grant on every key. Returns false with err filled (403
 * forbidden) for the first one missing, before the store is touched. */
bool gate_read_many(const struct auth_client *client, const struct store_read_many *read,
		    struct error *err);

#endif

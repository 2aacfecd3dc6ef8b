/* gate.h: what a request must pass before any handler runs
 *
 * In order: the client's rate budget (429), its token (401), maintenance
 * mode for writes (503) and the grant for the key or list prefix it names
 * (403). The atomic commit names its keys in its body: its handler checks
 * them with auth_permits() before it touches the store. */
#ifndef KV_GATE_H
#define KV_GATE_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "ratelimit.h"
#include "request.h"

/* Room for the header lines of a refusal (Retry-After, WWW-Authenticate). */
#define GATE_HEADERS_MAX 64

/* Sets req->client and req->common_headers (the RateLimit-* headers every
 * reply then carries). Returns false when the request may not go on, with
 * err filled and headers (GATE_HEADERS_MAX bytes) set to the header lines
 * its reply carries, or "". rl may be NULL when cfg->rate is 0. */
bool gate_pass(struct request *req, const struct config *cfg, struct ratelimit *rl,
	       struct error *err, char *headers);

#endif

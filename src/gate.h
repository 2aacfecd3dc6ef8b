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
#include "ratelimit.h"
#include "request.h"

/* Sets req->client and req->common_headers (the RateLimit-* headers every
 * reply then carries). Answers the request itself and returns false when
 * it may not go on. */
bool gate_pass(struct request *req, const struct config *cfg, struct ratelimit *rl);

#endif

/* route.h: which handler answers a request, and the handlers themselves */
#ifndef KV_ROUTE_H
#define KV_ROUTE_H

#include "config.h"
#include "request.h"
#include "store.h"

/* Answers a request that passed the gate: the handler for its method and
 * target, or 405 method_not_allowed with the Allow header. */
void route_dispatch(struct request *req, struct store *st, const struct config *cfg);

#endif

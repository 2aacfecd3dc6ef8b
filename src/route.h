/* route.h: which handler answers a request, and the handlers themselves */
#ifndef KV_ROUTE_H
#define KV_ROUTE_H

#include "config.h"
#include "request.h"
#include "store.h"

/* Answers a parsed request: the handler for its method and target, or
 * 405 method_not_allowed with the Allow header. */
void route_dispatch(struct request *req, struct store *st, const struct config *cfg);

/* What route_parse_put_body() found in a PUT body. */
enum put_body_status {
	PUT_BODY_OK,
	PUT_BODY_INVALID_JSON,		/* 400 invalid_json */
	PUT_BODY_INVALID_BODY,		/* 400 invalid_body, *problem says why */
	PUT_BODY_INVALID_TTL,		/* 400 invalid_ttl */
	PUT_BODY_VALUE_TOO_LARGE,	/* 413 value_too_large */
};

/* Checks a PUT body, text[0..len), at the time now (ms): on PUT_BODY_OK it
 * sets put->value and value_len (pointing into text) and put->ttl_ms. Needs
 * no request, so that it can be fuzzed. */
enum put_body_status route_parse_put_body(const char *text, size_t len, size_t max_value,
					  int64_t now, struct store_put *put, const char **problem);

#endif

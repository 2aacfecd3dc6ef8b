/* serve.h: one request, from the web server's variables to the reply
 *
 * The same for plain CGI and FastCGI: parse, pass the gate (rate limit,
 * token, maintenance, grant), then handle and reply; the store is touched
 * only by the handler. Without a good configuration every request is
 * answered its 500, whatever it asks. */
#ifndef KV_SERVE_H
#define KV_SERVE_H

#include "confwatch.h"
#include "io.h"
#include "request.h"
#include "wake.h"

struct feed;

/* Serves the request on io, just accepted. With park not NULL (FastCGI),
 * a change feed that must wait is left in *park instead of waited for,
 * its request then the feed's; w is the wake handle the feed's slot is
 * taken from. */
void serve(struct io *io, struct request_ids *ids, const struct confwatch *cw,
	   struct feed **park, struct wake *w);

/* The log's line for a FastCGI process that starts serving requests. */
void serve_log_start(const struct confwatch *cw);

#endif

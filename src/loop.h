/* loop.h: a FastCGI process's loop: it accepts requests and keeps the
 * change feeds that wait
 *
 * One thread, one poll(2) over the listening socket, the wake file's
 * descriptor (wake.h) and every connection the process keeps: a waiting
 * feed's, whose input means the web server gave up on it, and a
 * kept-alive one's, whose input is its next request. A request is served
 * as soon as it is accepted, as before; a feed that must wait is parked
 * and answered when a commit of any process wakes the loop, or when its
 * time comes, so that waiting clients never hold the process that other
 * requests need. */
#ifndef KV_LOOP_H
#define KV_LOOP_H

#include "confwatch.h"
#include "request.h"

/* Serves requests on the FastCGI listening socket (descriptor 0) until
 * SIGTERM or SIGUSR1 (a request under way finishes first; waiting feeds
 * end: a long-poll answers that nothing changed, a stream ends). */
void loop_run(struct confwatch *cw, struct request_ids *ids);

#endif

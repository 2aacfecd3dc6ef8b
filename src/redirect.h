/* redirect.h: what a site of a replicated group does not answer itself
 *
 * Writes go to the master: a replica answers them 307 with a Location at
 * the master's base URL (from the configuration's peer lines) and the
 * request's own path and query, so that clients repeat the method and the
 * body there. A read that must see a given write (KV-Commit-Token) waits
 * for it to be applied here, briefly, then goes to the master too; so
 * does a read that asks for the master's view (?consistent=true or
 * KV-Consistent: true). While no master is known, such requests are 503
 * with Retry-After: 1. A store that is not replicated passes everything. */
#ifndef KV_REDIRECT_H
#define KV_REDIRECT_H

#include <stdbool.h>

#include "config.h"
#include "request.h"
#include "store.h"

/* How old this process's view of its site's role may be when a read is
 * served (a write is always checked afresh, at the store). */
#define REDIRECT_SITE_AGE_MS 100

/* How long a read at a replica waits for its commit token's write. */
#define REDIRECT_APPLIED_WAIT_MS 2000

/* Before the handler: true when this site serves the request; otherwise
 * it has been answered. */
bool redirect_pass(struct request *req, struct store *st, const struct config *cfg);

/* Answers a store call that found this site is not (or no longer) the
 * master: STORE_NOT_MASTER or STORE_NO_MASTER. */
void redirect_send(struct request *req, struct store *st, enum store_status status);

/* After a write, before its 200: adds the commit token to the headers
 * every reply of the request carries. */
void redirect_note_commit(struct request *req, const struct store *st);

#endif

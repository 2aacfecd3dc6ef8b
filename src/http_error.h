/* http_error.h: the HTTP answer to a store call that did not succeed */
#ifndef KV_HTTP_ERROR_H
#define KV_HTTP_ERROR_H

#include "error.h"
#include "store.h"

/* Fills err with the client's error for status (not STORE_OK) and returns
 * the header lines its reply carries (Retry-After for a store that is
 * busy, unavailable or full), or NULL. key is the key the failure
 * concerns, named in the message of a 404, a 412 and a commit's 409s;
 * undone ("written", "deleted") says what a 412 left undone. Failures a
 * client cannot cause are 500 internal, their cause already logged by
 * the store. */
const char *http_error_from_store(enum store_status status, const char *key, const char *undone,
				  struct error *err);

#endif

/* body.h: a request's body: read within its bound, and a PUT's fields */
#ifndef KV_BODY_H
#define KV_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "io.h"
#include "request.h"
#include "store.h"

/* Reads the body into req->body (NUL-terminated), at most max_body bytes.
 * Returns false with err filled when it cannot: 413 body_too_large, 400
 * invalid_body for a bad or unmet Content-Length, 500 out of memory. */
bool body_read(struct request *req, size_t max_body, struct error *err);

/* Under plain CGI, reads and drops what is left of the body, up to
 * BODY_DISCARD_MAX bytes, before an answer that did not read it:
 * mod_cgid cuts the answer of a program that exits before the web server
 * has handed over the body. Under FastCGI libfcgi does this itself. */
#define BODY_DISCARD_MAX (1u << 20)
void body_discard(struct io *io);

/* Checks a PUT body, text[0..len), at the time now (ms): sets put->value
 * and value_len (pointing into text) and put->ttl_ms. Returns false with
 * err filled on bad input: 400 invalid_json, invalid_body or invalid_ttl,
 * or 413 value_too_large past max_value bytes. Needs no request, so that
 * it can be fuzzed. */
bool body_parse_put(const char *text, size_t len, size_t max_value, int64_t now,
		    struct store_put *put, struct error *err);

#endif

/* etag.h: If-Match / If-None-Match entity tags against a versionstamp */
#ifndef KV_ETAG_H
#define KV_ETAG_H

#include <stdbool.h>

/* How tags compare (RFC 9110 8.8.3.2): If-Match compares strongly, so a
 * weak tag ("W/" prefix) never matches; If-None-Match compares weakly and
 * ignores the prefix. */
enum etag_compare { ETAG_STRONG, ETAG_WEAK };

/* True when the header value (a comma-separated list of entity tags, or
 * "*") matches a key that exists (exists) with versionstamp vs. "*" matches
 * any existing key; a tag matches when its quoted text equals vs.
 * Malformed tags match nothing, so a garbage If-Match fails and a garbage
 * If-None-Match never short-cuts a request. */
bool etag_matches(const char *header, enum etag_compare how, bool exists, const char *vs);

#endif

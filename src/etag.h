/* etag.h: If-Match / If-None-Match entity tags against a versionstamp */
#ifndef KV_ETAG_H
#define KV_ETAG_H

#include <stdbool.h>

/* True when the header value (a comma-separated list of entity tags, or
 * "*") matches a key that exists (exists) with versionstamp vs. "*" matches
 * any existing key; a tag matches when its quoted text equals vs (a weak
 * "W/" prefix is ignored). Malformed tags match nothing, so a garbage
 * If-Match fails and a garbage If-None-Match never short-cuts a request. */
bool etag_matches(const char *header, bool exists, const char *vs);

#endif

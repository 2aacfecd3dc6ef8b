/* read_body.h: the body of a read of many keys (POST /kv/?read=true),
 * read into the store's terms
 *
 *   {"keys": ["users.john", "users.mary"]}
 */
#ifndef KV_READ_BODY_H
#define KV_READ_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

/* The contract's bound on the keys of one read. */
#define READ_KEYS_MAX 100

/* A parsed body: read.keys holds the keys in the order given (a key named
 * twice appears twice), decoded into keys. */
struct read_body {
	struct store_read_many read;
	char *keys;
};

/* Reads body[0..len). Returns false with err filled on bad input (400
 * invalid_json, invalid_body, invalid_key or too_many_operations; the
 * message of a bad key names it, as "keys[2]: ...") or when out of memory
 * (500). The result is freed with read_body_free() either way. */
bool read_body_parse(struct read_body *rb, const char *body, size_t len, struct error *err);

void read_body_free(struct read_body *rb);

#endif

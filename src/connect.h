/* connect.h: Deno's KV Connect, served at {mount}/.connect
 *
 * Deno.openKv("http://host/kv/.connect") first POSTs JSON to that URL
 * (the metadata exchange), which answers where the data path is,
 * {mount}/.connect/v2, and then POSTs protobuf messages (kvconnect.proto)
 * to its snapshot_read and atomic_write. Each request passes the gate
 * like any other (token, rate budget), and every range, check and
 * mutation is checked against the token's grants before the store is
 * touched. docs/kv-connect.md has the mapping of keys and values. */
#ifndef KV_CONNECT_H
#define KV_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "jsonbuf.h"
#include "request.h"
#include "store.h"

/* A request under {mount}/.connect: req->key is what follows it, "" for
 * the metadata exchange or "v2/snapshot_read" and so on. */
void connect_handle(struct request *req, struct store *st, const struct config *cfg);

/* ---- shared by connect*.c ---- */

/* A versionstamp as KV Connect carries it: ten bytes, big-endian, whose
 * hex is the contract's 20 digits. */
#define CONNECT_VS_LEN 10
void connect_vs_pack(uint64_t vs, unsigned char out[CONNECT_VS_LEN]);

/* Fills a KvEntry with an entry read from the store: its key, its
 * versionstamp in stamp, and its value in Deno's terms in value (a
 * KvU64 as 8 bytes little-endian, anything else as V8 data), which the
 * caller frees. False when out of memory or the stored value cannot be
 * encoded. */
struct Kvconnect__KvEntry;
bool connect_entry(const struct store_range_entry *e, struct jsonbuf *value,
		   unsigned char stamp[CONNECT_VS_LEN], struct Kvconnect__KvEntry *out);

/* Sends a packed protobuf message, or 500 when packing ran out of memory. */
void connect_reply_proto(struct request *req, const void *message);

/* An atomic_write body read into the store's terms: op is the commit,
 * whose keys and values point into the rest, freed with
 * connect_write_free() whether or not the parse succeeded. Every key
 * is a Deno key's stored form, every set's value JSON within max_value bytes. Returns
 * false with err filled (400 invalid_body, invalid_key, invalid_value,
 * invalid_ttl or unsupported, 413 value_too_large, 500 out of memory).
 * Needs no request, so that it can be fuzzed. */
struct connect_write {
	struct store_commit op;
	struct store_check *checks;
	struct store_mutation *mutations;
	char *keys;		/* a stored key and its grant's keypath per check and mutation */
	struct jsonbuf *values;	/* one per mutation */
	size_t n_values;
	bool never_holds;	/* a check names a versionstamp this store never gave */
};
bool connect_write_parse(struct connect_write *w, const uint8_t *body, size_t len,
			 size_t max_value, struct error *err);
void connect_write_free(struct connect_write *w);

void connect_snapshot_read(struct request *req, struct store *st, const struct config *cfg);
void connect_atomic_write(struct request *req, struct store *st, const struct config *cfg);
void connect_watch(struct request *req, struct store *st, const struct config *cfg);

#endif

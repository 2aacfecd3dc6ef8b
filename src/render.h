/* render.h: the bodies and item headers of responses, as JSON text
 *
 * Each render_* function starts the buffer it is given (jsonbuf_init) and
 * writes one whole body into it; the caller sends it and frees it. The
 * text is the contract's (docs/API.md) byte for byte: members in the
 * contract's order, no spaces, '/' unescaped. */
#ifndef KV_RENDER_H
#define KV_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "jsonbuf.h"
#include "store.h"

/* The headers of an item, "Name: value\r\n" lines into out (size bytes):
 * ETag: "vs", and KV-Expires-At for a key with an expiry (expires_at not
 * 0). out is "" when they do not fit. */
void render_item_headers(char *out, size_t size, const char *vs, int64_t expires_at);

/* {"service", "version", "status": "ok"}: the health check; for a site of
 * a replicated group also "replication": its role, this site, the master
 * and the versionstamp vs it has applied. */
void render_health(struct jsonbuf *out, const struct store_site *site, const struct config *cfg,
		   const char *vs);

/* {"key", "versionstamp", "expiresAt"}: the key a PUT wrote. */
void render_written(struct jsonbuf *out, const char *key, size_t key_len, const char *vs,
		    int64_t expires_at);

/* {"key", "deleted", "versionstamp"}: the answer to a DELETE; the
 * versionstamp is null when nothing was deleted. */
void render_deleted(struct jsonbuf *out, const char *key, size_t key_len, bool deleted,
		    uint64_t vs);

/* {"ok": true, "versionstamp"}: a commit applied. */
void render_committed(struct jsonbuf *out, const char *vs);

/* {"loaded": N, "skipped": M, "versionstamp": vs}: a backup's load. */
void render_loaded(struct jsonbuf *out, uint64_t loaded, uint64_t skipped, const char *vs);

/* {"entries": [...], "cursor", "versionstamp"}: a list page, each entry's
 * value being the stored JSON text as it is, the cursor the hex of the
 * last key when more follow. */
void render_list_page(struct jsonbuf *out, const struct store_list *list);

/* {"changes": [...], "versionstamp", "more"}: a change feed's answer. */
void render_changes(struct jsonbuf *out, const struct store_changes *ch);

/* {"deleted": N, "versionstamp"}: a recursive delete; the versionstamp
 * null (0) when it removed nothing. */
void render_deleted_tree(struct jsonbuf *out, uint64_t deleted, uint64_t versionstamp);

/* {"entries": [{"key", "hasValue", "hasChildren", "value", "versionstamp",
 * "expiresAt"}], "cursor", "versionstamp"}: a one-level list page; a
 * child without a value of its own has null for the entry's last three
 * ("value" left out unless the listing asks for values). */
void render_children_page(struct jsonbuf *out, const struct store_children *page);

/* {"entries": [{"key", "value", "versionstamp", "expiresAt"}],
 * "versionstamp"}: a read of many keys, an absent key's three members
 * null. */
void render_read_many(struct jsonbuf *out, const struct store_read_many *read);

/* {"error": {"status", "code", "message"}}: a client's error. */
void render_error(struct jsonbuf *out, const struct error *err);

/* A 307 to the master: the error, and "master": {"site", "url"}. */
void render_redirect(struct jsonbuf *out, const struct error *err, const char *address,
		     const char *url);

#endif

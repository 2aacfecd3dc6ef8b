/* backup.h: backups of the whole store over HTTP
 *
 * GET /kv/?backup=true streams the lines of a dump (dumpline.h) from a
 * consistent snapshot of the store; POST /kv/?load=true checks every line
 * of its body before it writes any, then writes them in short
 * transactions. Both work through the store's administrative operations
 * (store_admin.h), on the environment the service has joined. */
#ifndef KV_BACKUP_H
#define KV_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpline.h"
#include "error.h"
#include "request.h"
#include "store_admin.h"

/* The media type of a backup: JSON lines. */
#define BACKUP_TYPE "application/x-ndjson"

/* Streams the backup as the answer to req: 200 with KV-Versionstamp, then
 * one line per live key. *begun tells whether the answer's headers went
 * out: when the call fails before, the caller answers the error; after,
 * the stream is cut short, and the log says why. */
enum store_status backup_send(struct store_admin *sa, const struct request *req, bool *begun,
			      struct error *err);

/* A backup's body, parsed: the records point into the body's text. */
struct backup_lines {
	struct dumpline *lines;
	size_t n;
};

/* Parses text[0..len) line by line (a line ends at '\n'; a '\r' before it
 * and empty lines are ignored), each value within max_value bytes. Returns
 * false with err filled on the first bad line, 400 invalid_body naming its
 * number, or 500 when out of memory; out is to be freed either way. */
bool backup_parse(const char *text, size_t len, size_t max_value, struct backup_lines *out,
		  struct error *err);

void backup_lines_free(struct backup_lines *b);

struct backup_totals {
	uint64_t loaded;
	uint64_t skipped;	/* already expired, left out */
	uint64_t versionstamp;	/* the store's after the last transaction */
};

/* Writes the parsed lines as kvctl load does: into a store that never took
 * a write with their versionstamps, else with new ones; in transactions of
 * 100 keys (or 1 MiB of values). On failure the keys of the transactions
 * that committed stay written, counted in t. */
enum store_status backup_load(struct store_admin *sa, const struct backup_lines *b,
			      struct backup_totals *t, struct error *err);

#endif

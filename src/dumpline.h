/* dumpline.h: one line of a dump, the format of kvctl dump and load and
 * of the service's backups over HTTP
 *
 * A line is a JSON object {"key", "value", "expiresAt", "versionstamp"}
 * and a newline; "valueText" carries the exact text of a value whose
 * whitespace held line breaks. The writer and the parser live here only,
 * so that what one writes the other reads. */
#ifndef KV_DUMPLINE_H
#define KV_DUMPLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "jsonbuf.h"
#include "store_admin.h"

/* Writes rec's line, its newline included, into b (emptied first).
 * b->failed when out of memory. */
void dumpline_write(struct jsonbuf *b, const struct store_admin_record *rec);

/* One parsed line: rec points into the line's text and into owned, the
 * decoded strings. */
struct dumpline {
	struct store_admin_record rec;
	char *owned[2];		/* the key, and valueText's text; NULL when unused */
};

/* Parses text[0..len), one line without its newline, into out, which
 * dumpline_free() releases whatever it returns; text must outlive out.
 * A value over max_value bytes is refused. Returns NULL, or what is wrong
 * with the line in words for its user. */
const char *dumpline_parse(const char *text, size_t len, size_t max_value,
			   struct dumpline *out);

void dumpline_free(struct dumpline *d);

#endif

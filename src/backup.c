/* backup.c: backups of the whole store over HTTP */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "jsonbuf.h"
#include "record.h"
#include "reply.h"
#include "util.h"

/* Keys per transaction of a load: short enough that a web worker's write
 * waits a few milliseconds at most behind one, as with kvctl load. */
#define LOAD_BATCH_RECORDS 100

/* A load also ends a transaction at this many bytes of values. */
#define LOAD_BATCH_BYTES (1u << 20)

struct send_op {
	const struct request *req;
	struct jsonbuf line;
	bool begun;
};

static bool send_begin(uint64_t versionstamp, void *arg)
{
	struct send_op *op = arg;
	char vs[VERSIONSTAMP_LEN + 1];
	char headers[64];

	record_format_vs(versionstamp, vs);
	snprintf(headers, sizeof(headers), "KV-Versionstamp: %s\r\n", vs);
	op->begun = true;
	return reply_stream_begin(op->req, 200, BACKUP_TYPE, headers);
}

static bool send_record(const struct store_admin_record *rec, void *arg)
{
	struct send_op *op = arg;

	dumpline_write(&op->line, rec);
	if (op->line.failed)
		return false;
	return reply_stream_write(op->req, op->line.data, op->line.len);
}

enum store_status backup_send(struct store_admin *sa, const struct request *req, bool *begun,
			      struct error *err)
{
	struct send_op op = { .req = req };
	enum store_status status;

	jsonbuf_init(&op.line, 256);
	status = store_admin_dump(sa, "", 0, send_begin, send_record, &op, err);
	if (status == STORE_OK && op.line.failed)
		status = STORE_ERROR;
	*begun = op.begun;
	jsonbuf_free(&op.line);
	return status;
}

/* The next line of text from *at: its start and length without the line
 * end; advances *at past it. */
static const char *next_line(const char *text, size_t len, size_t *at, size_t *line_len)
{
	const char *start = text + *at;
	const char *nl = memchr(start, '\n', len - *at);
	size_t n = nl != NULL ? (size_t)(nl - start) : len - *at;

	*at += n + (nl != NULL);
	if (n > 0 && start[n - 1] == '\r')
		n--;
	*line_len = n;
	return start;
}

bool backup_parse(const char *text, size_t len, size_t max_value, struct backup_lines *out,
		  struct error *err)
{
	unsigned long lineno = 0;
	size_t at = 0, cap = 0;

	out->lines = NULL;
	out->n = 0;
	while (at < len) {
		size_t line_len;
		const char *line = next_line(text, len, &at, &line_len);
		const char *problem;

		lineno++;
		if (line_len == 0)
			continue;
		if (out->n == cap) {
			size_t more = cap == 0 ? 64 : 2 * cap;
			struct dumpline *grown = realloc(out->lines, more * sizeof(*grown));

			if (grown == NULL)
				return error_set(err, 500, "internal", "out of memory");
			out->lines = grown;
			cap = more;
		}
		problem = dumpline_parse(line, line_len, max_value, &out->lines[out->n]);
		out->n++;
		if (problem != NULL)
			return error_set(err, 400, "invalid_body", "line %lu: %s; nothing was written",
					 lineno, problem);
	}
	return true;
}

void backup_lines_free(struct backup_lines *b)
{
	for (size_t i = 0; i < b->n; i++)
		dumpline_free(&b->lines[i]);
	free(b->lines);
	b->lines = NULL;
	b->n = 0;
}

/* How many lines from first go into one transaction. */
static size_t batch_size(const struct backup_lines *b, size_t first)
{
	size_t n = 0, bytes = 0;

	while (first + n < b->n && n < LOAD_BATCH_RECORDS && bytes < LOAD_BATCH_BYTES)
		bytes += b->lines[first + n++].rec.value_len;
	return n;
}

enum store_status backup_load(struct store_admin *sa, const struct backup_lines *b,
			      struct backup_totals *t, struct error *err)
{
	struct store_admin_record recs[LOAD_BATCH_RECORDS];
	enum store_status status;
	uint64_t skipped;
	size_t first = 0;
	bool fresh;

	memset(t, 0, sizeof(*t));
	/* Into a store that never took a write, records keep their
	 * versionstamps, so the entity tags clients hold stay valid; into one
	 * that did, each takes a new one, so none ever repeats. */
	if ((status = store_admin_fresh(sa, &fresh, err)) != STORE_OK)
		return status;
	/* An empty backup still runs one transaction: it reads the store's
	 * versionstamp for the answer and writes nothing. */
	do {
		size_t n = batch_size(b, first);

		for (size_t i = 0; i < n; i++)
			recs[i] = b->lines[first + i].rec;
		status = store_admin_load(sa, recs, n, fresh, &skipped, &t->versionstamp, err);
		if (status != STORE_OK)
			return status;
		t->loaded += n - skipped;
		t->skipped += skipped;
		first += n;
	} while (first < b->n);
	return STORE_OK;
}

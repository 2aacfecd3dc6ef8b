/* dumpline_fuzz.c: the lines of a backup's load (src/backup.c's split,
 * src/dumpline.c's parser), as POST /kv/?load=true and kvctl load read them */
#include <string.h>

#include "backup.h"
#include "fuzz.h"
#include "jsonbuf.h"
#include "jsontext.h"
#include "keypath.h"

#define MAX_VALUE 65536

/* A parsed record: a valid key, a value that is one JSON value within
 * max_value, and an expiry within the contract's range. Written back as a
 * line, it parses into the same record. */
static void check_record(const struct store_admin_record *rec)
{
	struct dumpline again;
	struct jsonbuf line;

	FUZZ_REQUIRE(keypath_valid(rec->key, rec->key_len));
	FUZZ_REQUIRE(rec->value_len <= MAX_VALUE);
	FUZZ_REQUIRE(jsontext_validate(rec->value, rec->value_len, 128) == JSONTEXT_OK);
	FUZZ_REQUIRE(rec->expires_at >= 0 && rec->expires_at <= INT64_C(9007199254740991));
	jsonbuf_init(&line, 256);
	dumpline_write(&line, rec);
	if (!line.failed) {
		FUZZ_REQUIRE(line.len > 0 && line.data[line.len - 1] == '\n');
		FUZZ_REQUIRE(memchr(line.data, '\n', line.len - 1) == NULL);
		FUZZ_REQUIRE(dumpline_parse(line.data, line.len - 1, MAX_VALUE, &again) == NULL);
		FUZZ_REQUIRE(again.rec.key_len == rec->key_len &&
			     memcmp(again.rec.key, rec->key, rec->key_len) == 0);
		FUZZ_REQUIRE(again.rec.value_len == rec->value_len &&
			     memcmp(again.rec.value, rec->value, rec->value_len) == 0);
		FUZZ_REQUIRE(again.rec.expires_at == rec->expires_at);
		FUZZ_REQUIRE(again.rec.versionstamp == rec->versionstamp);
		dumpline_free(&again);
	}
	jsonbuf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The body arrives NUL-terminated, like body_read's. */
	char *text = malloc(size + 1);
	struct backup_lines lines;
	struct error err;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (backup_parse(text, size, MAX_VALUE, &lines, &err)) {
		for (size_t i = 0; i < lines.n; i++)
			check_record(&lines.lines[i].rec);
	} else {
		FUZZ_REQUIRE(err.code != NULL);
		FUZZ_REQUIRE((err.status == 400 && strncmp(err.message, "line ", 5) == 0) ||
			     err.status == 500);
	}
	backup_lines_free(&lines);
	free(text);
	return 0;
}

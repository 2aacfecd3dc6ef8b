/* read_body.c: the body of a read of many keys, read into the store's
 * terms
 *
 * The body is validated as a whole, then its one member, "keys", walked
 * as raw JSON text: each element a JSON string holding a keypath. */
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "keypath.h"
#include "read_body.h"
#include "record.h"

/* An object around an array of strings; deeper nesting is still JSON,
 * refused as a key that is not a string. */
#define READ_BODY_DEPTH (RECORD_DEPTH_MAX + 2)

struct parse {
	struct read_body *rb;
	struct error *err;
	char *keys_end;		/* the next free byte of rb->keys */
	size_t index;		/* of the element being read */
};

static bool count_element(const char *text, size_t len, void *arg)
{
	size_t *count = arg;

	(void)text;
	(void)len;
	return ++*count <= READ_KEYS_MAX;	/* stop once past the bound */
}

/* Decodes one key into the key buffer; decoded strings are never longer
 * than their JSON text, so the buffer, as long as the body, holds them
 * all. */
static bool parse_key(const char *text, size_t len, void *arg)
{
	struct parse *p = arg;
	struct store_read_key *rk = &p->rb->read.keys[p->index];
	size_t key_len;
	char *decoded = jsontext_string(text, len, &key_len);
	bool valid;

	if (decoded == NULL)
		return error_set(p->err, 400, "invalid_body", "keys[%zu]: each key must be a string",
				 p->index);
	valid = keypath_valid(decoded, key_len);
	if (valid) {
		memcpy(p->keys_end, decoded, key_len + 1);
		rk->key = p->keys_end;
		rk->key_len = key_len;
		p->keys_end += key_len + 1;
		p->index++;
	}
	free(decoded);
	if (!valid)
		return error_set(p->err, 400, "invalid_key", "keys[%zu]: not a valid keypath",
				 p->index);
	return true;
}

/* The "keys" member: an array of at most READ_KEYS_MAX entries. */
static bool keys_count(const struct jsontext_field *f, size_t *count, struct error *err)
{
	*count = 0;
	if (f->value == NULL)
		return error_set(err, 400, "invalid_body", "\"keys\" is required");
	if (!jsontext_elements(f->value, f->value_len, count_element, count))
		return error_set(err, 400, "invalid_body", "\"keys\" must be an array");
	if (*count > READ_KEYS_MAX)
		return error_set(err, 400, "too_many_operations", "a read names at most %d keys",
				 READ_KEYS_MAX);
	return true;
}

bool read_body_parse(struct read_body *rb, const char *body, size_t len, struct error *err)
{
	struct jsontext_field f[] = { { .name = "keys" } };
	struct parse p = { .rb = rb, .err = err };
	size_t count;

	memset(rb, 0, sizeof(*rb));
	err->code = NULL;
	if (jsontext_validate(body, len, READ_BODY_DEPTH) != JSONTEXT_OK)
		return error_set(err, 400, "invalid_json", "the body is not JSON, or nests too deep");
	if (jsontext_fields(body, len, f, 1) != JSONTEXT_FIELDS_OK)
		return error_set(err, 400, "invalid_body",
				 "the body must be an object with one member, \"keys\": [...]");
	if (!keys_count(&f[0], &count, err))
		return false;
	rb->read.keys = calloc(count + 1, sizeof(*rb->read.keys));
	rb->keys = malloc(len + 1);
	if (rb->read.keys == NULL || rb->keys == NULL)
		return error_set(err, 500, "internal", "out of memory");
	p.keys_end = rb->keys;
	jsontext_elements(f[0].value, f[0].value_len, parse_key, &p);
	if (p.index != count)	/* a refused key stops the walk short */
		return false;
	rb->read.n_keys = count;
	return true;
}

void read_body_free(struct read_body *rb)
{
	free(rb->read.keys);
	free(rb->keys);
	rb->read.keys = NULL;
	rb->keys = NULL;
	rb->read.n_keys = 0;
}

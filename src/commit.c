/* commit.c: the body of an atomic commit, read into the store's terms
 *
 * The body is validated as a whole first, then walked as raw JSON text, so
 * that a set's value is stored exactly as the client wrote it. Each check
 * and mutation is an object with known members; anything else is refused
 * with the contract's code before the store is touched. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "jsontext.h"
#include "keypath.h"
#include "record.h"
#include "util.h"

/* The fields of a check and of a mutation, in these orders. */
enum { CHECK_KEY, CHECK_VS, CHECK_FIELDS };
enum { MUT_TYPE, MUT_KEY, MUT_VALUE, MUT_TTL, MUT_FIELDS };

/* The body nests a commit object, a list and an operation around a value. */
#define COMMIT_DEPTH 3

static const struct {
	const char *name;
	enum store_op op;
} op_names[] = {
	{ "set", STORE_SET }, { "delete", STORE_DELETE }, { "sum", STORE_SUM },
	{ "min", STORE_MIN }, { "max", STORE_MAX },
};

struct parse {
	struct commit *commit;
	struct error *err;
	size_t max_value;
	int64_t now;
	char *keys_end;		/* the next free byte of commit->keys */
	const char *list;	/* "checks" or "mutations", for messages */
	size_t index;		/* of the element being read */
	size_t count;
};

static bool fail(struct parse *p, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool fail(struct parse *p, int status, const char *code, const char *fmt, ...)
{
	char *msg = p->err->message;
	size_t size = sizeof(p->err->message);
	va_list ap;
	int n;

	p->err->status = status;
	p->err->code = code;
	n = snprintf(msg, size, "%s[%zu]: ", p->list, p->index);
	if (n < 0 || (size_t)n >= size)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool fields_ok(struct parse *p, enum jsontext_fields_status status)
{
	switch (status) {
	case JSONTEXT_FIELDS_OK:
		return true;
	case JSONTEXT_FIELDS_NOT_OBJECT:
		return fail(p, 400, "invalid_body", "each entry must be a JSON object");
	case JSONTEXT_FIELDS_UNKNOWN:
		return fail(p, 400, "invalid_body", "a member this entry cannot have");
	case JSONTEXT_FIELDS_TWICE:
		break;
	}
	return fail(p, 400, "invalid_body", "a member appears twice");
}

/* Decodes a key into the commit's key buffer; decoded strings are never
 * longer than their JSON text, so the buffer, as long as the body, holds
 * them all. */
static bool read_key(struct parse *p, const struct jsontext_field *f,
		     const char **key, size_t *key_len)
{
	size_t len;
	char *decoded;

	if (f->value == NULL)
		return fail(p, 400, "invalid_body", "\"key\" is required");
	decoded = jsontext_string(f->value, f->value_len, &len);
	if (decoded == NULL)
		return fail(p, 400, "invalid_body", "\"key\" must be a string");
	if (!keypath_valid(decoded, len)) {
		free(decoded);
		return fail(p, 400, "invalid_key", "not a valid keypath");
	}
	memcpy(p->keys_end, decoded, len + 1);
	free(decoded);
	*key = p->keys_end;
	*key_len = len;
	p->keys_end += len + 1;
	return true;
}

/* A check's versionstamp: null (absent) or the 20 hex digits a write gave out. */
static bool read_versionstamp(struct parse *p, const struct jsontext_field *f,
			      struct store_check *c)
{
	/* f->value + 1 only after this: arithmetic on NULL is undefined. */
	if (f->value == NULL)
		return fail(p, 400, "invalid_body", "\"versionstamp\" is required (null for an absent key)");
	c->absent = jsontext_is_null(f->value, f->value_len);
	if (c->absent)
		return true;
	if (f->value_len != VERSIONSTAMP_LEN + 2 || f->value[0] != '"')
		goto invalid;
	switch (record_parse_vs(f->value + 1, VERSIONSTAMP_LEN, &c->versionstamp)) {
	case RECORD_VS_OK:
		return true;
	case RECORD_VS_WIDE:
		/* Never given out: a check that no key can meet. */
		c->versionstamp = 0;
		return true;
	case RECORD_VS_INVALID:
		break;
	}
invalid:
	return fail(p, 400, "invalid_body",
		    "\"versionstamp\" must be null or %d lowercase hex digits", VERSIONSTAMP_LEN);
}

static bool parse_check(const char *text, size_t len, void *arg)
{
	struct parse *p = arg;
	struct store_check *c = &p->commit->checks[p->index];
	struct jsontext_field f[CHECK_FIELDS] = {
		[CHECK_KEY] = { "key" }, [CHECK_VS] = { "versionstamp" },
	};

	if (!fields_ok(p, jsontext_fields(text, len, f, CHECK_FIELDS)) ||
	    !read_key(p, &f[CHECK_KEY], &c->key, &c->key_len) ||
	    !read_versionstamp(p, &f[CHECK_VS], c))
		return false;
	p->index++;
	return true;
}

static bool read_type(struct parse *p, const struct jsontext_field *f, enum store_op *op)
{
	for (size_t i = 0; f->value != NULL && i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		size_t n = strlen(op_names[i].name);

		if (f->value_len == n + 2 && memcmp(f->value + 1, op_names[i].name, n) == 0 &&
		    f->value[0] == '"') {
			*op = op_names[i].op;
			return true;
		}
	}
	return fail(p, 400, "invalid_body",
		    "\"type\" must be one of \"set\", \"delete\", \"sum\", \"min\", \"max\"");
}

/* The value of a mutation: any JSON for set, none for delete, a signed
 * 64-bit integer for sum, min and max. */
static bool read_value(struct parse *p, const struct jsontext_field *f, struct store_mutation *m)
{
	if (m->op == STORE_DELETE) {
		if (f->value != NULL)
			return fail(p, 400, "invalid_body", "a delete takes no \"value\"");
		return true;
	}
	if (f->value == NULL)
		return fail(p, 400, "invalid_body", "\"value\" is required");
	if (m->op == STORE_SET) {
		if (f->value_len > p->max_value)
			return fail(p, 413, "value_too_large", "the value is larger than %zu bytes",
				    p->max_value);
		m->value = f->value;
		m->value_len = f->value_len;
		return true;
	}
	if (jsontext_integer(f->value, f->value_len, &m->operand) != JSONTEXT_INTEGER)
		return fail(p, 400, "invalid_body",
			    "the value of sum, min and max must be an integer within the signed 64-bit range");
	return true;
}

static bool read_ttl(struct parse *p, const struct jsontext_field *f, struct store_mutation *m)
{
	if (m->op == STORE_DELETE && f->value != NULL)
		return fail(p, 400, "invalid_body", "a delete takes no \"ttl\"");
	if (!record_parse_ttl(f->value, f->value_len, p->now, &m->ttl_ms))
		return fail(p, 400, "invalid_ttl", RECORD_TTL_RULE);
	return true;
}

static bool parse_mutation(const char *text, size_t len, void *arg)
{
	struct parse *p = arg;
	struct store_mutation *m = &p->commit->mutations[p->index];
	struct jsontext_field f[MUT_FIELDS] = {
		[MUT_TYPE] = { "type" }, [MUT_KEY] = { "key" },
		[MUT_VALUE] = { "value" }, [MUT_TTL] = { "ttl" },
	};

	if (!fields_ok(p, jsontext_fields(text, len, f, MUT_FIELDS)) ||
	    !read_type(p, &f[MUT_TYPE], &m->op) ||
	    !read_key(p, &f[MUT_KEY], &m->key, &m->key_len) ||
	    !read_value(p, &f[MUT_VALUE], m) || !read_ttl(p, &f[MUT_TTL], m))
		return false;
	p->index++;
	return true;
}

static bool count_element(const char *text, size_t len, void *arg)
{
	size_t *count = arg;

	(void)text;
	(void)len;
	return ++*count <= COMMIT_MUTATIONS_MAX;	/* the larger bound: stop past it */
}

/* Counts a list's entries, refusing a list that is not one or too long,
 * before anything is allocated for it. */
static bool list_count(const struct jsontext_field *f, size_t max, size_t *count,
		       struct error *err)
{
	*count = 0;
	if (f->value == NULL)
		return true;
	if (!jsontext_elements(f->value, f->value_len, count_element, count))
		return error_set(err, 400, "invalid_body", "\"checks\" and \"mutations\" must be arrays");
	if (*count > max)
		return error_set(err, 400, "too_many_operations",
				 "a commit has at most %d checks and %d mutations",
				 COMMIT_CHECKS_MAX, COMMIT_MUTATIONS_MAX);
	return true;
}

/* Reads one list's entries with fn; each entry advances p->index. */
static bool read_list(struct parse *p, const char *name, const struct jsontext_field *f,
		      jsontext_element_fn fn)
{
	p->list = name;
	p->index = 0;
	if (f->value == NULL)
		return true;
	jsontext_elements(f->value, f->value_len, fn, p);
	return p->index == p->count;	/* a refused entry stops the walk short */
}

enum { BODY_CHECKS, BODY_MUTATIONS, BODY_FIELDS };

bool commit_parse(struct commit *commit, const char *body, size_t len, size_t max_value,
		  int value_depth, int64_t now, struct error *err)
{
	struct jsontext_field f[BODY_FIELDS] = {
		[BODY_CHECKS] = { "checks" }, [BODY_MUTATIONS] = { "mutations" },
	};
	struct parse p = { .commit = commit, .err = err, .max_value = max_value, .now = now };
	struct store_commit *op = &commit->op;
	size_t n_checks, n_mutations;

	memset(commit, 0, sizeof(*commit));
	err->code = NULL;
	if (jsontext_validate(body, len, value_depth + COMMIT_DEPTH) != JSONTEXT_OK)
		return error_set(err, 400, "invalid_json", "the body is not JSON, or nests too deep");
	switch (jsontext_fields(body, len, f, BODY_FIELDS)) {
	case JSONTEXT_FIELDS_OK:
		break;
	case JSONTEXT_FIELDS_NOT_OBJECT:
		return error_set(err, 400, "invalid_body",
				 "the body must be an object: {\"checks\": [...], \"mutations\": [...]}");
	default:
		return error_set(err, 400, "invalid_body",
				 "the body may hold \"checks\" and \"mutations\", each once");
	}
	if (!list_count(&f[BODY_CHECKS], COMMIT_CHECKS_MAX, &n_checks, err) ||
	    !list_count(&f[BODY_MUTATIONS], COMMIT_MUTATIONS_MAX, &n_mutations, err))
		return false;
	commit->checks = calloc(n_checks + 1, sizeof(*commit->checks));
	commit->mutations = calloc(n_mutations + 1, sizeof(*commit->mutations));
	commit->keys = malloc(len + 1);
	if (commit->checks == NULL || commit->mutations == NULL || commit->keys == NULL)
		return error_set(err, 500, "internal", "out of memory");
	p.keys_end = commit->keys;
	p.count = n_checks;
	if (!read_list(&p, "checks", &f[BODY_CHECKS], parse_check))
		return false;
	p.count = n_mutations;
	if (!read_list(&p, "mutations", &f[BODY_MUTATIONS], parse_mutation))
		return false;
	op->checks = commit->checks;
	op->n_checks = n_checks;
	op->mutations = commit->mutations;
	op->n_mutations = n_mutations;
	return true;
}

void commit_free(struct commit *commit)
{
	free(commit->checks);
	free(commit->mutations);
	free(commit->keys);
	commit->checks = NULL;
	commit->mutations = NULL;
	commit->keys = NULL;
}

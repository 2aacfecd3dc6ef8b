/* dumpline.c: one line of a dump, written and parsed */
#include <stdlib.h>
#include <string.h>

#include "dumpline.h"
#include "jsontext.h"
#include "keypath.h"
#include "record.h"
#include "util.h"

/* A value is stored as the client sent it, and whitespace between its
 * tokens may hold line breaks, which a JSON line cannot: such a value is
 * written with spaces in their place (the same JSON) and its exact text
 * goes in "valueText" too, which the parser prefers. */
void dumpline_write(struct jsonbuf *b, const struct store_admin_record *rec)
{
	bool breaks = false;
	char vs[VERSIONSTAMP_LEN + 1];
	size_t value_at;

	b->len = 0;
	jsonbuf_lit(b, "{\"key\":");
	jsonbuf_string(b, rec->key, rec->key_len);
	jsonbuf_lit(b, ",\"value\":");
	value_at = b->len;
	jsonbuf_raw(b, rec->value, rec->value_len);
	for (size_t i = value_at; i < b->len; i++) {
		if (b->data[i] == '\n' || b->data[i] == '\r') {
			b->data[i] = ' ';
			breaks = true;
		}
	}
	if (breaks) {
		jsonbuf_lit(b, ",\"valueText\":");
		jsonbuf_string(b, rec->value, rec->value_len);
	}
	jsonbuf_lit(b, ",\"expiresAt\":");
	jsonbuf_int_or_null(b, rec->expires_at);
	record_format_vs(rec->versionstamp, vs);
	jsonbuf_lit(b, ",\"versionstamp\":\"");
	jsonbuf_raw(b, vs, VERSIONSTAMP_LEN);
	jsonbuf_lit(b, "\"}\n");
}

/* The members of one line, raw text pointing into the line. */
struct line_members {
	struct jsontext_member key, value, value_text, expires_at, versionstamp;
	const char *problem;
};

static bool take_member(const struct jsontext_member *m, void *arg)
{
	struct line_members *lm = arg;
	struct { const char *name; struct jsontext_member *slot; } slots[] = {
		{ "key", &lm->key }, { "value", &lm->value }, { "valueText", &lm->value_text },
		{ "expiresAt", &lm->expires_at }, { "versionstamp", &lm->versionstamp },
	};

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (!jsontext_name_is(m, slots[i].name))
			continue;
		if (slots[i].slot->value != NULL) {
			lm->problem = "a member appears twice";
			return false;
		}
		*slots[i].slot = *m;
		return true;
	}
	lm->problem = "an unknown member (a line holds key, value, expiresAt, versionstamp)";
	return false;
}

static const char *parse_value_text(const struct jsontext_member *m, struct dumpline *out)
{
	size_t len;
	char *s = jsontext_string(m->value, m->value_len, &len);

	if (s == NULL)
		return "valueText is not a string";
	out->owned[1] = s;
	if (jsontext_validate(s, len, RECORD_DEPTH_MAX) != JSONTEXT_OK)
		return "valueText is not the text of a JSON value";
	out->rec.value = s;
	out->rec.value_len = len;
	return NULL;
}

static const char *parse_expiry(const struct jsontext_member *m, int64_t *out)
{
	uint64_t n;

	*out = 0;
	if (m->value == NULL || jsontext_is_null(m->value, m->value_len))
		return NULL;
	if (!util_parse_u64(m->value, m->value_len, &n) || n == 0 || n > (uint64_t)EXPIRES_AT_MAX)
		return "expiresAt must be null or a whole number of milliseconds";
	*out = (int64_t)n;
	return NULL;
}

static const char *parse_versionstamp(const struct jsontext_member *m, uint64_t *out)
{
	if (m->value_len != VERSIONSTAMP_LEN + 2 || m->value[0] != '"' ||
	    record_parse_vs(m->value + 1, VERSIONSTAMP_LEN, out) != RECORD_VS_OK)
		return "versionstamp must be 20 hex digits in a string";
	return NULL;
}

const char *dumpline_parse(const char *text, size_t len, size_t max_value,
			   struct dumpline *out)
{
	struct line_members lm = { .problem = NULL };
	const char *problem;
	size_t key_len;
	char *key;

	memset(out, 0, sizeof(*out));
	/* One level more than a value: the line's object holds it. */
	if (jsontext_validate(text, len, RECORD_DEPTH_MAX + 1) != JSONTEXT_OK)
		return "not JSON, or nested deeper than the service allows";
	/* take_member() stops the walk at a bad member with its problem. */
	if (!jsontext_members(text, len, take_member, &lm))
		return "not a JSON object";
	if (lm.problem != NULL)
		return lm.problem;
	if (lm.key.value == NULL || lm.value.value == NULL || lm.versionstamp.value == NULL)
		return "key, value and versionstamp are required";
	if ((key = jsontext_string(lm.key.value, lm.key.value_len, &key_len)) == NULL)
		return "the key is not a string";
	out->owned[0] = key;
	if (!keypath_valid(key, key_len))
		return "the key is not a valid keypath";
	out->rec.key = key;
	out->rec.key_len = key_len;
	out->rec.value = lm.value.value;
	out->rec.value_len = lm.value.value_len;
	if (lm.value_text.value != NULL && (problem = parse_value_text(&lm.value_text, out)) != NULL)
		return problem;
	if (out->rec.value_len > max_value)
		return "the value is larger than max_value";
	if ((problem = parse_expiry(&lm.expires_at, &out->rec.expires_at)) != NULL)
		return problem;
	return parse_versionstamp(&lm.versionstamp, &out->rec.versionstamp);
}

void dumpline_free(struct dumpline *d)
{
	free(d->owned[0]);
	free(d->owned[1]);
	d->owned[0] = d->owned[1] = NULL;
}

/* jsontext.c: strict validation of JSON text, and the raw text of members */
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "jsontext.h"
#include "util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes that may follow a number or a literal. */
static bool is_delimiter(const char *p, const char *end)
{
	return p == end || is_space(*p) || *p == ',' || *p == ']' || *p == '}' || *p == ':';
}

static bool hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int d = util_hex_value((unsigned char)p[i]);
		if (d < 0)
			return false;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return true;
}

/* Skips the string token starting at the opening quote *p. Returns the byte
 * after the closing quote, or NULL when the string breaks a lexical rule. */
static const char *lex_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		unsigned cp, low;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c >= 0x80) {
			/* json-c's own check lets overlong forms and encoded
			 * surrogates through. */
			size_t n = util_utf8_sequence((const unsigned char *)p, (size_t)(end - p));

			if (n == 0)
				return NULL;
			p += n - 1;
			continue;
		}
		if (c != '\\')
			continue;
		if (++p == end)
			return NULL;
		if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0')
			continue;
		if (*p != 'u' || !hex4(p + 1, end, &cp))
			return NULL;
		p += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return NULL;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
			    !hex4(p + 3, end, &low) || low < 0xdc00 || low > 0xdfff)
				return NULL;
			p += 6;
		}
	}
	return NULL;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *lex_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return NULL;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	return is_delimiter(p, end) ? p : NULL;
}

static const char *lex_literal(const char *p, const char *end)
{
	static const char *const literals[] = { "true", "false", "null" };

	for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		size_t n = strlen(literals[i]);

		if ((size_t)(end - p) >= n && memcmp(p, literals[i], n) == 0 &&
		    is_delimiter(p + n, end))
			return p + n;
	}
	return NULL;
}

/* Every token of the text must be a strict JSON token; json-c has already
 * checked how they fit together. Counts nesting exactly, too: json-c's
 * depth counts a scalar inside the innermost array as one more level. */
static enum jsontext_status lex_all(const char *p, const char *end, int max_depth)
{
	int depth = 0;

	while (p != NULL && p < end) {
		char c = *p;

		if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return JSONTEXT_TOO_DEEP;
			p++;
		} else if (c == ']' || c == '}') {
			depth--;
			p++;
		} else if (is_space(c) || (c == ',' || c == ':'))
			p++;
		else if (c == '"')
			p = lex_string(p, end);
		else if (c == '-' || is_digit(c))
			p = lex_number(p, end);
		else
			p = lex_literal(p, end);
	}
	return p != NULL ? JSONTEXT_OK : JSONTEXT_INVALID;
}

enum jsontext_status jsontext_validate(const char *text, size_t len, int max_depth)
{
	enum jsontext_status status = JSONTEXT_INVALID;
	/* One more level than allowed: json-c counts a scalar leaf as one;
	 * lex_all() applies the exact bound. */
	struct json_tokener *tok = json_tokener_new_ex(max_depth + 1);
	struct json_object *doc = NULL;
	enum json_tokener_error err;
	size_t end;

	if (tok == NULL)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue) {
		/* A bare number or literal at the end of the text is only
		 * complete once the parser sees the end: hand it the terminator.
		 * The whole text was consumed then. */
		doc = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	}
	if (err == json_tokener_error_depth) {
		status = JSONTEXT_TOO_DEEP;
		goto out;
	}
	if (doc == NULL && err != json_tokener_success)
		goto out;
	if (end > len)
		end = len;
	for (size_t i = end; i < len; i++)
		if (!is_space(text[i]))
			goto out;
	status = lex_all(text, text + len, max_depth);
out:
	json_object_put(doc);
	if (tok != NULL)
		json_tokener_free(tok);
	return status;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

/* Skips one value of a validated text. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (*p == '"') {
			p = lex_string(p, end);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0) {
			/* a scalar at the top: runs up to its delimiter */
			while (p < end && !is_delimiter(p, end))
				p++;
			return p;
		}
		p++;
	} while (p != NULL && p < end && depth > 0);
	return p;
}

bool jsontext_members(const char *text, size_t len, jsontext_member_fn fn, void *arg)
{
	const char *end = text + len;
	const char *p = skip_space(text, end);
	struct jsontext_member m;

	if (p == end || *p != '{')
		return false;
	p = skip_space(p + 1, end);
	while (p < end && *p == '"') {
		m.name = p + 1;
		p = lex_string(p, end);
		m.name_len = (size_t)(p - 1 - m.name);
		p = skip_space(p, end);		/* at ':' */
		p = skip_space(p + 1, end);
		m.value = p;
		p = skip_value(p, end);
		m.value_len = (size_t)(p - m.value);
		if (!fn(&m, arg))
			break;
		p = skip_space(p, end);		/* at ',' or '}' */
		if (*p == ',')
			p = skip_space(p + 1, end);
	}
	return true;
}

struct fields_walk {
	struct jsontext_field *fields;
	size_t n;
	enum jsontext_fields_status status;
};

static bool field_member(const struct jsontext_member *m, void *arg)
{
	struct fields_walk *w = arg;

	for (size_t i = 0; i < w->n; i++) {
		struct jsontext_field *f = &w->fields[i];

		if (!jsontext_name_is(m, f->name))
			continue;
		if (f->value != NULL) {
			w->status = JSONTEXT_FIELDS_TWICE;
			return false;
		}
		f->value = m->value;
		f->value_len = m->value_len;
		return true;
	}
	w->status = JSONTEXT_FIELDS_UNKNOWN;
	return false;
}

enum jsontext_fields_status jsontext_fields(const char *text, size_t len,
					    struct jsontext_field *fields, size_t n)
{
	struct fields_walk w = { fields, n, JSONTEXT_FIELDS_OK };

	for (size_t i = 0; i < n; i++) {
		fields[i].value = NULL;
		fields[i].value_len = 0;
	}
	if (!jsontext_members(text, len, field_member, &w))
		return JSONTEXT_FIELDS_NOT_OBJECT;
	return w.status;
}

bool jsontext_elements(const char *text, size_t len, jsontext_element_fn fn, void *arg)
{
	const char *end = text + len;
	const char *p = skip_space(text, end);
	const char *value;

	if (p == end || *p != '[')
		return false;
	p = skip_space(p + 1, end);
	while (p < end && *p != ']') {
		value = p;
		p = skip_value(p, end);
		if (!fn(value, (size_t)(p - value), arg))
			break;
		p = skip_space(p, end);		/* at ',' or ']' */
		if (*p == ',')
			p = skip_space(p + 1, end);
	}
	return true;
}

char *jsontext_string(const char *value, size_t len, size_t *out_len)
{
	struct json_tokener *tok = NULL;
	struct json_object *decoded = NULL;
	char *out = NULL;

	if (len < 2 || value[0] != '"')
		return NULL;
	if (memchr(value, '\\', len) == NULL) {
		/* No escapes: the text between the quotes is the string. */
		out = malloc(len - 1);
		if (out == NULL)
			return NULL;
		memcpy(out, value + 1, len - 2);
		out[len - 2] = '\0';
		*out_len = len - 2;
		return out;
	}
	tok = json_tokener_new();
	if (tok == NULL)
		goto out;
	decoded = json_tokener_parse_ex(tok, value, (int)len);
	if (decoded == NULL || !json_object_is_type(decoded, json_type_string))
		goto out;
	*out_len = (size_t)json_object_get_string_len(decoded);
	out = malloc(*out_len + 1);
	if (out != NULL)
		memcpy(out, json_object_get_string(decoded), *out_len + 1);
out:
	json_object_put(decoded);
	if (tok != NULL)
		json_tokener_free(tok);
	return out;
}

bool jsontext_name_is(const struct jsontext_member *m, const char *name)
{
	size_t n = strlen(name), len;
	char *decoded;
	bool same;

	if (memchr(m->name, '\\', m->name_len) == NULL)
		return m->name_len == n && memcmp(m->name, name, n) == 0;
	/* An escaped name ("valu\u0065"): decode the string token, quotes
	 * included. */
	decoded = jsontext_string(m->name - 1, m->name_len + 2, &len);
	same = decoded != NULL && len == n && memcmp(decoded, name, n) == 0;
	free(decoded);
	return same;
}

enum jsontext_int jsontext_integer(const char *value, size_t len, int64_t *out)
{
	const char *p = value, *end = value + len;
	bool negative = false;
	uint64_t n = 0, limit;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p < end && *p == '-') {
		negative = true;
		p++;
	}
	if (p == end)
		return JSONTEXT_NOT_INTEGER;
	/* Validated JSON: an integer is digits alone, no fraction or exponent. */
	for (const char *q = p; q < end; q++)
		if (*q < '0' || *q > '9')
			return JSONTEXT_NOT_INTEGER;
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (limit - d) / 10)
			return JSONTEXT_OUT_OF_RANGE;
		n = n * 10 + d;
	}
	*out = negative ? (int64_t)(0 - n) : (int64_t)n;
	return JSONTEXT_INTEGER;
}

bool jsontext_is_null(const char *value, size_t len)
{
	return len == 4 && memcmp(value, "null", 4) == 0;
}

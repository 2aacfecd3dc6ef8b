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

/* Bytes that stand for themselves inside a string: printable ASCII but the
 * quote and the backslash. Values are mostly such bytes, and a table lookup
 * per byte is the cheapest test for all four conditions at once. */
static const bool string_plain[256] = {
	[0x20 ... 0x21] = true,		/* '"' is 0x22 */
	[0x23 ... 0x5b] = true,		/* '\\' is 0x5c */
	[0x5d ... 0x7f] = true,
};

/* Strings in values are mostly long runs of plain bytes, and a test per
 * byte made the string scan the biggest single cost of a PUT. The word
 * tests below look at 8 bytes at a time with integer arithmetic, so that a
 * plain run costs under 2 instructions a byte rather than 6; a word with
 * any other byte sends the scan back to the byte loop, which keeps every
 * rule. */
#define WORD_BYTES 8
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static uint64_t load_word(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* The high bit of a byte is set in the result when the byte of w is a
 * control byte, '"', '\\' or beyond ASCII, so the result is 0 exactly when
 * the word is plain. Subtracting borrows into a byte's high bit exactly
 * when the byte is below the amount subtracted; a borrow that runs on into
 * the next byte only starts at a byte that is flagged anyway, so the
 * answer for the word as a whole is exact. Bytes of 0x80 and up are
 * flagged by their own high bit, which is why the usual "& ~w" mask is not
 * needed. */
static uint64_t unplain_bytes(uint64_t w)
{
	uint64_t flags = (w - ONES * 0x20) |
		((w ^ ONES * '"') - ONES) |
		((w ^ ONES * '\\') - ONES) |
		w;

	return flags & HIGHS;
}

/* The first byte at or after p that does not start a whole word of plain
 * bytes before end: p itself when fewer than a word's bytes remain. Two
 * words a round, as the loop's own bookkeeping costs about as much as a
 * word's test. */
static const char *skip_plain_words(const char *p, const char *end)
{
	while (end - p >= 2 * WORD_BYTES &&
	       (unplain_bytes(load_word(p)) | unplain_bytes(load_word(p + WORD_BYTES))) == 0)
		p += 2 * WORD_BYTES;
	while (end - p >= WORD_BYTES && unplain_bytes(load_word(p)) == 0)
		p += WORD_BYTES;
	return p;
}

/* Skips the string token starting at the opening quote *p. Returns the byte
 * after the closing quote, or NULL when the string breaks a lexical rule. */
static const char *lex_string(const char *p, const char *end)
{
	/* Where the byte loop may try whole words again: a word that held
	 * another byte is read a byte at a time to its end. */
	const char *words_from = p;

	for (p++; p < end; p++) {
		unsigned char c;
		unsigned cp, low;

		if (p >= words_from) {
			p = skip_plain_words(p, end);
			if (p == end)
				break;
			words_from = end - p > WORD_BYTES ? p + WORD_BYTES : end;
		}
		c = (unsigned char)*p;
		if (string_plain[c])
			continue;
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

/* Skips a string token of a validated text, from its opening quote. The
 * members walk skips each value that the validator has just checked, so
 * no lexical rule needs checking again: the string ends at the first
 * quote after an even run of backslashes (or none), as a backslash
 * escapes the one byte after it and the hex digits of a "u" escape are
 * never a quote or a backslash. memchr finds each quote faster than a
 * loop here would. */
static const char *skip_string(const char *p, const char *end)
{
	const char *quote, *run;

	for (p++; (quote = memchr(p, '"', (size_t)(end - p))) != NULL; p = quote + 1) {
		/* the opening quote ends the run at the latest */
		for (run = quote; run[-1] == '\\'; run--)
			;
		if ((quote - run) % 2 == 0)
			return quote + 1;
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

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

/* One pass over the text checks both the grammar and every token, with
 * no allocation: a PUT validates its whole body, and building json-c's
 * object tree only to throw it away cost more than storing the value. */
struct validator {
	const char *end;
	int depth;		/* arrays and objects open around p */
	int max_depth;
	bool too_deep;
};

static const char *check_value(struct validator *v, const char *p);

/* An array or object, from its opening bracket; nesting is bounded by
 * max_depth, so the recursion is too. */
static const char *check_container(struct validator *v, const char *p)
{
	bool object = *p == '{';
	char close = object ? '}' : ']';

	if (++v->depth > v->max_depth) {
		v->too_deep = true;
		return NULL;
	}
	p = skip_space(p + 1, v->end);
	if (p < v->end && *p == close) {
		v->depth--;
		return p + 1;
	}
	for (;;) {
		if (object) {
			if (p == v->end || *p != '"' || (p = lex_string(p, v->end)) == NULL)
				return NULL;
			p = skip_space(p, v->end);
			if (p == v->end || *p != ':')
				return NULL;
			p = skip_space(p + 1, v->end);
		}
		if ((p = check_value(v, p)) == NULL)
			return NULL;
		p = skip_space(p, v->end);
		if (p == v->end)
			return NULL;
		if (*p == close) {
			v->depth--;
			return p + 1;
		}
		if (*p != ',')
			return NULL;
		p = skip_space(p + 1, v->end);
	}
}

/* One value starting at p (no leading space); the byte after it, or NULL. */
static const char *check_value(struct validator *v, const char *p)
{
	if (p == v->end)
		return NULL;
	if (*p == '{' || *p == '[')
		return check_container(v, p);
	if (*p == '"')
		return lex_string(p, v->end);
	if (*p == '-' || is_digit(*p))
		return lex_number(p, v->end);
	return lex_literal(p, v->end);
}

enum jsontext_status jsontext_validate(const char *text, size_t len, int max_depth)
{
	struct validator v = { .end = text + len, .max_depth = max_depth };
	const char *p = check_value(&v, skip_space(text, v.end));

	if (p == NULL)
		return v.too_deep ? JSONTEXT_TOO_DEEP : JSONTEXT_INVALID;
	return skip_space(p, v.end) == v.end ? JSONTEXT_OK : JSONTEXT_INVALID;
}

/* Skips one value of a validated text. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (*p == '"') {
			p = skip_string(p, end);
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
		p = skip_string(p, end);
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

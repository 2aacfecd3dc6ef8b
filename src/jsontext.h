/* jsontext.h: strict validation of JSON text, and the raw text of members
 *
 * Values are stored as the text the client sent, so that numbers keep their
 * digits, which json-c's re-serialisation would not. The validator is
 * this module's own single pass, without allocation: the grammar, the
 * nesting depth, UTF-8, and the lexical rules of RFC 8259 that json-c's
 * parser leaves out even in strict mode (it takes NaN, Infinity, "1.",
 * single-quoted strings, raw control characters in strings and lone
 * surrogate escapes). It also finds the byte span of a member so that it
 * can be stored without a parse-and-print round trip. */
#ifndef KV_JSONTEXT_H
#define KV_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

enum jsontext_status {
	JSONTEXT_OK,
	JSONTEXT_INVALID,	/* not one strict JSON document */
	JSONTEXT_TOO_DEEP,	/* more than max_depth nested arrays/objects */
};

/* Checks that text[0..len) is exactly one JSON document, with optional
 * surrounding whitespace, nesting at most max_depth arrays and objects. */
enum jsontext_status jsontext_validate(const char *text, size_t len, int max_depth);

/* One member of an object: name is the raw text between the quotes (escapes
 * not decoded), value the raw text of the value. Both point into the text. */
struct jsontext_member {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* Calls fn for each top-level member of a validated JSON text, in order,
 * until fn returns false. Returns false when the text is not an object. */
typedef bool (*jsontext_member_fn)(const struct jsontext_member *m, void *arg);
bool jsontext_members(const char *text, size_t len, jsontext_member_fn fn, void *arg);

/* True when the member's name, escapes decoded, is the string name. */
bool jsontext_name_is(const struct jsontext_member *m, const char *name);

/* True when the raw value text is the literal null. */
bool jsontext_is_null(const char *value, size_t len);

#endif

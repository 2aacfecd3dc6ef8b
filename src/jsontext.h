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
#include <stdint.h>

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

/* The members of an object that a caller knows by name: jsontext_fields()
 * sets value and value_len of each (value stays NULL when absent). */
struct jsontext_field {
	const char *name;
	const char *value;
	size_t value_len;
};

enum jsontext_fields_status {
	JSONTEXT_FIELDS_OK,
	JSONTEXT_FIELDS_NOT_OBJECT,
	JSONTEXT_FIELDS_UNKNOWN,	/* a member whose name is not among fields */
	JSONTEXT_FIELDS_TWICE,		/* a member that appears twice */
};

/* Reads the members of a validated JSON object into fields[0..n). */
enum jsontext_fields_status jsontext_fields(const char *text, size_t len,
					    struct jsontext_field *fields, size_t n);

/* Calls fn with the raw text of each element of a validated JSON text, in
 * order, until fn returns false. Returns false when the text is not an
 * array. */
typedef bool (*jsontext_element_fn)(const char *value, size_t len, void *arg);
bool jsontext_elements(const char *text, size_t len, jsontext_element_fn fn, void *arg);

/* Decodes the raw text of a validated JSON value that is a string into a
 * new NUL-terminated buffer the caller frees, its length in *out_len.
 * NULL when the value is not a string (or out of memory). The decoded
 * string may hold NUL bytes, which *out_len counts. */
char *jsontext_string(const char *value, size_t len, size_t *out_len);

enum jsontext_int {
	JSONTEXT_INTEGER,
	JSONTEXT_NOT_INTEGER,	/* not a number written without fraction and exponent */
	JSONTEXT_OUT_OF_RANGE,	/* an integer beyond the signed 64-bit range */
};

/* Reads the raw text of a validated JSON value, surrounding whitespace
 * allowed, as a signed 64-bit integer. */
enum jsontext_int jsontext_integer(const char *value, size_t len, int64_t *out);

/* True when the member's name, escapes decoded, is the string name. */
bool jsontext_name_is(const struct jsontext_member *m, const char *name);

/* True when the raw value text is the literal null. */
bool jsontext_is_null(const char *value, size_t len);

#endif

/* connect_v8.c: the JSON subset of V8's value serialization
 *
 * The reader follows V8's ValueSerializer format (version 13 and later):
 * LEB128 varints, zigzag int32s, little-endian doubles, strings in
 * Latin-1, UTF-16LE or UTF-8, objects as key/value pairs closed by their
 * count, arrays dense (values then a count of extra properties) or
 * sparse (index/value pairs), and back-references to an object already
 * read, which JSON writes out again. The writer writes what V8 writes for
 * the same value. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect_v8.h"
#include "jsontext.h"
#include "util.h"

#define V8_VERSION_MIN 13
#define V8_VERSION_MAX 16
#define V8_VERSION 15

enum {
	TAG_PADDING = 0x00,
	TAG_VERIFY_COUNT = '?',
	TAG_NULL = '0',
	TAG_TRUE = 'T',
	TAG_FALSE = 'F',
	TAG_INT32 = 'I',
	TAG_UINT32 = 'U',
	TAG_DOUBLE = 'N',
	TAG_LATIN1 = '"',
	TAG_UTF16 = 'c',
	TAG_UTF8 = 'S',
	TAG_OBJECT = 'o',
	TAG_OBJECT_END = '{',
	TAG_DENSE = 'A',
	TAG_DENSE_END = '$',
	TAG_SPARSE = 'a',
	TAG_SPARSE_END = '@',
	TAG_HOLE = '-',
	TAG_REF = '^',
};

/* The JSON text of an object or array already read, for a back-reference:
 * its span in the output, end 0 while it is still open (a cycle). */
struct span {
	size_t start, end;
};

struct reader {
	const unsigned char *p;
	size_t len, pos;
	int depth, depth_max;
	size_t out_max;		/* the JSON text may grow this far */
	bool keep_other;	/* a value with no JSON form is read through */
	bool other;		/* and this one has none */
	uint64_t version;	/* of the serialization */
	struct jsonbuf *out;
	struct error *err;
	struct span *objects;
	size_t n_objects, cap_objects;
};

static bool bad(struct reader *r, const char *what)
{
	return error_set(r->err, 400, "invalid_value", "the V8 value %s", what);
}

/* The value has no JSON form: an error, or, when the caller keeps such
 * values, a mark, and the reader goes on to check the rest. */
static bool no_json(struct reader *r, const char *what)
{
	if (r->keep_other) {
		r->other = true;
		return true;
	}
	return error_set(r->err, 400, "invalid_value",
			 "the value holds %s, which has no JSON form; kv stores JSON values", what);
}

static bool read_varint(struct reader *r, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; r->pos < r->len; shift += 7) {
		unsigned char b = r->p[r->pos++];

		if (shift > 63 || (shift == 63 && (b & 0x7e) != 0))
			return bad(r, "has a varint beyond 64 bits");
		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return true;
	}
	return bad(r, "ends inside a varint");
}

static bool read_u32(struct reader *r, uint32_t *v)
{
	uint64_t n = 0;

	if (!read_varint(r, &n))
		return false;
	if (n > UINT32_MAX)
		return bad(r, "has a count beyond 32 bits");
	*v = (uint32_t)n;
	return true;
}

/* The next tag, past padding and object-count checks. */
static bool read_tag(struct reader *r, unsigned char *tag)
{
	uint64_t ignored = 0;

	for (;;) {
		if (r->pos == r->len)
			return bad(r, "ends where a value should be");
		*tag = r->p[r->pos++];
		if (*tag == TAG_PADDING)
			continue;
		if (*tag != TAG_VERIFY_COUNT)
			return true;
		if (!read_varint(r, &ignored))
			return false;
	}
}

static bool peek_tag(struct reader *r, unsigned char *tag)
{
	size_t at = r->pos;
	bool ok = read_tag(r, tag);

	r->pos = at;
	return ok;
}

static bool take(struct reader *r, size_t n, const unsigned char **bytes)
{
	if (n > r->len - r->pos)
		return bad(r, "ends inside a string or number");
	*bytes = r->p + r->pos;
	r->pos += n;
	return true;
}

/* A JSON number that reads back as d: whole numbers in digits, as JS
 * prints them below 10^21, else the shortest %g form that does. */
static void put_double(struct jsonbuf *out, double d)
{
	char num[32];
	int n = 0;

	if (d == floor(d) && fabs(d) < 1e21) {
		jsonbuf_raw(out, num, (size_t)snprintf(num, sizeof(num), "%.0f", d));
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(num, sizeof(num), "%.*g", prec, d);
		if (strtod(num, NULL) == d)
			break;
	}
	jsonbuf_raw(out, num, (size_t)n);
}

static void put_utf8(unsigned char *out, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (unsigned char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (unsigned char)(0xc0 | cp >> 6);
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (unsigned char)(0xe0 | cp >> 12);
		out[(*n)++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (unsigned char)(0xf0 | cp >> 18);
		out[(*n)++] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		out[(*n)++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[(*n)++] = (unsigned char)(0x80 | (cp & 0x3f));
	}
}

/* UTF-16LE code units to UTF-8; a lone surrogate has no UTF-8 form. */
static bool utf16_to_utf8(struct reader *r, const unsigned char *s, size_t units,
			  unsigned char *out, size_t *n)
{
	for (size_t i = 0; i < units; i++) {
		uint32_t cp = (uint32_t)s[2 * i] | (uint32_t)s[2 * i + 1] << 8;

		if (cp >= 0xdc00 && cp <= 0xdfff) {
			if (!no_json(r, "a lone surrogate in a string"))
				return false;
			continue;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			uint32_t lo = i + 1 < units ?
				(uint32_t)s[2 * i + 2] | (uint32_t)s[2 * i + 3] << 8 : 0;

			if (lo < 0xdc00 || lo > 0xdfff) {
				if (!no_json(r, "a lone surrogate in a string"))
					return false;
				continue;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i++;
		}
		put_utf8(out, n, cp);
	}
	return true;
}

/* A string of any of the three kinds, as a JSON string. */
static bool read_string(struct reader *r, unsigned char tag)
{
	const unsigned char *s = NULL;
	unsigned char *utf8 = NULL;
	uint32_t len = 0;
	size_t n = 0;
	bool ok = false;

	if (!read_u32(r, &len) || !take(r, len, &s))
		return false;
	if (tag == TAG_UTF16 && len % 2 != 0)
		return bad(r, "has a UTF-16 string of an odd length");
	utf8 = malloc((size_t)len * 2 + 1);
	if (utf8 == NULL)
		return error_set(r->err, 500, "internal", "out of memory");
	if (tag == TAG_LATIN1) {
		for (size_t i = 0; i < len; i++)
			put_utf8(utf8, &n, s[i]);
	} else if (tag == TAG_UTF16) {
		if (!utf16_to_utf8(r, s, len / 2, utf8, &n))
			goto out;
	} else {
		for (size_t i = 0; i < len;) {
			size_t seq = util_utf8_sequence(s + i, len - i);

			if (seq == 0) {
				bad(r, "has a string that is not UTF-8");
				goto out;
			}
			i += seq;
		}
		memcpy(utf8, s, len);
		n = len;
	}
	jsonbuf_string(r->out, (const char *)utf8, n);
	ok = true;
out:
	free(utf8);
	return ok;
}

/* A number as int32, uint32 or double: *d is its value. */
static bool read_number(struct reader *r, unsigned char tag, double *d)
{
	const unsigned char *b = NULL;
	uint64_t u = 0;
	uint32_t u32 = 0;

	if (tag == TAG_INT32) {
		if (!read_varint(r, &u))
			return false;
		if (u > UINT32_MAX)
			return bad(r, "has an int32 beyond 32 bits");
		u32 = (uint32_t)u;
		*d = (double)(int32_t)((u32 >> 1) ^ (uint32_t)-(int32_t)(u32 & 1));
		return true;
	}
	if (tag == TAG_UINT32) {
		if (!read_u32(r, &u32))
			return false;
		*d = u32;
		return true;
	}
	if (!take(r, 8, &b))
		return false;
	u = 0;
	for (int i = 7; i >= 0; i--)
		u = u << 8 | b[i];
	memcpy(d, &u, sizeof(*d));
	if (!isfinite(*d))
		return no_json(r, "NaN or Infinity");
	return true;
}

static bool is_number_tag(unsigned char tag)
{
	return tag == TAG_INT32 || tag == TAG_UINT32 || tag == TAG_DOUBLE;
}

static bool is_string_tag(unsigned char tag)
{
	return tag == TAG_LATIN1 || tag == TAG_UTF16 || tag == TAG_UTF8;
}

static bool read_value(struct reader *r);

/* Registers an object or array as it opens: back-references count them
 * in the order they open. */
static bool open_object(struct reader *r, size_t *id)
{
	if (r->n_objects == r->cap_objects) {
		size_t cap = r->cap_objects ? 2 * r->cap_objects : 8;
		struct span *s = realloc(r->objects, cap * sizeof(*s));

		if (s == NULL)
			return error_set(r->err, 500, "internal", "out of memory");
		r->objects = s;
		r->cap_objects = cap;
	}
	*id = r->n_objects++;
	r->objects[*id].start = r->out->len;
	r->objects[*id].end = 0;
	return true;
}

static void close_object(struct reader *r, size_t id)
{
	r->objects[id].end = r->out->len;
}

static bool read_ref(struct reader *r)
{
	uint32_t id = 0;
	struct span s;

	if (!read_u32(r, &id))
		return false;
	if (id >= r->n_objects)
		return bad(r, "refers to an object it does not hold");
	s = r->objects[id];
	if (s.end == 0 && !no_json(r, "a cycle"))
		return false;
	/* A value with no JSON form is kept as it came: its text is not
	 * needed. */
	if (r->other)
		return true;
	/* Each reference copies its object's text: shared objects nested
	 * in pairs would double it at each level. */
	if (r->out->len > r->out_max || s.end - s.start > r->out_max - r->out->len)
		return error_set(r->err, 413, "value_too_large",
				 "the value's JSON is more than %zu bytes", r->out_max);
	if (r->out->failed)
		return error_set(r->err, 500, "internal", "out of memory");
	/* The span may move as the buffer grows: copy it out first. */
	char *copy = malloc(s.end - s.start);
	if (copy == NULL)
		return error_set(r->err, 500, "internal", "out of memory");
	memcpy(copy, r->out->data + s.start, s.end - s.start);
	jsonbuf_raw(r->out, copy, s.end - s.start);
	free(copy);
	return true;
}

/* An object's key: a string, or a number that JS turns into one. */
static bool read_key(struct reader *r, unsigned char tag)
{
	double d = 0;

	if (is_string_tag(tag))
		return read_string(r, tag);
	if (!is_number_tag(tag))
		return bad(r, "has an object key that is neither a string nor a number");
	if (!read_number(r, tag, &d))
		return false;
	jsonbuf_raw(r->out, "\"", 1);
	put_double(r->out, d);
	jsonbuf_raw(r->out, "\"", 1);
	return true;
}

static bool read_object(struct reader *r)
{
	unsigned char tag;
	uint32_t count = 0, n = 0;
	size_t id = 0;

	if (!open_object(r, &id))
		return false;
	jsonbuf_raw(r->out, "{", 1);
	for (;;) {
		if (!read_tag(r, &tag))
			return false;
		if (tag == TAG_OBJECT_END)
			break;
		if (n > 0)
			jsonbuf_raw(r->out, ",", 1);
		if (!read_key(r, tag))
			return false;
		jsonbuf_raw(r->out, ":", 1);
		if (!read_value(r))
			return false;
		n++;
	}
	if (!read_u32(r, &count))
		return false;
	if (count != n)
		return bad(r, "has an object whose count does not match its properties");
	jsonbuf_raw(r->out, "}", 1);
	close_object(r, id);
	return true;
}

/* Properties besides an array's elements, from the first one's tag up
 * to the array's end tag: *n of them. */
static bool read_properties(struct reader *r, unsigned char tag, unsigned char end, uint32_t *n)
{
	for (*n = 0; tag != end; (*n)++) {
		if (!read_key(r, tag) || !read_value(r) || !read_tag(r, &tag))
			return false;
	}
	return true;
}

static bool read_dense(struct reader *r)
{
	unsigned char tag;
	uint32_t len = 0, props = 0, len_again = 0, extra = 0;
	size_t id = 0;

	if (!read_u32(r, &len) || !open_object(r, &id))
		return false;
	jsonbuf_raw(r->out, "[", 1);
	for (uint32_t i = 0; i < len; i++) {
		if (!peek_tag(r, &tag))
			return false;
		if (tag == TAG_HOLE) {
			if (!no_json(r, "an array with holes") || !read_tag(r, &tag))
				return false;
			continue;
		}
		if (i > 0)
			jsonbuf_raw(r->out, ",", 1);
		if (!read_value(r))
			return false;
	}
	if (!read_tag(r, &tag))
		return false;
	if (tag != TAG_DENSE_END &&
	    (!no_json(r, "an array with properties besides its elements") ||
	     !read_properties(r, tag, TAG_DENSE_END, &extra)))
		return false;
	if (!read_u32(r, &props) || !read_u32(r, &len_again))
		return false;
	if (props != extra || len_again != len)
		return bad(r, "has an array whose counts do not match");
	jsonbuf_raw(r->out, "]", 1);
	close_object(r, id);
	return true;
}

/* A sparse array is JSON only when its indices are 0 to length - 1, in
 * order, with nothing else: as V8 writes an array that was once holey. */
static bool read_sparse(struct reader *r)
{
	unsigned char tag;
	uint32_t len = 0, props = 0, len_again = 0, i = 0, pairs = 0;
	size_t id = 0;
	double index = 0;

	if (!read_u32(r, &len) || !open_object(r, &id))
		return false;
	jsonbuf_raw(r->out, "[", 1);
	for (;; pairs++) {
		if (!read_tag(r, &tag))
			return false;
		if (tag == TAG_SPARSE_END)
			break;
		if (!is_number_tag(tag)) {
			if (!no_json(r, "an array with properties besides its elements") ||
			    !read_key(r, tag) || !read_value(r))
				return false;
			continue;
		}
		if (!read_number(r, tag, &index))
			return false;
		if ((index != (double)i || i >= len) && !no_json(r, "an array with holes"))
			return false;
		if (i > 0)
			jsonbuf_raw(r->out, ",", 1);
		if (!read_value(r))
			return false;
		i++;
	}
	if (!read_u32(r, &props) || !read_u32(r, &len_again))
		return false;
	if (props != pairs || len_again != len)
		return bad(r, "has an array whose counts do not match");
	if (i != len && !no_json(r, "an array with holes"))
		return false;
	jsonbuf_raw(r->out, "]", 1);
	close_object(r, id);
	return true;
}

/* What a tag JSON cannot hold stands for, for the message. */
static const char *tag_name(unsigned char tag)
{
	switch (tag) {
	case '_': return "undefined";
	case 'Z': return "a bigint";
	case 'D': return "a Date";
	case ';': return "a Map";
	case '\'': return "a Set";
	case 'B': return "an ArrayBuffer or typed array";
	case '\\': return "a Node typed array";
	case 'R': return "a RegExp";
	case 'r': return "an Error";
	case 'y': case 'x': case 's': case 'n': case 'z': return "a boxed primitive";
	case TAG_HOLE: return "an array with holes";
	default: return NULL;
	}
}

/* A string value where V8 writes one (a String object's, a RegExp's
 * source, an Error's message): its own tag, then the string. */
static bool read_string_value(struct reader *r)
{
	unsigned char tag;

	if (!read_tag(r, &tag))
		return false;
	if (!is_string_tag(tag))
		return bad(r, "has no string where one must be");
	return read_string(r, tag);
}

/* A bigint's digits: a varint of the sign and the byte length, then
 * the bytes. */
static bool skip_bigint(struct reader *r)
{
	const unsigned char *b = NULL;
	uint64_t bits;

	return read_varint(r, &bits) && take(r, bits >> 1, &b);
}

/* Values until the end tag, then their count. */
static bool read_collection(struct reader *r, unsigned char end, uint32_t per_entry)
{
	unsigned char tag;
	uint32_t n = 0, count = 0;

	for (;;) {
		if (!peek_tag(r, &tag))
			return false;
		if (tag == end)
			break;
		if (!read_value(r))
			return false;
		n++;
	}
	if (!read_tag(r, &tag) || !read_u32(r, &count))
		return false;
	if (count != n || n % per_entry != 0)
		return bad(r, "has a Map or Set whose count does not match");
	return true;
}

/* An ArrayBuffer, and the typed array or DataView over it when one
 * follows: each takes an object id, the buffer first. */
static bool read_buffer(struct reader *r)
{
	const unsigned char *b = NULL;
	uint32_t len = 0, offset = 0, view_len = 0, flags = 0;
	unsigned char subtag;
	size_t id;

	if (!open_object(r, &id) || !read_u32(r, &len) || !take(r, len, &b))
		return false;
	if (r->pos == r->len || r->p[r->pos] != 'V')
		return true;
	r->pos++;
	if (!open_object(r, &id) || !take(r, 1, &b))
		return false;
	subtag = b[0];
	if (!read_u32(r, &offset) || !read_u32(r, &view_len) ||
	    (r->version >= 14 && !read_u32(r, &flags)))
		return false;
	if (subtag == '\0' || strchr("bBCwWdDhfFqQ?", subtag) == NULL)
		return bad(r, "has a view of an unknown kind");
	if (offset > len || view_len > len - offset)
		return bad(r, "has a view beyond its buffer");
	return true;
}

/* An Error: its prototype, message, stack and cause, each tagged, up to
 * the end tag. */
static bool read_error(struct reader *r)
{
	const unsigned char *b = NULL;
	size_t id;

	if (!open_object(r, &id))
		return false;
	for (;;) {
		if (!take(r, 1, &b))
			return false;
		switch (b[0]) {
		case 'E': case 'R': case 'F': case 'S': case 'T': case 'U':
			break;
		case 'm': case 's':
			if (!read_string_value(r))
				return false;
			break;
		case 'c':
			if (!read_value(r))
				return false;
			break;
		case '.':
			return true;
		default:
			return bad(r, "has an Error with an unknown part");
		}
	}
}

/* A host object, which V8 leaves to the program that serializes: Node's
 * v8.serialize writes its typed arrays and Buffers so (the type's index
 * among Node's views, from Int8Array to BigUint64Array, with 10 for a
 * Buffer, the byte length, the bytes). Only Node reads them back. */
static bool read_node_view(struct reader *r)
{
	const unsigned char *b = NULL;
	uint32_t type = 0, len = 0;
	size_t id;

	if (!open_object(r, &id) || !read_u32(r, &type) || !read_u32(r, &len))
		return false;
	if (type > 12)
		return bad(r, "has a host object that is no Node typed array");
	return take(r, len, &b);
}

/* What V8 writes for a value with no JSON form: read through, each
 * object taking its id for back-references, as V8 numbers them. */
static bool read_other(struct reader *r, unsigned char tag)
{
	const unsigned char *b = NULL;
	uint64_t flags;
	size_t id;

	if (!no_json(r, tag_name(tag)))
		return false;
	switch (tag) {
	case '_':
		return true;
	case 'Z':
		return skip_bigint(r);
	case 'D': case 'n':
		return open_object(r, &id) && take(r, 8, &b);
	case 'z':
		return open_object(r, &id) && skip_bigint(r);
	case 'y': case 'x':
		return open_object(r, &id);
	case 's':
		return open_object(r, &id) && read_string_value(r);
	case 'R':
		return open_object(r, &id) && read_string_value(r) && read_varint(r, &flags);
	case ';':
		return open_object(r, &id) && read_collection(r, ':', 2);
	case '\'':
		return open_object(r, &id) && read_collection(r, ',', 1);
	case 'B':
		return read_buffer(r);
	case 'r':
		return read_error(r);
	case '\\':
		return read_node_view(r);
	default:
		return bad(r, "has a kind of value this service does not read");
	}
}

static bool read_value(struct reader *r)
{
	unsigned char tag = 0;
	double d = 0;
	bool ok;

	if (!read_tag(r, &tag))
		return false;
	switch (tag) {
	case TAG_NULL:
		jsonbuf_lit(r->out, "null");
		return true;
	case TAG_TRUE:
		jsonbuf_lit(r->out, "true");
		return true;
	case TAG_FALSE:
		jsonbuf_lit(r->out, "false");
		return true;
	case TAG_INT32: case TAG_UINT32: case TAG_DOUBLE:
		if (!read_number(r, tag, &d))
			return false;
		put_double(r->out, d);
		return true;
	case TAG_LATIN1: case TAG_UTF16: case TAG_UTF8:
		return read_string(r, tag);
	case TAG_REF:
		return read_ref(r);
	case TAG_OBJECT: case TAG_DENSE: case TAG_SPARSE:
		break;
	default:
		if (tag_name(tag) != NULL)
			return read_other(r, tag);
		return bad(r, "has an unknown tag");
	}
	if (++r->depth > r->depth_max)
		return error_set(r->err, 400, "invalid_value",
				 "the value nests more than %d arrays or objects deep", r->depth_max);
	ok = tag == TAG_OBJECT ? read_object(r) : tag == TAG_DENSE ? read_dense(r) : read_sparse(r);
	r->depth--;
	return ok;
}

bool connect_v8_read(const unsigned char *v8, size_t len, const struct connect_v8_limits *lim,
		     struct jsonbuf *out, bool *json, struct error *err)
{
	struct reader r = {
		.p = v8, .len = len, .depth_max = lim->depth_max, .out_max = lim->json_max,
		.keep_other = json != NULL, .out = out, .err = err,
	};
	bool ok = false;

	err->status = 0;
	if (len < 2 || v8[0] != 0xff) {
		bad(&r, "has no header");
		goto out;
	}
	r.pos = 1;
	if (!read_varint(&r, &r.version))
		goto out;
	if (r.version < V8_VERSION_MIN || r.version > V8_VERSION_MAX) {
		error_set(err, 400, "invalid_value", "the V8 value is of serialization version %llu, which this service does not read", (unsigned long long)r.version);
		goto out;
	}
	if (!read_value(&r))
		goto out;
	if (r.pos != r.len) {
		bad(&r, "has bytes after its value");
		goto out;
	}
	if (out->failed) {
		error_set(err, 500, "internal", "out of memory");
		goto out;
	}
	if (!r.other && out->len > lim->json_max) {
		error_set(err, 413, "value_too_large", "the value's JSON is more than %zu bytes",
			  lim->json_max);
		goto out;
	}
	if (json != NULL)
		*json = !r.other;
	ok = true;
out:
	free(r.objects);
	return ok;
}

/* ---- JSON to V8 ---- */

static void put_varint(struct jsonbuf *out, uint64_t v)
{
	char b[10];
	size_t n = 0;

	do {
		b[n] = (char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[n] |= (char)0x80;
		n++;
	} while (v != 0);
	jsonbuf_raw(out, b, n);
}

static void put_tag(struct jsonbuf *out, char tag)
{
	jsonbuf_raw(out, &tag, 1);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

/* Decodes one UTF-8 sequence of valid text. */
static uint32_t utf8_decode(const unsigned char *s, size_t *n)
{
	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*n = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0) {
		*n = 3;
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

static void put_unit(struct jsonbuf *out, uint32_t unit)
{
	char b[2] = { (char)(unit & 0xff), (char)(unit >> 8) };

	jsonbuf_raw(out, b, 2);
}

/* A string as V8 writes it: Latin-1 when every character fits, else
 * UTF-16LE, its bytes aligned to two from the start of the data. */
static void write_string(struct jsonbuf *out, const unsigned char *s, size_t len)
{
	size_t units = 0, n;
	bool latin1 = true;

	for (size_t i = 0; i < len; i += n) {
		uint32_t cp = utf8_decode(s + i, &n);

		latin1 &= cp <= 0xff;
		units += cp >= 0x10000 ? 2 : 1;
	}
	if (latin1) {
		put_tag(out, TAG_LATIN1);
		put_varint(out, units);
		for (size_t i = 0; i < len; i += n) {
			char c = (char)utf8_decode(s + i, &n);

			jsonbuf_raw(out, &c, 1);
		}
		return;
	}
	if ((out->len + 1 + varint_len(2 * units)) % 2 != 0)
		put_tag(out, TAG_PADDING);
	put_tag(out, TAG_UTF16);
	put_varint(out, 2 * units);
	for (size_t i = 0; i < len; i += n) {
		uint32_t cp = utf8_decode(s + i, &n);

		if (cp >= 0x10000) {
			put_unit(out, 0xd800 + ((cp - 0x10000) >> 10));
			put_unit(out, 0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else {
			put_unit(out, cp);
		}
	}
}

static bool write_json_string(struct jsonbuf *out, const char *raw, size_t len)
{
	size_t n;
	char *s = jsontext_string(raw, len, &n);

	if (s == NULL)
		return false;
	write_string(out, (const unsigned char *)s, n);
	free(s);
	return true;
}

static bool write_number(struct jsonbuf *out, const char *raw, size_t len)
{
	char text[64], *end;
	double d;

	/* Longer numbers are copied: strtod wants a terminator. */
	char *copy = len < sizeof(text) ? text : malloc(len + 1);
	if (copy == NULL)
		return false;
	memcpy(copy, raw, len);
	copy[len] = '\0';
	d = strtod(copy, &end);
	if (copy != text)
		free(copy);
	/* Within int32 and whole (not -0): what V8 keeps as a small integer. */
	if (fabs(d) < 2147483648.0 && d == floor(d) && !(d == 0 && signbit(d))) {
		int32_t i = (int32_t)d;

		put_tag(out, TAG_INT32);
		put_varint(out, (uint32_t)i << 1 ^ (uint32_t)(i >> 31));
		return true;
	}
	uint64_t u;
	char b[8];

	memcpy(&u, &d, sizeof(u));
	for (int i = 0; i < 8; i++, u >>= 8)
		b[i] = (char)(u & 0xff);
	put_tag(out, TAG_DOUBLE);
	jsonbuf_raw(out, b, 8);
	return true;
}

static bool write_value(struct jsonbuf *out, const char *raw, size_t len);

struct walk {
	struct jsonbuf *out;
	uint32_t count;
	bool ok;
};

static bool count_element(const char *value, size_t len, void *arg)
{
	((struct walk *)arg)->count++;
	return true;
}

static bool write_element(const char *value, size_t len, void *arg)
{
	struct walk *w = arg;

	w->ok = write_value(w->out, value, len);
	return w->ok;
}

static bool write_member(const struct jsontext_member *m, void *arg)
{
	struct walk *w = arg;

	/* The name's quotes lie just around it in the text. */
	w->ok = write_json_string(w->out, m->name - 1, m->name_len + 2) &&
		write_value(w->out, m->value, m->value_len);
	w->count++;
	return w->ok;
}

static bool write_value(struct jsonbuf *out, const char *raw, size_t len)
{
	struct walk w = { .out = out, .ok = true };

	while (len > 0 && (*raw == ' ' || *raw == '\t' || *raw == '\n' || *raw == '\r')) {
		raw++;
		len--;
	}
	if (len == 0)
		return false;
	switch (*raw) {
	case 'n':
		put_tag(out, TAG_NULL);
		return true;
	case 't':
		put_tag(out, TAG_TRUE);
		return true;
	case 'f':
		put_tag(out, TAG_FALSE);
		return true;
	case '"':
		return write_json_string(out, raw, len);
	case '[':
		jsontext_elements(raw, len, count_element, &w);
		put_tag(out, TAG_DENSE);
		put_varint(out, w.count);
		if (!jsontext_elements(raw, len, write_element, &w) || !w.ok)
			return false;
		put_tag(out, TAG_DENSE_END);
		put_varint(out, 0);
		put_varint(out, w.count);
		return true;
	case '{':
		put_tag(out, TAG_OBJECT);
		if (!jsontext_members(raw, len, write_member, &w) || !w.ok)
			return false;
		put_tag(out, TAG_OBJECT_END);
		put_varint(out, w.count);
		return true;
	default:
		return write_number(out, raw, len);
	}
}

bool connect_v8_from_json(const char *json, size_t len, struct jsonbuf *out)
{
	static const char header[] = { (char)0xff, V8_VERSION };

	jsonbuf_raw(out, header, sizeof(header));
	return write_value(out, json, len) && !out->failed;
}

/* body.c: a request's body: read within its bound, and a PUT's fields */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "jsontext.h"
#include "record.h"
#include "util.h"

static bool too_large(size_t max_body, struct error *err)
{
	return error_set(err, 413, "body_too_large", "the request body is larger than %lu bytes",
			 (unsigned long)max_body);
}

void body_discard(struct io *io)
{
	char buf[4096];
	size_t total = 0, got;

	if (io->fcgi != NULL)
		return;
	while (total < BODY_DISCARD_MAX && (got = io_read(io, buf, sizeof(buf))) > 0)
		total += got;
}

bool body_read(struct request *req, size_t max_body, struct error *err)
{
	const char *cl = io_param(req->io, IO_CONTENT_LENGTH);
	bool sized = cl != NULL && *cl != '\0';
	uint64_t len = 0;

	if (sized && !util_parse_u64(cl, strlen(cl), &len))
		return error_set(err, 400, "invalid_body", "bad Content-Length");
	/* Without a length (Apache's mod_cgi and mod_cgid pass a chunked body
	 * on stdin as it comes), the body is what arrives before end of file,
	 * read up to one byte past the limit to tell a body that is too large. */
	if (!sized)
		len = (uint64_t)max_body + 1;
	else if (len > max_body) {
		body_discard(req->io);
		return too_large(max_body, err);
	}
	req->body = malloc((size_t)len + 1);
	if (req->body == NULL)
		return error_set(err, 500, "internal", "out of memory");
	req->body_len = io_read(req->io, req->body, (size_t)len);
	req->body[req->body_len] = '\0';
	if (!sized && req->body_len > max_body)
		return too_large(max_body, err);
	if (sized && req->body_len != len)
		return error_set(err, 400, "invalid_body", "the body ended before Content-Length bytes");
	return true;
}

/* The fields of a PUT body, in this order. */
enum { PUT_VALUE, PUT_TTL, PUT_FIELDS };

static bool put_fields_ok(enum jsontext_fields_status status, const struct jsontext_field *value,
			  struct error *err)
{
	switch (status) {
	case JSONTEXT_FIELDS_NOT_OBJECT:
		return error_set(err, 400, "invalid_body",
				 "the body must be a JSON object: {\"value\": ..., \"ttl\": ms}");
	case JSONTEXT_FIELDS_UNKNOWN:
		return error_set(err, 400, "invalid_body", "the body may hold only \"value\" and \"ttl\"");
	case JSONTEXT_FIELDS_TWICE:
		return error_set(err, 400, "invalid_body", "a member appears twice in the body");
	case JSONTEXT_FIELDS_OK:
		break;
	}
	if (value->value == NULL)
		return error_set(err, 400, "invalid_body", "the body has no \"value\"");
	return true;
}

bool body_parse_put(const char *text, size_t len, size_t max_value, int64_t now,
		    struct store_put *put, struct error *err)
{
	struct jsontext_field f[PUT_FIELDS] = { [PUT_VALUE] = { "value" }, [PUT_TTL] = { "ttl" } };

	if (jsontext_validate(text, len, RECORD_DEPTH_MAX + 1) != JSONTEXT_OK)
		return error_set(err, 400, "invalid_json", "the body is not JSON, or nests deeper than %d",
				 RECORD_DEPTH_MAX);
	if (!put_fields_ok(jsontext_fields(text, len, f, PUT_FIELDS), &f[PUT_VALUE], err))
		return false;
	if (!record_parse_ttl(f[PUT_TTL].value, f[PUT_TTL].value_len, now, &put->ttl_ms))
		return error_set(err, 400, "invalid_ttl", RECORD_TTL_RULE);
	if (f[PUT_VALUE].value_len > max_value)
		return error_set(err, 413, "value_too_large", "the value is larger than %lu bytes",
				 (unsigned long)max_value);
	put->value = f[PUT_VALUE].value;
	put->value_len = f[PUT_VALUE].value_len;
	return true;
}

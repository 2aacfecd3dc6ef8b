/* reply.c: the only writer of responses: status, headers and JSON bodies */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "util.h"

/* Status lines and headers of our own fit easily; extra headers are ours. */
#define HEADER_MAX 1024

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void reply_send(const struct request *req, int status, const char *extra_headers,
		const char *body, size_t len)
{
	char head[HEADER_MAX];
	int n;

	/* A 304 has no body and no length of its own. */
	if (status == 304)
		n = snprintf(head, sizeof(head),
			     "Status: 304 Not Modified\r\nCache-Control: no-store\r\n%s%s\r\n",
			     req->common_headers, extra_headers != NULL ? extra_headers : "");
	else
		n = snprintf(head, sizeof(head),
			     "Status: %d %s\r\n"
			     "Content-Type: application/json; charset=utf-8\r\n"
			     "Cache-Control: no-store\r\n"
			     "Content-Length: %lu\r\n"
			     "%s%s\r\n",
			     status, reason(status), (unsigned long)len,
			     req->common_headers, extra_headers != NULL ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		util_log("response headers too long");
		return;
	}
	if (!io_write(req->io, head, (size_t)n))
		return;
	if (!req->head && status != 304)
		io_write(req->io, body, len);
}

void reply_json(const struct request *req, int status, const char *extra_headers,
		struct json_object *obj)
{
	const char *text;
	size_t len;

	if (obj == NULL) {
		static const char oom[] =
			"{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":\"out of memory\"}}";

		util_log("out of memory building a response");
		reply_send(req, 500, NULL, oom, sizeof(oom) - 1);
		return;
	}
	text = json_object_to_json_string_length(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	reply_send(req, status, extra_headers, text, len);
	json_object_put(obj);
}

void reply_error(const struct request *req, int status, const char *code,
		 const char *extra_headers, const char *fmt, ...)
{
	struct json_object *body = json_object_new_object();
	struct json_object *err = json_object_new_object();
	char message[4096];	/* room for a quoted keypath */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (body == NULL || err == NULL) {
		json_object_put(body);
		json_object_put(err);
		reply_json(req, status, extra_headers, NULL);
		return;
	}
	json_object_object_add(err, "status", json_object_new_int(status));
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(body, "error", err);
	reply_json(req, status, extra_headers, body);
}

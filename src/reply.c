/* reply.c: the only writer of responses: status, headers and JSON bodies */
#include <stdarg.h>
#include <stdint.h>
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
	char id[REQUEST_ID_MAX + 32] = "";
	int n;

	if (req->id[0] != '\0')
		snprintf(id, sizeof(id), "X-Request-Id: %s\r\n", req->id);
	/* A 304 has no body and no length of its own. */
	if (status == 304)
		n = snprintf(head, sizeof(head),
			     "Status: 304 Not Modified\r\nCache-Control: no-store\r\n%s%s%s\r\n",
			     req->common_headers, id, extra_headers != NULL ? extra_headers : "");
	else
		n = snprintf(head, sizeof(head),
			     "Status: %d %s\r\n"
			     "Content-Type: application/json; charset=utf-8\r\n"
			     "Cache-Control: no-store\r\n"
			     "Content-Length: %lu\r\n"
			     "%s%s%s\r\n",
			     status, reason(status), (unsigned long)len,
			     req->common_headers, id, extra_headers != NULL ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		util_log("id=%s response headers too long", req->id);
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

		util_log("id=%s out of memory building a response", req->id);
		reply_send(req, 500, NULL, oom, sizeof(oom) - 1);
		return;
	}
	text = json_object_to_json_string_length(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	reply_send(req, status, extra_headers, text, len);
	json_object_put(obj);
}

/* Copies src (n bytes at most) to dst with every control byte turned into
 * '?', so that what a client sent cannot forge or split a log line. */
static void printable(char *dst, size_t size, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < size && i < n && src[i] != '\0'; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

/* One line per failed request in the web server's error log, with the id
 * the client got in X-Request-Id. The path goes without its query string
 * and no header but the id is written: a token never reaches the log. */
static void log_failure(const struct request *req, int status, const char *code,
			const char *message)
{
	const char *method = req->io != NULL ? io_param(req->io, IO_REQUEST_METHOD) : NULL;
	const char *uri = req->io != NULL ? io_param(req->io, IO_REQUEST_URI) : NULL;
	char m[16], path[256], text[512];

	printable(m, sizeof(m), method != NULL ? method : "-", SIZE_MAX);
	printable(path, sizeof(path), uri != NULL ? uri : "-", uri != NULL ? strcspn(uri, "?") : 1);
	printable(text, sizeof(text), message, SIZE_MAX);
	util_log("id=%s %d %s: %s %s: %s", req->id, status, code, m, path, text);
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
	log_failure(req, status, code, message);
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

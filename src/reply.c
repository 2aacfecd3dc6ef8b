/* reply.c: the only writer of responses: status, headers and JSON bodies */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "reply.h"
#include "util.h"

/* Status lines and headers of our own fit easily; extra headers are ours. */
#define HEADER_MAX 1024

#define JSON_TYPE "application/json; charset=utf-8"

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
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* The header block of a response, built by appending rather than
 * formatted: it is written for every request. */
struct head {
	char text[HEADER_MAX];
	size_t len;
	bool over;		/* something did not fit */
};

static void head_add(struct head *h, const char *s, size_t n)
{
	if (h->over || n > sizeof(h->text) - h->len) {
		h->over = true;
		return;
	}
	memcpy(h->text + h->len, s, n);
	h->len += n;
}

static void head_str(struct head *h, const char *s)
{
	head_add(h, s, strlen(s));
}

static void head_uint(struct head *h, unsigned long v)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	head_add(h, digits + i, sizeof(digits) - i);
}

/* The header block of every response but a 304: the status line, the
 * content type, the length when known (a stream has none, and the web
 * server ends it), and the headers common to every reply. */
static void head_build(struct head *h, const struct request *req, int status,
		       const char *content_type, const size_t *len, const char *extra_headers)
{
	h->len = 0;
	h->over = false;
	/* A 304 has no body and no length of its own. */
	if (status == 304) {
		head_str(h, "Status: 304 Not Modified\r\nCache-Control: no-store\r\n");
	} else {
		head_str(h, "Status: ");
		head_uint(h, (unsigned long)status);
		head_str(h, " ");
		head_str(h, reason(status));
		head_str(h, "\r\nContent-Type: ");
		head_str(h, content_type);
		head_str(h, "\r\nCache-Control: no-store\r\n");
		if (len != NULL) {
			head_str(h, "Content-Length: ");
			head_uint(h, (unsigned long)*len);
			head_str(h, "\r\n");
		}
	}
	head_str(h, req->common_headers);
	if (req->id[0] != '\0') {
		head_str(h, "X-Request-Id: ");
		head_str(h, req->id);
		head_str(h, "\r\n");
	}
	if (extra_headers != NULL)
		head_str(h, extra_headers);
	head_str(h, "\r\n");
}

static bool head_send(const struct request *req, const struct head *h)
{
	if (h->over) {
		util_log("id=%s response headers too long", req->id);
		return false;
	}
	return io_write(req->io, h->text, h->len);
}

static void send_whole(const struct request *req, int status, const char *content_type,
		       const char *extra_headers, const char *body, size_t len)
{
	struct head h;

	head_build(&h, req, status, content_type, &len, extra_headers);
	if (!head_send(req, &h))
		return;
	if (!req->head && status != 304)
		io_write(req->io, body, len);
}

void reply_send(const struct request *req, int status, const char *extra_headers,
		const char *body, size_t len)
{
	send_whole(req, status, JSON_TYPE, extra_headers, body, len);
}

void reply_send_typed(const struct request *req, int status, const char *content_type,
		      const char *body, size_t len)
{
	send_whole(req, status, content_type, NULL, body, len);
}

bool reply_stream_begin(const struct request *req, int status, const char *content_type,
			const char *extra_headers)
{
	struct head h;

	head_build(&h, req, status, content_type, NULL, extra_headers);
	return head_send(req, &h);
}

bool reply_stream_write(const struct request *req, const char *data, size_t len)
{
	if (req->head)
		return true;
	return io_write(req->io, data, len);
}

bool reply_stream_flush(const struct request *req)
{
	return io_flush(req->io);
}

void reply_out_of_memory(const struct request *req)
{
	static const char oom[] =
		"{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":\"out of memory\"}}";

	util_log("id=%s out of memory building a response", req->id);
	reply_send(req, 500, NULL, oom, sizeof(oom) - 1);
}

void reply_body(const struct request *req, int status, const char *extra_headers,
		const struct jsonbuf *body)
{
	if (body->failed)
		reply_out_of_memory(req);
	else
		reply_send(req, status, extra_headers, body->data, body->len);
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

void reply_error_send(const struct request *req, const struct error *err,
		      const char *extra_headers)
{
	struct jsonbuf body;

	log_failure(req, err->status, err->code, err->message);
	render_error(&body, err);
	reply_body(req, err->status, extra_headers, &body);
	jsonbuf_free(&body);
}

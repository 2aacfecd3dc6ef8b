/* reply.h: the only writer of responses: status, headers and JSON bodies
 *
 * Every response carries Content-Type: application/json; charset=utf-8
 * and Cache-Control: no-store; a HEAD request gets the headers alone.
 * extra_headers, where taken, is NULL or complete "Name: value\r\n" lines. */
#ifndef KV_REPLY_H
#define KV_REPLY_H

#include <stddef.h>

#include <json.h>

#include "request.h"

/* Sends body (len bytes of JSON text) as the response. */
void reply_send(const struct request *req, int status, const char *extra_headers,
		const char *body, size_t len);

/* Sends obj serialised; takes ownership of obj and releases it. */
void reply_json(const struct request *req, int status, const char *extra_headers,
		struct json_object *obj);

/* Sends the contract's error body {"error": {"status", "code", "message"}}.
 * The message is for people: never a path or a library's words. */
void reply_error(const struct request *req, int status, const char *code,
		 const char *extra_headers, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif

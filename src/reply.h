/* reply.h: the only writer of responses: status, headers and JSON bodies
 *
 * Every response carries Content-Type: application/json; charset=utf-8
 * (a stream its own) and Cache-Control: no-store; a HEAD request gets the headers alone.
 * extra_headers, where taken, is NULL or complete "Name: value\r\n" lines.
 * Bodies are written by render.h into a jsonbuf. */
#ifndef KV_REPLY_H
#define KV_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "jsonbuf.h"
#include "request.h"

/* Sends body (len bytes of JSON text) as the response. */
void reply_send(const struct request *req, int status, const char *extra_headers,
		const char *body, size_t len);

/* Sends len bytes of another type (KV Connect's protobuf and its exact
 * application/json), with no extra header. */
void reply_send_typed(const struct request *req, int status, const char *content_type,
		      const char *body, size_t len);

/* Sends the text written into body; when writing it ran out of memory
 * (body->failed) sends reply_out_of_memory() instead. */
void reply_body(const struct request *req, int status, const char *extra_headers,
		const struct jsonbuf *body);

/* A response whose body is written as it is made, in pieces, with no
 * Content-Length: the web server frames it (chunked, or by closing the
 * connection) and a HEAD request gets the headers alone. Begin sends the
 * status and headers with content_type; nothing else may be sent for the
 * request after that but its pieces. Both return false when the
 * connection to the web server failed (the client went away). */
bool reply_stream_begin(const struct request *req, int status, const char *content_type,
			const char *extra_headers);
bool reply_stream_write(const struct request *req, const char *data, size_t len);

/* Sends what a stream has written so far to the client now. */
bool reply_stream_flush(const struct request *req);

/* Sends 500 internal "out of memory", from a body that needs no memory,
 * and logs it. */
void reply_out_of_memory(const struct request *req);

/* Sends a client's error as the contract's body {"error": {"status",
 * "code", "message"}} with err's status, and logs it with the request's
 * id, method and path. */
void reply_error_send(const struct request *req, const struct error *err,
		      const char *extra_headers);

#endif

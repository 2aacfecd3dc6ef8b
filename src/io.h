/* io.h: one request's connection to the web server, FastCGI or plain CGI
 *
 * libfcgi's request API (fcgiapp) cannot serve plain CGI: FCGX_Accept_r
 * fails when fd 0 is not a socket. The same handlers serve both through
 * this small interface: FastCGI streams and params, or stdin, stdout and
 * the process environment. */
#ifndef KV_IO_H
#define KV_IO_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>

/* The request variables kvd reads, all found in one pass by io_begin()
 * rather than by FCGX_GetParam, which scans every parameter on each call. */
enum io_param_id {
	IO_REQUEST_METHOD,
	IO_REQUEST_URI,
	IO_SCRIPT_NAME,
	IO_PATH_INFO,
	IO_QUERY_STRING,
	IO_CONTENT_LENGTH,
	IO_REMOTE_ADDR,
	IO_HTTP_AUTHORIZATION,
	IO_HTTP_IF_MATCH,
	IO_HTTP_IF_NONE_MATCH,
	IO_HTTP_X_REQUEST_ID,
	IO_HTTP_ACCEPT,
	IO_HTTP_LAST_EVENT_ID,
	IO_HTTP_KV_COMMIT_TOKEN,
	IO_HTTP_KV_CONSISTENT,
	IO_PARAM_COUNT
};

/* The longest name kvd reads, which bounds the chains below: a longer
 * one in io.c's table is a compile error (an array of negative size). */
#define IO_NAME_MAX 31

/* The names of enum io_param_id chained by their length (io.c says why),
 * built once by io_init(), -1 ending a chain. */
struct io_names {
	signed char first[IO_NAME_MAX + 1];	/* by length */
	signed char next[IO_PARAM_COUNT];
};

struct io {
	FCGX_Request *fcgi;	/* NULL under plain CGI */
	struct io_names names;
	/* Filled by io_begin(): the value of each variable, NULL when the
	 * request has none. They point into the web server's parameters (or
	 * the process environment) and are valid until the request is
	 * finished. */
	const char *param[IO_PARAM_COUNT];
	size_t body_read;	/* body bytes io_read() returned so far */
};

/* Sets up io for the process's requests; fcgi is NULL under plain CGI. */
void io_init(struct io *io, FCGX_Request *fcgi);

/* Reads the request variables of a request just accepted (or of the
 * process, under plain CGI). Call it before any io_param(). */
void io_begin(struct io *io);

/* A request variable, or NULL: the one io_begin() found. */
const char *io_param(const struct io *io, enum io_param_id which);

/* Reads up to n body bytes, looping over short reads; returns how many
 * arrived (fewer means the body ended early). */
size_t io_read(struct io *io, char *buf, size_t n);

/* Writes n bytes of the response. Returns false on a write error. */
bool io_write(struct io *io, const char *buf, size_t n);

/* Sends what the response has so far on its way. False on a write error. */
bool io_flush(struct io *io);

/* Reads the rest of the request body, to its end or max bytes, and drops
 * it: a request kept open after its handler (a waiting feed) then has
 * nothing left to read, so that input on its connection means the web
 * server gave up on it. */
void io_drain(struct io *io, size_t max);

/* Whether the web server has sent the whole FastCGI request and all of it
 * was read, so that its connection may close at once: nothing more can
 * arrive on it. Once the body the request declared (none without a
 * Content-Length) was read whole, the record that ends the input is next,
 * and this reads it; a request with input left unread is not ended.
 * True under plain CGI, which has no connection of its own. */
bool io_input_ended(struct io *io);

#endif

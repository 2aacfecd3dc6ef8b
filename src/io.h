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

struct io {
	FCGX_Request *fcgi;	/* NULL under plain CGI */
};

/* A request variable (REQUEST_URI, HTTP_IF_MATCH...), or NULL. The
 * pointer is valid until the request is finished. */
const char *io_param(const struct io *io, const char *name);

/* Reads up to n body bytes, looping over short reads; returns how many
 * arrived (fewer means the body ended early). */
size_t io_read(struct io *io, char *buf, size_t n);

/* Writes n bytes of the response. Returns false on a write error. */
bool io_write(struct io *io, const char *buf, size_t n);

#endif

/* io.c: one request's connection to the web server, FastCGI or plain CGI */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "util.h"

/* The names of enum io_param_id, with their lengths. */
struct param_name {
	const char *text;
	size_t len;
};

#define PARAM_NAME(id, text) [id] = { \
	text, sizeof(text) - 1 + 0 * sizeof(char[sizeof(text) <= IO_NAME_MAX + 1 ? 1 : -1]) }

static const struct param_name param_names[IO_PARAM_COUNT] = {
	PARAM_NAME(IO_REQUEST_METHOD, "REQUEST_METHOD"),
	PARAM_NAME(IO_REQUEST_URI, "REQUEST_URI"),
	PARAM_NAME(IO_SCRIPT_NAME, "SCRIPT_NAME"),
	PARAM_NAME(IO_PATH_INFO, "PATH_INFO"),
	PARAM_NAME(IO_QUERY_STRING, "QUERY_STRING"),
	PARAM_NAME(IO_CONTENT_LENGTH, "CONTENT_LENGTH"),
	PARAM_NAME(IO_REMOTE_ADDR, "REMOTE_ADDR"),
	PARAM_NAME(IO_HTTP_AUTHORIZATION, "HTTP_AUTHORIZATION"),
	PARAM_NAME(IO_HTTP_IF_MATCH, "HTTP_IF_MATCH"),
	PARAM_NAME(IO_HTTP_IF_NONE_MATCH, "HTTP_IF_NONE_MATCH"),
	PARAM_NAME(IO_HTTP_X_REQUEST_ID, "HTTP_X_REQUEST_ID"),
	PARAM_NAME(IO_HTTP_ACCEPT, "HTTP_ACCEPT"),
	PARAM_NAME(IO_HTTP_LAST_EVENT_ID, "HTTP_LAST_EVENT_ID"),
	PARAM_NAME(IO_HTTP_KV_COMMIT_TOKEN, "HTTP_KV_COMMIT_TOKEN"),
	PARAM_NAME(IO_HTTP_KV_CONSISTENT, "HTTP_KV_CONSISTENT"),
};

/* The names chained by length, -1 ending a chain: a parameter is compared
 * only with the two or three names as long as its own, and most of what a
 * web server sends (SERVER_*, HTTP_USER_AGENT...) matches no length or no
 * first byte. Comparing each parameter with every name cost nearly as much
 * as the lookups by FCGX_GetParam it replaced. */
static void chain_names(struct io_names *c)
{
	memset(c->first, -1, sizeof(c->first));
	for (int i = IO_PARAM_COUNT - 1; i >= 0; i--) {
		c->next[i] = c->first[param_names[i].len];
		c->first[param_names[i].len] = (signed char)i;
	}
}

void io_init(struct io *io, FCGX_Request *fcgi)
{
	memset(io, 0, sizeof(*io));
	io->fcgi = fcgi;
	chain_names(&io->names);
}

/* The variable named by the len bytes at name, or IO_PARAM_COUNT for one
 * kvd does not read. */
static enum io_param_id param_id(const struct io_names *c, const char *name, size_t len)
{
	if (len > IO_NAME_MAX)
		return IO_PARAM_COUNT;
	for (int i = c->first[len]; i >= 0; i = c->next[i])
		if (param_names[i].text[0] == name[0] &&
		    memcmp(name + 1, param_names[i].text + 1, len - 1) == 0)
			return (enum io_param_id)i;
	return IO_PARAM_COUNT;
}

/* One pass over the FastCGI parameters, "NAME=VALUE" strings. A name ends
 * at the first '=', and of a name given twice the first counts: both as
 * FCGX_GetParam had it, so that nothing changes for a request. */
static void read_fcgi_params(struct io *io)
{
	for (char **entry = io->fcgi->envp; entry != NULL && *entry != NULL; entry++) {
		const char *eq = strchr(*entry, '=');
		enum io_param_id id;

		if (eq == NULL)
			continue;
		id = param_id(&io->names, *entry, (size_t)(eq - *entry));
		if (id != IO_PARAM_COUNT && io->param[id] == NULL)
			io->param[id] = eq + 1;
	}
}

void io_begin(struct io *io)
{
	io->body_read = 0;
	for (int i = 0; i < IO_PARAM_COUNT; i++)
		io->param[i] = NULL;
	if (io->fcgi != NULL) {
		read_fcgi_params(io);
		return;
	}
	/* Plain CGI serves one request: a lookup per name costs nothing. */
	for (int i = 0; i < IO_PARAM_COUNT; i++)
		io->param[i] = getenv(param_names[i].text);
}

const char *io_param(const struct io *io, enum io_param_id which)
{
	return io->param[which];
}

size_t io_read(struct io *io, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		size_t want = n - got;
		int chunk = want > (1u << 30) ? 1 << 30 : (int)want;
		size_t r;

		if (io->fcgi != NULL) {
			int k = FCGX_GetStr(buf + got, chunk, io->fcgi->in);
			r = k > 0 ? (size_t)k : 0;
		} else {
			r = fread(buf + got, 1, (size_t)chunk, stdin);
		}
		if (r == 0)
			break;
		got += r;
	}
	io->body_read += got;
	return got;
}

bool io_write(struct io *io, const char *buf, size_t n)
{
	if (n == 0)
		return true;
	if (io->fcgi != NULL)
		return FCGX_PutStr(buf, (int)n, io->fcgi->out) == (int)n;
	return fwrite(buf, 1, n, stdout) == n;
}

bool io_flush(struct io *io)
{
	if (io->fcgi != NULL)
		return FCGX_FFlush(io->fcgi->out) == 0;
	return fflush(stdout) == 0;
}

bool io_input_ended(struct io *io)
{
	const char *cl = io->param[IO_CONTENT_LENGTH];
	uint64_t declared = 0;

	if (io->fcgi == NULL || io->fcgi->in == NULL)
		return io->fcgi == NULL;
	if (io->fcgi->in->isClosed)
		return true;
	if (cl != NULL && *cl != '\0' && !util_parse_u64(cl, strlen(cl), &declared))
		return false;
	if (io->body_read != declared)
		return false;
	return FCGX_GetChar(io->fcgi->in) == EOF && io->fcgi->in->isClosed &&
	       FCGX_GetError(io->fcgi->in) == 0;
}

void io_drain(struct io *io, size_t max)
{
	char buf[4096];
	size_t total = 0;

	while (total < max && io_read(io, buf, sizeof(buf)) == sizeof(buf))
		total += sizeof(buf);
}

/* io.c: one request's connection to the web server, FastCGI or plain CGI */
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

const char *io_param(const struct io *io, const char *name)
{
	if (io->fcgi != NULL)
		return FCGX_GetParam(name, io->fcgi->envp);
	return getenv(name);
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

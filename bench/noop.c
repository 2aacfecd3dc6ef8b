/* noop.c: a FastCGI responder that answers every request with "{}"
 *
 * The benchmark serves it behind the same web server configuration as the
 * service: its throughput is the ceiling of the stack, and the service's
 * figures are quoted as a ratio to it.
 *
 * With an argument N it answers a JSON string of N bytes instead: the
 * ceiling of the stack for an answer as large as a list page, which
 * tells the cost of moving the bytes from the cost of finding them. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

/* The whole answer, headers and a body of body_len bytes; NULL when out
 * of memory. */
static char *build_reply(size_t body_len, int *len)
{
	char head[160];
	int n = snprintf(head, sizeof(head),
			 "Status: 200 OK\r\n"
			 "Content-Type: application/json; charset=utf-8\r\n"
			 "Cache-Control: no-store\r\n"
			 "Content-Length: %zu\r\n"
			 "\r\n", body_len);
	char *reply = malloc((size_t)n + body_len);

	if (reply == NULL)
		return NULL;
	memcpy(reply, head, (size_t)n);
	if (body_len == 2) {
		memcpy(reply + n, "{}", 2);
	} else {
		memset(reply + n, 'x', body_len);
		reply[n] = '"';
		reply[(size_t)n + body_len - 1] = '"';
	}
	*len = n + (int)body_len;
	return reply;
}

int main(int argc, char **argv)
{
	size_t body_len = argc > 1 ? strtoul(argv[1], NULL, 10) : 2;
	FCGX_Request req;
	char *reply;
	int len;

	if (body_len < 2 || body_len > (16u << 20))
		body_len = 2;
	reply = build_reply(body_len, &len);
	if (reply == NULL || FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		/* Its connection closes as kvd's does (src/loop.c): at once,
		 * once the request was read to its end, rather than by
		 * libfcgi's wait for the web server to close it. */
		bool close_now = !req.keepConnection && FCGX_GetChar(req.in) == EOF &&
				 req.in->isClosed;

		FCGX_PutStr(reply, len, req.out);
		if (close_now)
			req.keepConnection = 1;
		FCGX_Finish_r(&req);
		if (close_now && req.ipcFd >= 0) {
			close(req.ipcFd);
			req.ipcFd = -1;
		}
	}
	free(reply);
	return 0;
}

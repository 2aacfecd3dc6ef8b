/* noop.c: a FastCGI responder that answers every request with "{}"
 *
 * The benchmark serves it behind the same web server configuration as the
 * service: its throughput is the ceiling of the stack, and the service's
 * figures are quoted as a ratio to it. */
#include <fcgiapp.h>

int main(void)
{
	static const char reply[] =
		"Status: 200 OK\r\n"
		"Content-Type: application/json; charset=utf-8\r\n"
		"Cache-Control: no-store\r\n"
		"Content-Length: 2\r\n"
		"\r\n"
		"{}";
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(reply, sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}

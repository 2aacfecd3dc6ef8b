/* watchdog.c: leaving a process that is stuck inside the store */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>

#include "store_join.h"
#include "watchdog.h"

/* The contract's 503 (docs/API.md): a CGI response, which the web server
 * turns into HTTP, and FastCGI carries the same bytes as its stdout. */
static const char answer[] =
	"Status: 503 Service Unavailable\r\n"
	"Content-Type: application/json\r\n"
	"Cache-Control: no-store\r\n"
	"Retry-After: 5\r\n"
	"\r\n"
	"{\"error\":{\"status\":503,\"code\":\"unavailable\","
	"\"message\":\"the store is unavailable; try again later\"}}\n";

static char message[160];
static size_t message_len;
static volatile int reply_fd = -1;
static volatile int reply_request_id;

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0 && (n = write(fd, p, len)) > 0) {
		p += n;
		len -= (size_t)n;
	}
}

static void fcgi_header(unsigned char *h, unsigned char type, int id, size_t len)
{
	FCGI_Header header = {
		.version = FCGI_VERSION_1,
		.type = type,
		.requestIdB1 = (unsigned char)(id >> 8),
		.requestIdB0 = (unsigned char)id,
		.contentLengthB1 = (unsigned char)(len >> 8),
		.contentLengthB0 = (unsigned char)len,
	};

	memcpy(h, &header, sizeof(header));
}

/* The answer as one FastCGI request's whole output: its stdout, the empty
 * record that ends it, and the end of the request. */
static void reply_fastcgi(int fd, int id)
{
	unsigned char out[3 * FCGI_HEADER_LEN + sizeof(answer) + sizeof(FCGI_EndRequestBody)];
	FCGI_EndRequestBody end = { .protocolStatus = FCGI_REQUEST_COMPLETE };
	size_t n = 0, body = sizeof(answer) - 1;

	fcgi_header(out + n, FCGI_STDOUT, id, body);
	n += FCGI_HEADER_LEN;
	memcpy(out + n, answer, body);
	n += body;
	fcgi_header(out + n, FCGI_STDOUT, id, 0);
	n += FCGI_HEADER_LEN;
	fcgi_header(out + n, FCGI_END_REQUEST, id, sizeof(end));
	n += FCGI_HEADER_LEN;
	memcpy(out + n, &end, sizeof(end));
	n += sizeof(end);
	write_all(fd, out, n);
}

static void on_alarm(int sig)
{
	int fd = reply_fd;

	(void)sig;
	if (fd >= 0 && reply_request_id == 0)
		write_all(fd, answer, sizeof(answer) - 1);
	else if (fd >= 0)
		reply_fastcgi(fd, reply_request_id);
	store_join_want_recovery_signal();
	write_all(STDERR_FILENO, message, message_len);
	_exit(EXIT_FAILURE);
}

void watchdog_install(const char *who)
{
	static const char text[] = ": stuck in the store; asked for its recovery and left\n";
	struct sigaction sa;
	size_t n = strlen(who);

	if (n > sizeof(message) - sizeof(text))
		n = sizeof(message) - sizeof(text);
	memcpy(message, who, n);
	memcpy(message + n, text, sizeof(text) - 1);
	message_len = n + sizeof(text) - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

void watchdog_arm(unsigned seconds)
{
	alarm(seconds);
}

void watchdog_disarm(void)
{
	alarm(0);
}

void watchdog_reply_to(int fd, int fcgi_request_id)
{
	reply_fd = -1;
	reply_request_id = fcgi_request_id;
	reply_fd = fd;
}

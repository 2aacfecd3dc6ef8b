/* main.c: process lifecycle: configuration, the store, the accept loop
 *
 * The same binary is a FastCGI responder (lighttpd mod_fastcgi, Apache
 * mod_fcgid, spawn-fcgi) and a plain CGI program that serves one request
 * and exits. Either way a bad configuration answers every request with
 * the contract's JSON 500 rather than ending the process, so that a
 * client sees the reason, not the web server's own error page; a FastCGI
 * process follows the file as it changes (confwatch.h). Started as
 * kvd --replicate outside any web server, it is a replicated site's
 * replication process instead (listener.h). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "confwatch.h"
#include "io.h"
#include "listener.h"
#include "loop.h"
#include "request.h"
#include "serve.h"
#include "store.h"
#include "watchdog.h"

/* A FastCGI process answers request after request of much the same
 * size, so it keeps up to MALLOC_KEEP of free heap between them: glibc's
 * defaults would give the top of the heap back after any request that
 * freed 128 KiB and fault it in again for the next. Blocks beyond it (a
 * page of big values, a large body) come from mmap and go back on free,
 * so a process does not keep what one odd request needed. */
#define MALLOC_KEEP (1 << 20)

static void malloc_configure(void)
{
	mallopt(M_MMAP_THRESHOLD, MALLOC_KEEP);
	mallopt(M_TRIM_THRESHOLD, 2 * MALLOC_KEEP);
}

/* A plain CGI process's whole life, from joining the store to its upkeep
 * after the answer, runs to its end: the web server may send SIGTERM once
 * the output is closed (Apache's mod_cgi does), and a process ended inside
 * Berkeley DB would cost every other one a recovery. The watchdog bounds
 * the process's life instead, and answers 503 on stdout if it fires. */
static void cgi_prepare(void)
{
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	watchdog_reply_to(STDOUT_FILENO, 0);
}

int main(int argc, char **argv)
{
	struct confwatch cw;
	struct request_ids ids;
	bool cgi;
	int status;

	malloc_configure();
	if (listener_wanted(argc, argv)) {
		confwatch_init(&cw, true);
		status = listener_run(&cw);
		confwatch_free(&cw);
		return status;
	}
	cgi = FCGX_IsCGI();
	if (cgi)
		cgi_prepare();
	confwatch_init(&cw, !cgi);
	request_ids_init(&ids);
	if (cgi) {
		struct io io;

		io_init(&io, NULL);
		serve(&io, &ids, &cw, NULL, NULL);
		watchdog_reply_to(-1, 0);
		/* The web server has the whole reply at end of file: close it
		 * before the store's upkeep, as FastCGI finishes first. */
		fclose(stdout);
		if (cw.ok)
			store_end_request(cw.st);
	} else {
		loop_run(&cw, &ids);
	}
	confwatch_free(&cw);
	return EXIT_SUCCESS;
}

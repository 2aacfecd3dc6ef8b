/* main.c: process lifecycle: configuration, the store, the accept loop
 *
 * The same binary is a FastCGI responder (lighttpd mod_fastcgi, Apache
 * mod_fcgid, spawn-fcgi) and a plain CGI program that serves one request
 * and exits. Either way a bad configuration answers every request with
 * the contract's JSON 500 rather than ending the process, so that a
 * client sees the reason, not the web server's own error page; a FastCGI
 * process follows the file as it changes (confwatch.h). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "body.h"
#include "confwatch.h"
#include "gate.h"
#include "io.h"
#include "ratelimit.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "store.h"
#include "util.h"
#include "watchdog.h"

/* read the request's variables, parse, pass the gate (rate limit, token,
 * maintenance, grant), then handle and reply; the store is touched only
 * by the handler. Without a good configuration every request is answered
 * its 500, whatever it asks. */
static void serve(struct io *io, struct request_ids *ids, const struct confwatch *cw)
{
	struct request req;
	struct error err;
	char headers[GATE_HEADERS_MAX] = "";

	io_begin(io);
	if (!cw->ok) {
		(void)request_parse(&req, io, ids, &err);
		body_discard(io);
		reply_error_send(&req, &cw->err, NULL);
	} else if (!request_parse(&req, io, ids, &err) ||
		   !gate_pass(&req, &cw->cfg, cw->rl, &err, headers)) {
		body_discard(io);
		reply_error_send(&req, &err, headers);
	} else {
		route_dispatch(&req, cw->st, &cw->cfg);
	}
	request_free(&req);
}

/* The log's line for a process that starts serving requests. */
static void log_start(const struct confwatch *cw)
{
	if (cw->ok)
		util_log("started: %s %s, FastCGI, store %s", PACKAGE_NAME, PACKAGE_VERSION,
			 cw->cfg.store);
	else
		util_log("started: %s %s, FastCGI, no configuration", PACKAGE_NAME, PACKAGE_VERSION);
}

static void serve_fastcgi(struct request_ids *ids, struct confwatch *cw)
{
	FCGX_Request fcgi;
	struct io io;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		util_log("cannot set up FastCGI");
		return;
	}
	io_init(&io, &fcgi);
	/* Under plain CGI every request is a start-up: only FastCGI says so. */
	log_start(cw);
	/* libfcgi makes the accept fail once SIGTERM arrives, and a request
	 * under way finishes first. */
	while (FCGX_Accept_r(&fcgi) >= 0) {
		watchdog_reply_to(fcgi.ipcFd, fcgi.requestId);
		/* A process idle in accept sees a change only now: this request
		 * is already served with the new file. */
		confwatch_check(cw);
		serve(&io, ids, cw);
		watchdog_reply_to(-1, 0);
		/* The reply leaves with the finish; the store's upkeep and a
		 * change of the file come after, on no client's time. */
		FCGX_Finish_r(&fcgi);
		if (cw->ok)
			store_end_request(cw->st);
		confwatch_check(cw);
	}
	FCGX_Free(&fcgi, 1);
}

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

int main(void)
{
	struct confwatch cw;
	struct request_ids ids;
	bool cgi = FCGX_IsCGI();

	malloc_configure();
	if (cgi)
		cgi_prepare();
	confwatch_init(&cw, !cgi);
	request_ids_init(&ids);
	if (cgi) {
		struct io io;

		io_init(&io, NULL);
		serve(&io, &ids, &cw);
		watchdog_reply_to(-1, 0);
		/* The web server has the whole reply at end of file: close it
		 * before the store's upkeep, as FastCGI finishes first. */
		fclose(stdout);
		if (cw.ok)
			store_end_request(cw.st);
	} else {
		serve_fastcgi(&ids, &cw);
	}
	confwatch_free(&cw);
	return EXIT_SUCCESS;
}

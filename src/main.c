/* main.c: process lifecycle: configuration, the store, the accept loop
 *
 * The same binary is a FastCGI responder (lighttpd mod_fastcgi, Apache
 * mod_fcgid, spawn-fcgi) and a plain CGI program that serves one request
 * and exits. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
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
 * by the handler. */
static void serve(struct io *io, struct request_ids *ids, struct store *st,
		  struct ratelimit *rl, const struct config *cfg)
{
	struct request req;
	struct error err;
	char headers[GATE_HEADERS_MAX] = "";

	io_begin(io);
	if (!request_parse(&req, io, ids, &err) || !gate_pass(&req, cfg, rl, &err, headers))
		reply_error_send(&req, &err, headers);
	else
		route_dispatch(&req, st, cfg);
	request_free(&req);
}

static void serve_fastcgi(struct request_ids *ids, struct store *st, struct ratelimit *rl,
			  const struct config *cfg)
{
	FCGX_Request fcgi;
	struct io io;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		util_log("cannot set up FastCGI");
		return;
	}
	io_init(&io, &fcgi);
	/* Under plain CGI every request is a start-up: only FastCGI says so. */
	util_log("started: %s %s, FastCGI, store %s", PACKAGE_NAME, PACKAGE_VERSION, cfg->store);
	/* libfcgi makes the accept fail once SIGTERM arrives, and a request
	 * under way finishes first. */
	store_watch_start(st);
	while (FCGX_Accept_r(&fcgi) >= 0) {
		watchdog_reply_to(fcgi.ipcFd, fcgi.requestId);
		serve(&io, ids, st, rl, cfg);
		watchdog_reply_to(-1, 0);
		/* The reply leaves with the finish; the store's upkeep comes
		 * after, on no client's time. */
		FCGX_Finish_r(&fcgi);
		store_end_request(st);
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
	struct config cfg = { 0 };
	struct store *st = NULL;
	struct ratelimit *rl = NULL;
	struct request_ids ids;
	struct error err;
	int status = EXIT_FAILURE;
	bool cgi = FCGX_IsCGI();

	malloc_configure();
	if (!config_locate(&cfg, NULL, &err)) {
		util_log("configuration: %s", err.message);
		goto out;
	}
	if (cgi)
		cgi_prepare();
	st = store_new(&cfg);
	rl = rl_new(&cfg);
	if (st == NULL || rl == NULL) {
		util_log("out of memory");
		goto out;
	}
	request_ids_init(&ids);
	if (cgi) {
		struct io io;

		io_init(&io, NULL);
		serve(&io, &ids, st, rl, &cfg);
		watchdog_reply_to(-1, 0);
		/* The web server has the whole reply at end of file: close it
		 * before the store's upkeep, as FastCGI finishes first. */
		fclose(stdout);
		store_end_request(st);
	} else {
		serve_fastcgi(&ids, st, rl, &cfg);
	}
	status = EXIT_SUCCESS;
out:
	rl_free(rl);
	store_free(st);
	config_free(&cfg);
	return status;
}

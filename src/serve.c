/* serve.c: one request, from the web server's variables to the reply */
#include "body.h"
#include "gate.h"
#include "redirect.h"
#include "reply.h"
#include "route.h"
#include "serve.h"
#include "util.h"

static bool config_changed(const void *arg)
{
	return confwatch_changed(arg);
}

void serve(struct io *io, struct request_ids *ids, const struct confwatch *cw,
	   struct feed **park, struct wake *w)
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
	} else if (redirect_pass(&req, cw->st, &cw->cfg)) {
		req.store = cw->st;
		req.park = park;
		req.wake = w;
		req.config_changed = config_changed;
		req.config_arg = cw;
		route_dispatch(&req, cw->st, &cw->cfg);
	}
	request_free(&req);
}

void serve_log_start(const struct confwatch *cw)
{
	if (cw->ok)
		util_log("started: %s %s, FastCGI, store %s", PACKAGE_NAME, PACKAGE_VERSION,
			 cw->cfg.store);
	else
		util_log("started: %s %s, FastCGI, no configuration", PACKAGE_NAME, PACKAGE_VERSION);
}

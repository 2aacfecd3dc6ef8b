/* loop.c: a FastCGI process's loop: it accepts requests and keeps the
 * change feeds that wait */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "feed.h"
#include "fsutil.h"
#include "io.h"
#include "loop.h"
#include "serve.h"
#include "store.h"
#include "util.h"
#include "wake.h"
#include "watchdog.h"

/* The listening socket a FastCGI process is given. */
#define LISTEN_FD 0

/* Connections one turn of the loop accepts before it looks at the rest. */
#define ACCEPT_BATCH 16

/* How long the loop stops accepting when the process is out of
 * descriptors, rather than spin on a socket it cannot accept from. */
#define ACCEPT_PAUSE_MS 100

/* The longest a write to a parked feed's connection may block: a web
 * server that stops reading an event stream (its client does not keep
 * up, and the server does not buffer) ends that stream rather than stall
 * the process and every other request and feed in it. */
#define PARKED_WRITE_TIMEOUT_MS 1000

/* One connection the process keeps between turns of the loop. */
struct conn {
	FCGX_Request fcgi;
	struct io io;
	struct feed *feed;	/* the feed waiting on it; NULL: kept alive, idle */
};

struct loop {
	struct confwatch *cw;
	struct request_ids *ids;
	struct wake *wake;	/* for waiting feeds, of the store directory wake_dir */
	char *wake_dir;
	struct conn **conns;
	size_t n_conns, cap;
	struct pollfd *pfds;
	size_t feeds;		/* conns with a feed */
	int64_t next_expiry;	/* the earliest expiry ahead, 0 for none */
	int64_t accept_paused_until;
};


/* A waiting feed holds a descriptor: as many as the system lets a
 * process have, not the shell's default of 1024. */
static void descriptors_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The wake handle of the store the configuration names now. */
static struct wake *loop_wake(struct loop *l)
{
	const char *dir = l->cw->ok ? l->cw->cfg.store : NULL;

	if (dir == NULL)
		return l->wake;
	if (l->wake != NULL && strcmp(dir, l->wake_dir) == 0)
		return l->wake;
	/* A new store directory: feeds still waiting release their slots
	 * into the new handle, harmlessly, and the old one's close lets go
	 * of the slots they held. */
	wake_free(l->wake);
	free(l->wake_dir);
	l->wake_dir = strdup(dir);
	l->wake = l->wake_dir == NULL ? NULL :
		  wake_new(dir, fsutil_store_mode(l->cw->cfg.store_mode,
						  l->cw->cfg.store_group != NULL, 0660));
	return l->wake;
}

static bool conns_add(struct loop *l, struct conn *c)
{
	if (l->n_conns == l->cap) {
		size_t cap = l->cap == 0 ? 64 : 2 * l->cap;
		struct conn **grown = realloc(l->conns, cap * sizeof(*grown));
		struct pollfd *pfds = realloc(l->pfds, (cap + 2) * sizeof(*pfds));

		if (grown != NULL)
			l->conns = grown;
		if (pfds != NULL)
			l->pfds = pfds;
		if (grown == NULL || pfds == NULL)
			return false;
		l->cap = cap;
	}
	l->conns[l->n_conns++] = c;
	if (c->feed != NULL)
		l->feeds++;
	return true;
}

static struct conn *conn_new(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	/* No listening socket of libfcgi's own: a connection that fails is
	 * closed and the accept fails rather than block in accept(2).
	 * keepConnection keeps FCGX_Accept_r from closing the descriptor
	 * this loop accepted before it reads the request. */
	FCGX_InitRequest(&c->fcgi, -1, 0);
	c->fcgi.ipcFd = fd;
	c->fcgi.keepConnection = 1;
	io_init(&c->io, &c->fcgi);
	return c;
}

static void conn_free(struct conn *c)
{
	FCGX_Free(&c->fcgi, 1);
	free(c);
}

/* The end of a request on c: its reply leaves, then the store's upkeep.
 * True when the web server keeps the connection for another request. */
static bool conn_finish(struct loop *l, struct conn *c)
{
	/* libfcgi closes a connection the web server does not keep by
	 * shutting down its side and reading until the server closes, for up
	 * to 2 s, so that input still arriving cannot reset the connection
	 * under the reply. A request read to its end has no input to come:
	 * its connection closes at once, and the process goes on to the next
	 * request instead of waiting for the web server to close this one. */
	bool close_now = !c->fcgi.keepConnection && io_input_ended(&c->io);

	if (close_now)
		c->fcgi.keepConnection = 1;
	FCGX_Finish_r(&c->fcgi);
	if (close_now && c->fcgi.ipcFd >= 0) {
		close(c->fcgi.ipcFd);
		c->fcgi.ipcFd = -1;
	}
	if (l->cw->ok)
		store_end_request(l->cw->st);
	return c->fcgi.ipcFd >= 0;
}

/* A change of the configuration file ends every waiting feed, so that
 * their clients come back under the new one (a revoked token, say). Their
 * connections close, and conns_sweep() drops them at the next turn: this
 * runs inside walks of the array, which must not shift under them. */
static void feeds_end(struct loop *l)
{
	for (size_t i = 0; i < l->n_conns; i++) {
		struct conn *c = l->conns[i];

		if (c->feed == NULL)
			continue;
		feed_finish(c->feed);
		feed_free(c->feed, l->wake);
		c->feed = NULL;
		l->feeds--;
		c->fcgi.keepConnection = 0;
		(void)conn_finish(l, c);
	}
}

static void config_check(struct loop *l)
{
	if (confwatch_check(l->cw))
		feeds_end(l);
}

/* Reads the next request on c and serves it. False when c is done with
 * (the connection failed or closed); else c is parked with a feed, or
 * kept alive and idle. */
static bool conn_run(struct loop *l, struct conn *c)
{
	struct feed *parked = NULL;

	if (FCGX_Accept_r(&c->fcgi) < 0)
		return false;
	watchdog_reply_to(c->fcgi.ipcFd, c->fcgi.requestId);
	/* A process idle in poll sees a change only now: this request is
	 * already served with the new file. */
	config_check(l);
	serve(&c->io, l->ids, l->cw, &parked, loop_wake(l));
	watchdog_reply_to(-1, 0);
	if (parked != NULL) {
		const struct timeval bound = {
			.tv_sec = PARKED_WRITE_TIMEOUT_MS / 1000,
			.tv_usec = (PARKED_WRITE_TIMEOUT_MS % 1000) * 1000,
		};

		c->feed = parked;
		feed_set_io(parked, &c->io);
		(void)setsockopt(c->fcgi.ipcFd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound));
		/* The upkeep a finished request would have had. */
		if (l->cw->ok)
			store_end_request(l->cw->st);
		return true;
	}
	return conn_finish(l, c);
}

static void accept_some(struct loop *l)
{
	for (int i = 0; i < ACCEPT_BATCH && !util_stopping; i++) {
		int fd = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				l->accept_paused_until = util_now_ms() + ACCEPT_PAUSE_MS;
			return;
		}
		if ((c = conn_new(fd)) == NULL)
			continue;
		if (!conn_run(l, c) || !conns_add(l, c)) {
			if (c->feed != NULL) {
				feed_free(c->feed, l->wake);
				c->fcgi.keepConnection = 0;
				(void)conn_finish(l, c);
			}
			conn_free(c);
		}
		/* The feeds had no turn while this request was served. */
		config_check(l);
	}
}

static void conns_remove(struct loop *l, size_t i)
{
	if (l->conns[i]->feed != NULL)
		l->feeds--;
	conn_free(l->conns[i]);
	l->conns[i] = l->conns[--l->n_conns];
}

/* Drops the connections feeds_end() closed. */
static void conns_sweep(struct loop *l)
{
	for (size_t i = l->n_conns; i-- > 0;) {
		if (l->conns[i]->feed == NULL && l->conns[i]->fcgi.ipcFd < 0)
			conns_remove(l, i);
	}
}

/* A feed whose poll is done: its connection goes on as an idle one when
 * the web server keeps it, else it goes. */
static bool feed_done(struct loop *l, struct conn *c)
{
	feed_free(c->feed, l->wake);
	c->feed = NULL;
	l->feeds--;
	return conn_finish(l, c);
}

/* Polls every waiting feed: after a commit, or when one's time came. */
static void feeds_poll(struct loop *l)
{
	struct store *st = l->cw->st;
	uint64_t current;

	if (l->feeds == 0 || !l->cw->ok)
		return;
	/* A commit may have set an earlier expiry: looking costs one read. */
	l->next_expiry = feed_expire_due(st, &l->cw->cfg);
	if (store_versionstamp(st, &current) != STORE_OK)
		current = UINT64_MAX;	/* each feed's read answers the error */
	for (size_t i = 0; i < l->n_conns;) {
		struct conn *c = l->conns[i];
		enum feed_state state;

		if (c->feed == NULL) {
			i++;
			continue;
		}
		watchdog_reply_to(c->fcgi.ipcFd, c->fcgi.requestId);
		state = feed_poll(c->feed, st, &l->cw->cfg, current);
		watchdog_reply_to(-1, 0);
		if (state == FEED_DONE && !feed_done(l, c)) {
			conns_remove(l, i);
			continue;
		}
		i++;
	}
	store_end_request(st);
}

/* Input on a kept connection: a parked feed's web server gave up on it
 * (it closed the connection or aborted the request), or an idle one
 * brings its next request. */
static void conn_input(struct loop *l, size_t i)
{
	struct conn *c = l->conns[i];

	if (c->feed != NULL) {
		feed_free(c->feed, l->wake);
		c->feed = NULL;
		l->feeds--;
		c->fcgi.keepConnection = 0;
		(void)conn_finish(l, c);
		conns_remove(l, i);
		return;
	}
	if (!conn_run(l, c)) {
		conns_remove(l, i);
		return;
	}
	if (c->feed != NULL)
		l->feeds++;
}

/* How long poll may sleep: for ever without feeds; with some, until the
 * first one is due, the next expiry, or the wake handle's own bound. */
static int loop_timeout(struct loop *l, int64_t now)
{
	int64_t until = INT64_MAX;
	int timeout;

	if (l->accept_paused_until > now)
		until = l->accept_paused_until;
	if (l->feeds == 0)
		return until == INT64_MAX ? -1 : (int)(until - now);
	for (size_t i = 0; i < l->n_conns; i++) {
		int64_t due;

		if (l->conns[i]->feed != NULL && (due = feed_due(l->conns[i]->feed)) < until)
			until = due;
	}
	if (l->next_expiry != 0 && l->next_expiry < until)
		until = l->next_expiry;
	timeout = l->wake != NULL ? wake_timeout_ms(l->wake) : WAKE_FALLBACK_MS;
	if (until - now < timeout)
		timeout = until > now ? (int)(until - now) : 0;
	return timeout;
}

/* One turn: waits for something to do, then does it. */
static void loop_turn(struct loop *l)
{
	int64_t now = util_now_ms();
	size_t n = 0, first_conn, conns;
	int wfd = -1, timeout;
	bool listening = l->accept_paused_until <= now;

	conns_sweep(l);

	if (listening)
		l->pfds[n++] = (struct pollfd){ .fd = LISTEN_FD, .events = POLLIN };
	if (l->feeds > 0 && l->wake != NULL && (wfd = wake_fd(l->wake)) >= 0)
		l->pfds[n++] = (struct pollfd){ .fd = wfd, .events = POLLIN };
	first_conn = n;
	conns = l->n_conns;
	for (size_t i = 0; i < conns; i++)
		l->pfds[n++] = (struct pollfd){ .fd = l->conns[i]->fcgi.ipcFd, .events = POLLIN };
	timeout = loop_timeout(l, now);
	if (poll(l->pfds, n, timeout) < 0)
		return;		/* a signal: the caller looks at util_stopping */
	/* The connections first, while the array is as poll saw it. From
	 * the last: removing one moves the last into its place, which was
	 * already looked at. */
	for (size_t i = conns; i-- > 0;) {
		if (l->pfds[first_conn + i].revents != 0)
			conn_input(l, i);
	}
	if (wfd >= 0)
		wake_drain(l->wake);
	/* A process that only holds feeds still follows its file (at most
	 * one look a second). */
	if (l->feeds > 0)
		config_check(l);
	feeds_poll(l);
	if (listening && (l->pfds[0].revents & POLLIN))
		accept_some(l);
}

void loop_run(struct confwatch *cw, struct request_ids *ids)
{
	struct loop l = { .cw = cw, .ids = ids };
	int flags;

	if (FCGX_Init() != 0) {
		util_log("cannot set up FastCGI");
		return;
	}
	/* SIGTERM and SIGUSR1 end the loop once the request under way is
	 * done; they interrupt poll(2). */
	util_stop_on(SIGTERM, SIGUSR1);
	descriptors_raise();
	flags = fcntl(LISTEN_FD, F_GETFL);
	if (flags < 0 || fcntl(LISTEN_FD, F_SETFL, flags | O_NONBLOCK) < 0) {
		util_log("cannot make the FastCGI socket non-blocking");
		return;
	}
	if ((l.pfds = calloc(2, sizeof(*l.pfds))) == NULL)
		return;
	serve_log_start(cw);
	(void)loop_wake(&l);
	while (!util_stopping)
		loop_turn(&l);
	feeds_end(&l);
	while (l.n_conns > 0)
		conns_remove(&l, l.n_conns - 1);
	free(l.conns);
	free(l.pfds);
	wake_free(l.wake);
	free(l.wake_dir);
}

/* watchdog.h: leaving a process that is stuck inside the store
 *
 * A process killed inside Berkeley DB can leave a mutex of the shared
 * environment locked for good, and whoever waits on it waits forever.
 * SIGALRM, armed around every call into the store, ends such a wait: the
 * handler answers the request under way with the contract's 503, asks for
 * the store's recovery (store_join.h), says why on stderr and exits. A
 * healthy call takes milliseconds and lock waits give up within seconds,
 * so the bound is far above anything but a wedge. Everything the handler
 * does is async-signal-safe: the answer is prepared bytes and write(2). */
#ifndef KV_WATCHDOG_H
#define KV_WATCHDOG_H

/* Installs the handler; who names the program in its message. */
void watchdog_install(const char *who);

void watchdog_arm(unsigned seconds);
void watchdog_disarm(void);

/* Where the 503 goes should the watchdog fire: a plain CGI response on fd
 * when fcgi_request_id is 0, else FastCGI records of that request on the
 * web server's connection fd; fd < 0 for none (between requests). */
void watchdog_reply_to(int fd, int fcgi_request_id);

#endif

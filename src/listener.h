/* listener.h: kvd --replicate, the long-lived process of a replicated site
 *
 * The web server's FastCGI processes come and go, and Berkeley DB's
 * Replication Manager needs one process per site that stays: it listens
 * for the group's connections, runs elections and applies what the master
 * sends. kvd --replicate is that process. It joins the store before the
 * web server's processes (the first process to start the Replication
 * Manager at a site becomes its replication process), joins again after
 * every recovery, and tells the site's waiting change feeds of the commits
 * it applies, which no process of this site wrote. */
#ifndef KV_LISTENER_H
#define KV_LISTENER_H

#include "confwatch.h"

/* Runs until SIGTERM or SIGINT; the process's exit status. */
int listener_run(struct confwatch *cw);

/* Whether the arguments ask for it: "--replicate", and no CGI request
 * (whose query string may reach a program as its arguments). */
bool listener_wanted(int argc, char **argv);

#endif

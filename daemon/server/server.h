/*
 * daemon/server/server.h — the listening socket, the connections and the RPC
 * dispatcher (daemon/core/rpc.h is its public face for method files).
 *
 * Socket set-up (OpenSMTPD habits): the directory is created 0700 and
 * refused if it belongs to someone else or is open to others; a stale socket
 * is probed with connect() before it is removed (a live daemon → error);
 * bind under umask 077; every peer's uid is checked with SO_PEERCRED; a cap
 * on connections.  Writes go out directly first, the rest is queued per
 * client, and a client whose queue passes the cap is dropped.
 *
 * Children: kernels, the builtin analyst and data.add's copier are children
 * of the daemon, each watched (and reaped) by the loop: loop_child_watch().
 * The daemon blocks SIGCHLD/SIGTERM/SIGINT/SIGHUP for its signalfds: a child
 * must unblock them after fork (sigprocmask(SIG_SETMASK, &empty)) or use
 * posix_spawnattr_setsigmask, else SIGINT would not interrupt a kernel.
 */
#ifndef DAA_SERVER_H
#define DAA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "daemon/core/config.h"
#include "daemon/core/loop.h"
#include "protocol/proto.h"

/* Listen on cfg->socket_path, or adopt listen_fd (>= 0: socket activation).
 * 0 / -1 with err (e.g. "a daad is already running on ..."). */
int server_start(struct loop *l, const struct daa_config *cfg, int listen_fd,
		 struct proto_err *err);
/* Stop accepting (the socket file is removed unless socket-activated). */
void server_stop_listening(void);
/* Write out what is queued for clients, for at most timeout_ms; then close
 * every connection and free everything. */
void server_stop(int timeout_ms);

/* Count loop turns (fairness); main calls it before each wait of the loop. */
void server_before_wait(void);

/* Ask the daemon to shut down after this callback (the `shutdown` method,
 * SIGTERM, SIGINT). */
void server_request_shutdown(const char *why);

/* Status figures. */
int server_client_count(void);
uint64_t server_uptime_s(void);
const char *server_socket_path(void);

/* The daemon's loop (children, deferred calls), NULL before server_start. */
struct loop *server_loop(void);

#endif

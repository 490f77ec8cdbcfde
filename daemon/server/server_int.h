/*
 * daemon/server/server_int.h — private to server.c / server_sock.c.
 */
#ifndef DAA_SERVER_INT_H
#define DAA_SERVER_INT_H

#include <stdbool.h>
#include "protocol/proto.h"

struct server_sock {
	int lfd;            /* listening socket, -1 until open */
	int lockfd;         /* <socket>.lock, held while running */
	char lockpath[128];
};

/* Check the folder, lock, clear a stale socket, bind and listen (0 / -1). */
int server_sock_open(const char *path, struct server_sock *ss, struct proto_err *err);

/* Is the peer (its pid, from SO_PEERCRED) a kernel of ours or inside one —
 * same session, or same user namespace?  Such a peer is refused: kernels
 * talk to daad only through their socketpair (daemon/kernel/kernel.h). */
bool server_peer_is_kernel(int pid);

#endif

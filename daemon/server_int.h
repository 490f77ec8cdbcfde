/*
 * daemon/server_int.h — private to server.c / server_sock.c.
 */
#ifndef DAA_SERVER_INT_H
#define DAA_SERVER_INT_H

#include "protocol/proto.h"

struct server_sock {
	int lfd;            /* listening socket, -1 until open */
	int lockfd;         /* <socket>.lock, held while running */
	char lockpath[128];
};

/* Check the folder, lock, clear a stale socket, bind and listen (0 / -1). */
int server_sock_open(const char *path, struct server_sock *ss, struct proto_err *err);

#endif

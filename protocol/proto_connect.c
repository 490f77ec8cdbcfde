/*
 * protocol/proto_connect.c — finding and connecting to the daemon's socket:
 * the path ($DAA_SOCKET, $XDG_RUNTIME_DIR, /tmp) and one connect() for every
 * client (the CLI blocking, the tray non-blocking); the connection is then
 * driven by the client core (protocol/proto_async.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/proto_async.h"

/* $DAA_SOCKET, else $XDG_RUNTIME_DIR/daa/daad.sock, else /tmp/daa-$UID/daad.sock. */
int proto_socket_path(char *buf, size_t size)
{
	const char *s = getenv("DAA_SOCKET");
	const char *x = getenv("XDG_RUNTIME_DIR");
	int n;
	if (s && *s)
		n = snprintf(buf, size, "%s", s);
	else if (x && *x)
		n = snprintf(buf, size, "%s/daa/daad.sock", x);
	else
		n = snprintf(buf, size, "/tmp/daa-%u/daad.sock", (unsigned)getuid());
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Connect to the daemon's socket at path (a non-blocking connect that is
 * still in progress counts as connected: the first write or read says). */
int proto_connect(const char *path, bool nonblock, struct proto_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "socket path too long (max %zu bytes): %s",
				  sizeof(sa.sun_path) - 1, path);
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)) {
		int saved = errno;
		proto_fail(err, PROTO_ERR_IO, "cannot connect to %s: %s", path, strerror(saved));
		if (fd >= 0)
			close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

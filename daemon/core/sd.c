/*
 * daemon/core/sd.c — systemd socket activation and readiness notification
 * (daemon/core/sd.h), written from the protocol documentation (sd_listen_fds(3),
 * sd_notify(3)) rather than linking libsystemd; named daa_sd_* so as not to
 * pass for libsystemd's own functions.
 */
#include "daemon/core/sd.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Parse a decimal number; -1 when not one. */
static long sd_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	return v;
}

/* fds passed by the service manager to this very process. */
int daa_sd_listen_fds(void)
{
	long pid = sd_parse(getenv("LISTEN_PID"));
	long n = sd_parse(getenv("LISTEN_FDS"));
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (pid != (long)getpid() || n <= 0 || n > 64)
		return 0;
	for (int fd = DAA_SD_LISTEN_FDS_START; fd < DAA_SD_LISTEN_FDS_START + n; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0)
			return 0;
		fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
	return (int)n;
}

/* One datagram to $NOTIFY_SOCKET. */
int daa_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	int saved = errno;
	close(fd);
	errno = saved;
	return w < 0 ? -1 : 0;
}

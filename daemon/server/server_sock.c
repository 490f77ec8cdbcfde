/*
 * daemon/server/server_sock.c — the daemon's own listening socket (OpenSMTPD
 * habits): its folder must be ours and closed to others (created 0700 when
 * missing); <socket>.lock is held so two starting daemons cannot race; a
 * socket file that still answers means a live daemon (error), one that
 * refuses connections is stale and removed; bind happens under umask 0177.
 * Also the check that refuses kernels (and anything inside one) as peers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "daemon/kernel/kernel.h"
#include "daemon/core/log.h"
#include "daemon/server/server_int.h"

/* The socket's folder exists, is ours and closed to others (creating it 0700). */
static int server_check_dir(const char *dir, struct proto_err *err)
{
	struct stat st;
	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT)
			return proto_fail(err, PROTO_ERR_IO, "cannot use %s: %s", dir, strerror(errno));
		char parent[108];
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			struct stat pst;
			if (stat(parent, &pst) < 0)
				return proto_fail(err, PROTO_ERR_IO,
						  "cannot create %s: its parent %s: %s", dir, parent,
						  strerror(errno));
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return proto_fail(err, PROTO_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
		if (lstat(dir, &st) < 0)
			return proto_fail(err, PROTO_ERR_IO, "cannot use %s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return proto_fail(err, PROTO_ERR_IO, "%s must be a folder (not a symlink or a file)",
				  dir);
	if (st.st_uid != geteuid())
		return proto_fail(err, PROTO_ERR_IO,
				  "%s belongs to uid %u, not to you (uid %u): refusing to put the "
				  "socket there", dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		return proto_fail(err, PROTO_ERR_IO,
				  "%s has mode %03o: it must be closed to others (chmod 700 %s)", dir,
				  (unsigned)(st.st_mode & 0777), dir);
	return 0;
}

/* Connect to path and hang up: 0 when something listens there, else the
 * errno of socket() or connect() (ECONNREFUSED: a stale socket file). */
static int server_connect_errno(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int saved = rc == 0 ? 0 : errno;
	if (fd >= 0)
		close(fd);
	return saved;
}

/* Probe an existing socket file: a live daemon → error, stale → removed. */
static int server_probe_stale(const char *path, struct proto_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : proto_fail(err, PROTO_ERR_IO, "cannot use %s: %s", path,
						    strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return proto_fail(err, PROTO_ERR_IO, "%s exists and is not a socket: not touching it",
				  path);
	int saved = server_connect_errno(path);
	if (saved == 0)
		return proto_fail(err, PROTO_ERR_BUSY,
				  "a daad is already running on %s (stop it with `daa shutdown`)", path);
	if (saved != ECONNREFUSED && saved != ENOENT)
		return proto_fail(err, PROTO_ERR_IO, "cannot probe %s: %s", path, strerror(saved));
	log_info("removing stale socket %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return proto_fail(err, PROTO_ERR_IO, "cannot remove stale %s: %s", path,
				  strerror(errno));
	return 0;
}


/* Hold <socket>.lock for our lifetime, so two starting daemons cannot race.
 * A daemon killed a moment ago may still have the lock through a kernel it
 * was spawning (the child holds a copy of every fd until it closes them, and
 * dies of its parent-death signal a few ms later): when nothing answers on
 * the socket, wait up to LOCK_WAIT_MS for the lock to be let go. */
#define LOCK_WAIT_MS 3000
static int server_lock(const char *path, struct server_sock *ss, struct proto_err *err)
{
	snprintf(ss->lockpath, sizeof(ss->lockpath), "%s.lock", path);
	ss->lockfd = open(ss->lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ss->lockfd < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot open %s: %s", ss->lockpath,
				  strerror(errno));
	for (int waited = 0; flock(ss->lockfd, LOCK_EX | LOCK_NB) < 0; waited += 20) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return proto_fail(err, PROTO_ERR_IO, "cannot lock %s: %s", ss->lockpath,
					  strerror(errno));
		if (waited >= LOCK_WAIT_MS || server_connect_errno(path) == 0)
			return proto_fail(err, PROTO_ERR_BUSY,
					  "another daad is running or starting on %s (it holds %s)",
					  path, ss->lockpath);
		if (waited == 0)
			log_info("waiting for %s (a daad that just stopped may still hold it)",
				 ss->lockpath);
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
	}
	return 0;
}

/* Check the folder, lock, clear a stale socket, bind and listen on path. */
int server_sock_open(const char *path, struct server_sock *ss, struct proto_err *err)
{
	char dir[108];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || path[0] != '/')
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "socket path %s must be absolute", path);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (server_check_dir(dir, err) < 0 || server_lock(path, ss, err) < 0 ||
	    server_probe_stale(path, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_IO, "socket: %s", strerror(errno));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int saved = errno;
	umask(old);
	if (rc < 0 || listen(fd, SOMAXCONN) < 0) {
		saved = rc < 0 ? saved : errno;
		close(fd);
		return proto_fail(err, PROTO_ERR_IO, "cannot listen on %s: %s", path,
				  strerror(saved));
	}
	ss->lfd = fd;
	return 0;
}

/* The session id of pid, from /proc/<pid>/stat (-1 when unknown). */
static int peer_session(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');   /* the name may hold anything, even ") " */
	int ppid, pgrp, sid;
	char state;
	if (!p || sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4)
		return -1;
	return sid;
}

/* Same user namespace as pid's? (a missing entry counts as different) */
static bool same_userns(int pid, const struct stat *ns)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
	return stat(path, &st) == 0 && st.st_dev == ns->st_dev && st.st_ino == ns->st_ino;
}

/* Does pid's user namespace belong to one of our kernels?  Only asked when
 * it is not the daemon's own (with the mount-namespace layer every kernel
 * has a user namespace of its own: a process that joined it is inside). */
static bool in_kernel_userns(int pid)
{
	char path[64];
	struct stat ns;
	snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
	if (stat(path, &ns) < 0 || same_userns(getpid(), &ns))
		return false;
	json_t *st = kern_status();
	json_t *list = json_object_get(st, "kernels"), *k;
	size_t i;
	bool found = false;
	json_array_foreach(list, i, k) {
		int kpid = (int)json_integer_value(json_object_get(k, "pid"));
		if (kpid > 0 && same_userns(kpid, &ns)) {
			found = true;
			break;
		}
	}
	json_decref(st);
	return found;
}

bool server_peer_is_kernel(int pid)
{
	if (pid <= 0)
		return false;
	if (kern_is_kernel_pid(pid))
		return true;
	/* every kernel leads a session of its own (sbx_spawn's setsid) */
	int sid = peer_session(pid);
	if (sid > 0 && sid != pid && kern_is_kernel_pid(sid))
		return true;
	return in_kernel_userns(pid);
}

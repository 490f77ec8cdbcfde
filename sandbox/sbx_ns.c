/*
 * sandbox/sbx_ns.c — the mount-namespace layer.  sbx_spawn starts the child
 * in new user, mount and IPC namespaces (and pid, when asked: clone flags);
 * the child maps only its own uid/gid and builds a new root before anything
 * else: read-only binds of the system paths Python needs, its private temp
 * dir (read-write), a private /tmp and /dev/shm, a minimal /dev, /proc (one
 * of its own pid namespace, hidepid=2; without pid_ns the host's, read-only),
 * and the project when known (data/ history/ read-only, outputs/ and
 * .daa/cache read-write, nothing else of it) — then pivot_root and the old
 * root dropped.  Whether the machine allows it is probed once per process
 * (sbx_ns_available, sbx_pidns_available).  A warm spare's project is
 * mounted at bind by a helper the child forked before pivoting: it shares
 * the kernel's user namespace (so has CAP_SYS_ADMIN over the kernel's
 * mounts and nowhere else), keeps a mount namespace with the host's view,
 * and on one request from the daemon (sbx_mount_project) clones the
 * project's folders and attaches them inside the kernel's namespace, then
 * exits.  The kernel keeps no capability.
 * Child-side code uses no malloc (the child of a raw clone).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sandbox/sbx_int.h"

#define OLD "/oldroot"
#define NEW "/newroot"

/* The project's folders in the kernel's view. */
static const struct { const char *sub; bool ro, required; } proj_subs[] = {
	{ "data", true, false }, { "history", true, false },
	{ "outputs", false, true }, { ".daa/cache", false, false },
};
#define NSUBS (sizeof proj_subs / sizeof proj_subs[0])

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Map only our own uid and gid (the same numbers inside). */
static int map_ids(uid_t uid, gid_t gid)
{
	char m[64];
	snprintf(m, sizeof m, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", m) < 0)
		return -1;
	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return -1;
	snprintf(m, sizeof m, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_file("/proc/self/gid_map", m);
}

/* a + b into out; -1 (ENAMETOOLONG) when it does not fit. */
static int join(char *out, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(out, len, "%s%s", a, b) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir -p (path is modified and restored). */
static int mkdir_p(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(path, 0755);
		*s = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int set_attr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
	struct mount_attr a = { .attr_set = set, .attr_clr = clr };
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof a);
}

/* A detached copy of the tree at src (read-only when ro; no device files
 * but for the few /dev nodes), or -1. */
static int clone_tree(const char *src, bool ro)
{
	bool dev = strncmp(src, OLD "/dev/", sizeof OLD + 4) == 0;
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, src,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	uint64_t set = MOUNT_ATTR_NOSUID | (dev ? 0 : MOUNT_ATTR_NODEV) | (ro ? MOUNT_ATTR_RDONLY : 0);
	if (fd >= 0 && set_attr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, set, 0) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int attach(int fd, const char *dst)
{
	int rc = (int)syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Bind host path (OLD + path) at the same place in the new root: a symlink
 * is copied as a symlink, a folder or file bound (read-only when ro).
 * A path missing on the host is skipped. */
static int bind_host(const char *path, bool ro)
{
	char src[PATH_MAX], dst[PATH_MAX], link[PATH_MAX];
	struct stat st;
	if (join(src, sizeof src, OLD, path) < 0 || join(dst, sizeof dst, NEW, path) < 0)
		return -1;
	if (lstat(src, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	char *slash = strrchr(dst, '/');
	*slash = '\0';
	int rc = mkdir_p(dst);
	*slash = '/';
	if (rc < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, link, sizeof link - 1);
		if (n < 0)
			return -1;
		link[n] = '\0';
		return symlink(link, dst) < 0 && errno != EEXIST ? -1 : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return -1;
	} else {
		int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
	}
	int fd = clone_tree(src, ro);
	return fd < 0 ? -1 : attach(fd, dst);
}

/* Clone the project's folders (prefix + project/sub) as detached trees. */
static int project_clone(const char *prefix, const char *project, int fds[NSUBS])
{
	char src[PATH_MAX], rel[PATH_MAX];
	for (size_t i = 0; i < NSUBS; i++)
		fds[i] = -1;
	for (size_t i = 0; i < NSUBS; i++) {
		if (join(rel, sizeof rel, project, "/") < 0 ||
		    join(src, sizeof src, prefix, rel) < 0 ||
		    strlen(src) + strlen(proj_subs[i].sub) >= sizeof src)
			return -1;
		strcat(src, proj_subs[i].sub);
		fds[i] = clone_tree(src, proj_subs[i].ro);
		if (fds[i] < 0 && (proj_subs[i].required || errno != ENOENT))
			return -1;
	}
	return 0;
}

static void close_all(int fds[NSUBS])
{
	for (size_t i = 0; i < NSUBS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The project in the new root (prefix + project): a small tmpfs of its own
 * holding only the mounted folders.  Left writable: it is private (nothing
 * written there reaches the host, it goes with the kernel), and Landlock
 * refuses it anyway, with EACCES (callers expect PermissionError, not EROFS). */
static int project_attach(const char *prefix, const char *project, int fds[NSUBS])
{
	char dst[PATH_MAX], sub[PATH_MAX];
	if (join(dst, sizeof dst, prefix, project) < 0 || mkdir_p(dst) < 0 ||
	    mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return -1;
	for (size_t i = 0; i < NSUBS; i++) {
		if (fds[i] < 0)
			continue;
		if (join(sub, sizeof sub, dst, "/") < 0 || strlen(sub) + strlen(proj_subs[i].sub) >= sizeof sub)
			return -1;
		strcat(sub, proj_subs[i].sub);
		if (mkdir_p(sub) < 0 || attach(fds[i], sub) < 0)
			return -1;
		fds[i] = -1;
	}
	return 0;
}

/* /dev: null, zero, random, urandom, a private shm, the fd links. */
static int make_dev(unsigned long shm_mb)
{
	static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random" };
	char opt[64];
	if (mkdir(NEW "/dev", 0755) < 0 ||
	    mount("tmpfs", NEW "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return -1;
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
		if (bind_host(devs[i], false) < 0)
			return -1;
	snprintf(opt, sizeof opt, "mode=0700,size=%lum", shm_mb ? shm_mb : 1024);
	if (mkdir(NEW "/dev/shm", 0700) < 0 ||
	    mount("tmpfs", NEW "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opt) < 0)
		return -1;
	if (symlink("/proc/self/fd", NEW "/dev/fd") < 0 || symlink("/proc/self/fd/0", NEW "/dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", NEW "/dev/stdout") < 0 || symlink("/proc/self/fd/2", NEW "/dev/stderr") < 0)
		return -1;
	return set_attr(AT_FDCWD, NEW "/dev", 0, MOUNT_ATTR_RDONLY, 0);
}

/* Close every fd but the ones in keep (n of them). */
static void close_others(const int *keep, int n)
{
	for (int fd = 3, hi; fd >= 0;) {
		hi = -1;
		for (int i = 0; i < n; i++)
			if (keep[i] >= fd && (hi < 0 || keep[i] < hi))
				hi = keep[i];
		syscall(SYS_close_range, (unsigned)fd, hi < 0 ? ~0U : (unsigned)hi - 1, 0);
		fd = hi < 0 ? -1 : hi + 1;
	}
}

/* The request may come the moment the kernel is spawned (the daemon binds a
 * spare that is still starting): entering its namespace mid-pivot would
 * mount into the old root.  The kernel writes one byte once its root is
 * final (sbx_ns_setup); EOF means it died first. */
static int wait_root_done(int fd, char *c)
{
	ssize_t n;
	while ((n = read(fd, c, 1)) < 0 && errno == EINTR)
		;
	if (n == 1)
		return 0;
	if (n == 0)
		errno = ECHILD;
	return -1;
}

/* The helper's one job: mount the project named on ctl inside the kernel's
 * mount namespace (m2), from its own host-view namespace.  Replies "ok" or
 * the error, then exits: nothing capable stays next to the kernel. */
static void helper_serve(int ctl, int m2, int root_done)
{
	char project[PATH_MAX], reply[PATH_MAX + 64], done;
	const char *step = "reading the request";
	int fds[NSUBS] = { -1, -1, -1, -1 };
	ssize_t n = recv(ctl, project, sizeof project - 1, 0);
	if (n <= 0)
		_exit(0);
	project[n] = '\0';
	errno = EINVAL;
	if (project[0] != '/' || strlen(project) < 2 || strstr(project, "/../") ||
	    strstr(project, "/./"))
		step = "the project path must be absolute and canonical";
	else if (step = "waiting for the kernel's new root", wait_root_done(root_done, &done) < 0)
		;
	else if (step = "cloning the project's folders", project_clone("", project, fds) < 0)
		;
	else if (step = "entering the kernel's mount namespace", setns(m2, CLONE_NEWNS) < 0)
		;
	else if (step = "opening the kernel's root", set_attr(AT_FDCWD, "/", 0, 0, MOUNT_ATTR_RDONLY) < 0)
		;
	else if (step = "mounting the project", project_attach("", project, fds) < 0)
		;
	else if (step = "closing the kernel's root", set_attr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY, 0) < 0)
		;
	else
		step = NULL;
	if (step)
		snprintf(reply, sizeof reply, "%s: %s", step, strerror(errno));
	else
		snprintf(reply, sizeof reply, "ok");
	close_all(fds);
	if (send(ctl, reply, strlen(reply), MSG_NOSIGNAL) < 0)
		_exit(1);
	_exit(step ? 1 : 0);
}

/* The kernel's end of the helper's "root is final" pipe (-1: no helper). */
static int root_done_fd = -1;

/* Fork the helper (before the kernel leaves the host's view): it keeps a
 * mount namespace of its own with that view.  Returns once it has one. */
static int start_helper(int ctl)
{
	int ready[2], done[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
		return -1;
	pid_t h = fork();
	if (h < 0)
		return -1;
	if (h == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		int m2 = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
		int keep[] = { ctl, ready[1], m2, done[0] };
		close_others(keep, 4);
		/* the daemon's environment copy (API keys) is no business of ours */
		extern char **environ;
		for (char **e = environ; e && *e; e++)
			memset(*e, 0, strlen(*e));
		if (m2 < 0 || unshare(CLONE_NEWNS) < 0 || write(ready[1], "1", 1) != 1)
			_exit(1);
		close(ready[1]);
		helper_serve(ctl, m2, done[0]);
	}
	close(ready[1]);
	close(done[0]);
	root_done_fd = done[1];
	char c;
	ssize_t n = read(ready[0], &c, 1);
	close(ready[0]);
	if (n != 1) {
		errno = ECHILD;
		return -1;
	}
	return 0;
}

/* The first steps common to the child and the probe: ids, private mounts,
 * the base tmpfs and the first pivot (the old root at /oldroot). */
static const char *ns_base(uid_t uid, gid_t gid, int ctl, bool pid_ns)
{
	if (map_ids(uid, gid) < 0)
		return "writing the user namespace's id maps";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return "making the mounts private";
	if (ctl >= 0 && start_helper(ctl) < 0)
		return "starting the mount helper";
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k") < 0)
		return "mounting the base tmpfs";
	if (mkdir("/tmp" NEW, 0755) < 0 || mkdir("/tmp" OLD, 0755) < 0)
		return "making the new root";
	if (syscall(SYS_pivot_root, "/tmp", "/tmp" OLD) < 0 || chdir("/") < 0)
		return "pivot_root (1)";
	/* noatime: the mount helper makes this root writable for a moment to
	 * mount a project, then read-only again, which fails (EBUSY) while any
	 * write is under way on it; following a symlink here (/lib64, /bin)
	 * was one, an atime update, when the kernel exec'd in that moment */
	if (mount("tmpfs", NEW, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOATIME, "mode=0755,size=1m") < 0)
		return "mounting the new root";
	if (!pid_ns)
		return bind_host("/proc", true) < 0 ? "binding /proc" : NULL;
	if (mkdir(NEW "/proc", 0555) < 0 ||
	    mount("proc", NEW "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0)
		return "mounting /proc of the pid namespace";
	return NULL;
}

/* The last steps: pivot into the new root, drop the old one, root read-only. */
static const char *ns_finish(void)
{
	if (chdir(NEW) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return "pivot_root (2)";
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return "dropping the old root";
	if (set_attr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY, 0) < 0)
		return "making the root read-only";
	return NULL;
}

/* In the child, first thing in the new namespaces.  NULL, or the failing
 * step (errno set).  ctl >= 0: start the helper for a later project. */
const char *sbx_ns_setup(const struct sbx_policy *p, int ctl)
{
	const char *step = ns_base(p->ns_uid, p->ns_gid, ctl, p->ns_pid);
	if (step)
		return step;
	if (mkdir(NEW "/tmp", 0700) < 0 ||
	    mount("tmpfs", NEW "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=16m") < 0)
		return "mounting a private /tmp";
	if (make_dev(p->ns_shm_mb) < 0)
		return "making /dev";
	for (size_t i = 0; p->ns_ro[i]; i++)
		if (bind_host(p->ns_ro[i], true) < 0)
			return "binding the system paths";
	if (p->tmp && bind_host(p->tmp, false) < 0)
		return "binding the temp dir";
	if (p->project) {
		int fds[NSUBS];
		if (project_clone(OLD, p->project, fds) < 0 || project_attach(NEW, p->project, fds) < 0) {
			int saved = errno;
			close_all(fds);
			errno = saved;
			return "mounting the project";
		}
	}
	step = ns_finish();
	if (!step && root_done_fd >= 0) {
		if (write(root_done_fd, "1", 1) != 1)
			step = "telling the mount helper the root is final";
		close(root_done_fd);
		root_done_fd = -1;
	}
	return step;
}

/* Try the namespaces and the new root once, in a short-lived child (with a
 * pid namespace and a /proc of its own when pid_ns).  1 when it worked, else
 * 0 with why filled. */
static int ns_try(bool pid_ns, char *why, size_t len)
{
	int pfd[2], ok = 0;
	snprintf(why, len, "unknown");
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return 0;
	}
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid = (pid_t)syscall(SYS_clone, SBX_NS_FLAGS | (pid_ns ? CLONE_NEWPID : 0) | SIGCHLD,
				   0, 0, 0, 0);
	if (pid == 0) {
		close(pfd[0]);
		const char *step = ns_base(uid, gid, -1, pid_ns);
		if (!step)
			step = ns_finish();
		if (step) {
			char msg[160];
			snprintf(msg, sizeof msg, "%s: %s", step, strerror(errno));
			if (write(pfd[1], msg, strlen(msg)) < 0)
				_exit(2);
		}
		_exit(step ? 1 : 0);
	}
	close(pfd[1]);
	if (pid < 0) {
		snprintf(why, len, "cannot create %s namespaces: %s", pid_ns ? "pid" : "user",
			 strerror(errno));
	} else {
		int st = 0;
		ssize_t n = read(pfd[0], why, len - 1);
		why[n > 0 ? n : 0] = '\0';
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!ok && !why[0])
			snprintf(why, len, "the probe failed (status %d)", st);
	}
	close(pfd[0]);
	return ok;
}

/* Can this machine give a kernel its namespaces and new root?  Tried once
 * per process; why says what failed. */
bool sbx_ns_available(char *why, size_t len)
{
	static int cached = -1;
	static char cached_why[200];
	if (cached < 0)
		cached = ns_try(false, cached_why, sizeof cached_why);
	if (why && len)
		snprintf(why, len, "%s", cached ? "available" : cached_why);
	return cached == 1;
}

/* And a pid namespace with a /proc of its own on top (a proc mount may be
 * refused where the host's /proc is partly masked, as in some containers)? */
bool sbx_pidns_available(char *why, size_t len)
{
	static int cached = -1;
	static char cached_why[200];
	if (cached < 0)
		cached = ns_try(true, cached_why, sizeof cached_why);
	if (why && len)
		snprintf(why, len, "%s", cached ? "available" : cached_why);
	return cached == 1;
}

/* In the daemon at bind: ask the spare's helper to mount project. */
int sbx_mount_project(int fd, const char *project, char *err, size_t errlen)
{
	char reply[PATH_MAX + 64];
	if (fd < 0) {
		snprintf(err, errlen, "mount namespace: this kernel has no mount helper");
		return -1;
	}
	if (send(fd, project, strlen(project), MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "mount namespace: the helper is gone (%s)", strerror(errno));
		return -1;
	}
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	int rc;
	while ((rc = poll(&pf, 1, 10000)) < 0 && errno == EINTR)
		;
	ssize_t n = rc > 0 ? recv(fd, reply, sizeof reply - 1, MSG_DONTWAIT) : -1;
	if (n <= 0) {
		snprintf(err, errlen, "mount namespace: the helper did not answer");
		return -1;
	}
	reply[n] = '\0';
	if (strcmp(reply, "ok") != 0) {
		snprintf(err, errlen, "mount namespace: cannot mount the project: %s", reply);
		return -1;
	}
	return 0;
}

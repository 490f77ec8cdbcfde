/*
 * sandbox/sbx_landlock.c — builds the Landlock ruleset for a policy (in the
 * parent, before fork): read-only system paths Python needs, read-only
 * data/ and history/ of the project, read-write outputs/ and the private
 * temp dir, nothing else; TCP bind/connect denied (ABI >= 4) — but for
 * connect() to the one port of a configured Dask scheduler; abstract Unix
 * sockets and signals scoped to the sandbox (ABI >= 6).  The child only
 * calls landlock_restrict_self() on the returned fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sandbox/landlock_compat.h"
#include "sandbox/sbx_int.h"

#define RO_SYS (SBX_LL_FS_EXECUTE | SBX_LL_FS_READ_FILE | SBX_LL_FS_READ_DIR)
#define RO_DATA (SBX_LL_FS_READ_FILE | SBX_LL_FS_READ_DIR)
#define RW_DIR (SBX_LL_FS_READ_FILE | SBX_LL_FS_READ_DIR | SBX_LL_FS_WRITE_FILE | \
		SBX_LL_FS_REMOVE_DIR | SBX_LL_FS_REMOVE_FILE | SBX_LL_FS_MAKE_DIR | \
		SBX_LL_FS_MAKE_REG | SBX_LL_FS_REFER | SBX_LL_FS_TRUNCATE)
#define FILE_RIGHTS (SBX_LL_FS_EXECUTE | SBX_LL_FS_WRITE_FILE | SBX_LL_FS_READ_FILE | \
		     SBX_LL_FS_TRUNCATE | SBX_LL_FS_IOCTL_DEV)

/* Read-only system paths (missing ones are skipped).  /etc is selective so
 * that secrets there (shadow, ssh keys, tokens) stay out even for root. */
static const char *const sys_ro[] = {
	"/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin",
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/localtime", "/etc/timezone", "/etc/python3", "/etc/matplotlibrc",
	"/etc/fonts", "/etc/alternatives", "/etc/passwd", "/etc/group",
	"/etc/nsswitch.conf", "/etc/mime.types", "/etc/locale.alias",
	"/var/cache/fontconfig",
	/* /proc: other processes' environ/mem/fd stay closed because Landlock
	 * denies ptrace-mode access to processes outside the domain. */
	"/proc", "/sys/devices/system/cpu", "/sys/fs/cgroup",
	/* glibc's malloc reads whether THP is on here (GLIBC_TUNABLES
	 * glibc.malloc.hugetlb=1, set by daad for kernels) */
	"/sys/kernel/mm/transparent_hugepage",
	"/dev/zero", "/dev/urandom", "/dev/random",
	NULL
};

/* The Landlock ABI of the running kernel, 0 when absent or disabled. */
int sbx_ll_abi(void)
{
	int abi = sbx_ll_create_ruleset(NULL, 0, SBX_LL_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : abi;
}

/* The read-only system paths (the mount namespace binds them too). */
const char *const *sbx_ll_sys_paths(void)
{
	return sys_ro;
}

/* Every filesystem right this ABI knows. */
static uint64_t fs_handled(int abi)
{
	uint64_t h = (SBX_LL_FS_MAKE_SYM << 1) - 1;   /* ABI 1 */
	if (abi >= 2)
		h |= SBX_LL_FS_REFER;
	if (abi >= 3)
		h |= SBX_LL_FS_TRUNCATE;
	if (abi >= 5)
		h |= SBX_LL_FS_IOCTL_DEV;
	return h;
}

/* Flags for landlock_restrict_self(): all threads when the kernel can
 * (ABI 8), and denials logged also after execve (ABI 7). */
uint32_t sbx_ll_restrict_flags(int abi)
{
	uint32_t f = 0;
	if (abi >= 7)
		f |= SBX_LL_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	if (abi >= 8)
		f |= SBX_LL_RESTRICT_SELF_TSYNC;
	return f;
}

/* Add one path rule; a missing path is skipped unless required. */
static int add_path(int fd, const char *path, uint64_t rights, uint64_t handled,
		    bool required, char *err, size_t errlen)
{
	int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		if (!required && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
			return 0;
		snprintf(err, errlen, "landlock: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(pfd, &st) == 0 && !S_ISDIR(st.st_mode))
		rights &= FILE_RIGHTS;
	struct sbx_ll_path_beneath_attr pb = { .allowed_access = rights & handled,
					       .parent_fd = pfd };
	int rc = sbx_ll_add_rule(fd, SBX_LL_RULE_PATH_BENEATH, &pb, 0);
	int saved = errno;
	close(pfd);
	if (rc < 0) {
		snprintf(err, errlen, "landlock: cannot add a rule for %s: %s", path,
			 strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

/* /etc/python3.* (versioned config dirs). */
static int add_glob(int fd, const char *pattern, uint64_t handled, char *err, size_t errlen)
{
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	int rc = 0;
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = add_path(fd, g.gl_pathv[i], RO_SYS, handled, false, err, errlen);
	globfree(&g);
	return rc;
}

/* Project folders: data/ and history/ read-only, outputs/ read-write, and
 * .daa/cache/ read-write when it exists (the loaded-dataset cache of the
 * kernel runtime, daemon/history/history.c; nothing else of .daa/). */
static int add_project(int fd, const char *project, uint64_t handled, char *err, size_t errlen)
{
	static const struct { const char *sub; uint64_t rights; bool required; } dirs[] = {
		{ "data", RO_DATA, false }, { "history", RO_DATA, false },
		{ "outputs", RW_DIR, true }, { ".daa/cache", RW_DIR, false },
	};
	char path[4096];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if ((size_t)snprintf(path, sizeof path, "%s/%s", project, dirs[i].sub) >= sizeof path) {
			snprintf(err, errlen, "landlock: project path too long");
			return -1;
		}
		if (add_path(fd, path, dirs[i].rights, handled, dirs[i].required, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* All filesystem rules of a spec. */
static int add_fs_rules(int fd, const struct sbx_ll_spec *s, uint64_t handled,
			char *err, size_t errlen)
{
	for (size_t i = 0; sys_ro[i]; i++)
		if (add_path(fd, sys_ro[i], RO_SYS, handled, false, err, errlen) < 0)
			return -1;
	if (add_glob(fd, "/etc/python3.*", handled, err, errlen) < 0)
		return -1;
	if (add_path(fd, "/dev/null", SBX_LL_FS_READ_FILE | SBX_LL_FS_WRITE_FILE |
		     SBX_LL_FS_IOCTL_DEV, handled, false, err, errlen) < 0)
		return -1;
	/* POSIX shm and named semaphores (multiprocessing.SemLock): only when
	 * /dev/shm is the private tmpfs of the mount namespace.  The host's
	 * /dev/shm is shared with every process of the machine and its files
	 * outlive the kernel, so without the namespace it stays closed (sklearn
	 * n_jobs does not need it: the daemon sets JOBLIB_MULTIPROCESSING=0). */
	if (s->private_shm &&
	    add_path(fd, "/dev/shm", SBX_LL_FS_READ_FILE | SBX_LL_FS_WRITE_FILE |
		     SBX_LL_FS_MAKE_REG | SBX_LL_FS_REMOVE_FILE | SBX_LL_FS_TRUNCATE,
		     handled, false, err, errlen) < 0)
		return -1;
	for (size_t i = 0; s->extra_ro && s->extra_ro[i]; i++)
		if (add_path(fd, s->extra_ro[i], RO_SYS, handled, true, err, errlen) < 0)
			return -1;
	if (s->tmp && add_path(fd, s->tmp, RW_DIR, handled, true, err, errlen) < 0)
		return -1;
	if (s->project && add_project(fd, s->project, handled, err, errlen) < 0)
		return -1;
	return 0;
}

/* The one TCP port connect() may reach (a Dask scheduler); bind stays denied. */
static int add_connect_port(int fd, unsigned short port, char *err, size_t errlen)
{
	struct sbx_ll_net_port_attr np = { .allowed_access = SBX_LL_NET_CONNECT_TCP, .port = port };
	if (sbx_ll_add_rule(fd, SBX_LL_RULE_NET_PORT, &np, 0) < 0) {
		int saved = errno;
		snprintf(err, errlen, "landlock: cannot allow TCP connect to port %u: %s", port,
			 strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

/* Create the ruleset (O_CLOEXEC fd) for spec s under the given ABI; -1 with
 * err filled.  Without fs rules (warm spare) only net and scopes are
 * handled, which needs ABI >= 4 (earlier ABIs: returns -1, errno ENOTSUP). */
int sbx_ll_ruleset(const struct sbx_ll_spec *s, int abi, char *err, size_t errlen)
{
	struct sbx_ll_ruleset_attr a = { 0 };
	size_t size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
	if (s->fs)
		a.handled_access_fs = fs_handled(abi);
	if (abi >= 4)
		a.handled_access_net = SBX_LL_NET_BIND_TCP | SBX_LL_NET_CONNECT_TCP;
	if (abi >= 6)
		a.scoped = SBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET | SBX_LL_SCOPE_SIGNAL;
	if (!a.handled_access_fs && !a.handled_access_net) {
		snprintf(err, errlen, "landlock: ABI %d cannot restrict without filesystem rules", abi);
		errno = ENOTSUP;
		return -1;
	}
	int fd = sbx_ll_create_ruleset(&a, size, 0);
	if (fd < 0) {
		int saved = errno;
		snprintf(err, errlen, "landlock: create_ruleset failed: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if ((s->fs && add_fs_rules(fd, s, a.handled_access_fs, err, errlen) < 0) ||
	    (abi >= 4 && s->connect_port && add_connect_port(fd, s->connect_port, err, errlen) < 0)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* One-line description of what a ruleset under this ABI enforces. */
const char *sbx_ll_summary(int abi, bool fs, unsigned short port, char *buf, size_t len)
{
	char net[96];
	if (abi >= 4 && port)
		snprintf(net, sizeof net, ", TCP bind denied, connect only to port %u", port);
	snprintf(buf, len, "ABI %d: %s%s%s%s", abi,
		 fs ? "filesystem" : "filesystem deferred to sbx_seal",
		 abi >= 4 && port ? net : abi >= 4 ? ", TCP bind/connect denied" : ", TCP not restricted (ABI < 4)",
		 abi >= 6 ? ", signals and abstract sockets scoped" : "",
		 abi >= 8 ? ", all threads" : "");
	return buf;
}

/* In a child that built its new root after the ruleset was compiled on the
 * host's inodes: the namespace's own /proc (read) and private /dev/shm.
 * Async-signal-safe. */
int sbx_ll_add_ns_rules(int fd, int abi)
{
	char err[8];
	uint64_t h = fs_handled(abi);
	if (add_path(fd, "/proc", RO_SYS, h, false, err, sizeof err) < 0)
		return -1;
	return add_path(fd, "/dev/shm", SBX_LL_FS_READ_FILE | SBX_LL_FS_WRITE_FILE |
			SBX_LL_FS_MAKE_REG | SBX_LL_FS_REMOVE_FILE | SBX_LL_FS_TRUNCATE,
			h, false, err, sizeof err);
}

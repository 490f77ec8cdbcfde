/*
 * sandbox/landlock_compat.h — Landlock UAPI pieces newer than Debian 12's
 * headers (which stop at ABI 2), with our own struct names so they never
 * clash with a newer <linux/landlock.h>, and raw syscall wrappers (glibc has
 * none).  Values are the kernel's (include/uapi/linux/landlock.h).
 */
#ifndef DAA_SBX_LANDLOCK_COMPAT_H
#define DAA_SBX_LANDLOCK_COMPAT_H

#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

/* landlock_create_ruleset() flags */
#define SBX_LL_CREATE_RULESET_VERSION (1U << 0)

/* Rule types */
#define SBX_LL_RULE_PATH_BENEATH 1
#define SBX_LL_RULE_NET_PORT 2     /* ABI 4 */

/* Filesystem rights */
#define SBX_LL_FS_EXECUTE     (1ULL << 0)
#define SBX_LL_FS_WRITE_FILE  (1ULL << 1)
#define SBX_LL_FS_READ_FILE   (1ULL << 2)
#define SBX_LL_FS_READ_DIR    (1ULL << 3)
#define SBX_LL_FS_REMOVE_DIR  (1ULL << 4)
#define SBX_LL_FS_REMOVE_FILE (1ULL << 5)
#define SBX_LL_FS_MAKE_CHAR   (1ULL << 6)
#define SBX_LL_FS_MAKE_DIR    (1ULL << 7)
#define SBX_LL_FS_MAKE_REG    (1ULL << 8)
#define SBX_LL_FS_MAKE_SOCK   (1ULL << 9)
#define SBX_LL_FS_MAKE_FIFO   (1ULL << 10)
#define SBX_LL_FS_MAKE_BLOCK  (1ULL << 11)
#define SBX_LL_FS_MAKE_SYM    (1ULL << 12)
#define SBX_LL_FS_REFER       (1ULL << 13)  /* ABI 2 */
#define SBX_LL_FS_TRUNCATE    (1ULL << 14)  /* ABI 3 */
#define SBX_LL_FS_IOCTL_DEV   (1ULL << 15)  /* ABI 5 */

/* Network rights (ABI 4) */
#define SBX_LL_NET_BIND_TCP    (1ULL << 0)
#define SBX_LL_NET_CONNECT_TCP (1ULL << 1)

/* Scopes (ABI 6) */
#define SBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SBX_LL_SCOPE_SIGNAL               (1ULL << 1)

/* landlock_restrict_self() flags */
#define SBX_LL_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)  /* ABI 7 */
#define SBX_LL_RESTRICT_SELF_LOG_NEW_EXEC_ON   (1U << 1)  /* ABI 7 */
#define SBX_LL_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2) /* ABI 7 */
#define SBX_LL_RESTRICT_SELF_TSYNC             (1U << 3)  /* ABI 8 */

/* struct landlock_ruleset_attr as of ABI 6 (size tells the kernel which
 * fields we know: 8 bytes for ABI 1-3, 16 for ABI 4-5, 24 from ABI 6). */
struct sbx_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct sbx_ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct sbx_ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

static inline int sbx_ll_create_ruleset(const struct sbx_ll_ruleset_attr *a, size_t size,
					uint32_t flags)
{
	return (int)syscall(SYS_landlock_create_ruleset, a, size, flags);
}

static inline int sbx_ll_add_rule(int fd, int type, const void *attr, uint32_t flags)
{
	return (int)syscall(SYS_landlock_add_rule, fd, type, attr, flags);
}

static inline int sbx_ll_restrict_self(int fd, uint32_t flags)
{
	return (int)syscall(SYS_landlock_restrict_self, fd, flags);
}

#endif

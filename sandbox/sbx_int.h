/*
 * sandbox/sbx_int.h — internals shared by the sandbox library's files: the
 * compiled policy and the per-layer builders (Landlock, seccomp).  Not part
 * of the API; only the sandbox sources include it.
 */
#ifndef DAA_SBX_INT_H
#define DAA_SBX_INT_H

#include <linux/filter.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include "sandbox/sbx.h"

#define SBX_MAX_RLIMITS 8
#define SBX_MAX_KEEP_FDS 64
#define SBX_ENV_EXTRA_RO "DAA_SBX_EXTRA_RO"
#define SBX_ENV_ALLOW_MISSING "DAA_SBX_ALLOW_MISSING"
#define SBX_ENV_PRIVATE_SHM "DAA_SBX_PRIVATE_SHM"
/* set by the kernel runtime before sbx_seal (from its bind request) */
#define SBX_ENV_CONNECT_PORT "DAA_SBX_CONNECT_PORT"
#define SBX_NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC)

struct sbx_policy {
	char *project, *tmp;
	char **extra_ro;          /* owned, NULL-terminated */
	bool allow_missing;
	unsigned short connect_port;  /* 0, or the one TCP port connect() may reach */
	/* Landlock: ruleset compiled in the parent, restrict_self in the child */
	int ll_abi;               /* 0: none */
	int ll_fd;                /* -1: nothing to apply */
	uint32_t ll_flags;
	/* seccomp stage 1, as BPF exported by libseccomp in the parent */
	struct sock_filter *sc_prog;
	unsigned short sc_len;
	/* capabilities */
	bool caps_drop;           /* false only when disabled for a test */
	bool caps_bound;          /* we may (and must) empty the bounding set */
	cap_t caps_empty;
	/* rlimits */
	int nrl;
	int rl_res[SBX_MAX_RLIMITS];
	struct rlimit rl[SBX_MAX_RLIMITS];
	/* the mount-namespace layer */
	bool ns_on;
	bool ns_pid;              /* also a pid namespace (own /proc) */
	char **ns_ro;             /* host paths bound read-only (owned, NULL-terminated) */
	uid_t ns_uid;
	gid_t ns_gid;
	unsigned long ns_shm_mb;  /* size of the private /dev/shm */
	/* a required layer that is missing: the child exits with fail_code */
	int fail_code;
	char fail_why[256];
	char report[1536];
};

/* What the policy asks of Landlock. */
struct sbx_ll_spec {
	const char *project, *tmp;
	char *const *extra_ro;
	bool fs;                  /* filesystem rules (else only net + scopes) */
	bool private_shm;         /* /dev/shm is the mount namespace's own tmpfs */
	unsigned short connect_port; /* 0, or the one TCP port connect() may reach (ABI >= 4) */
};

/* sbx_landlock.c */
int sbx_ll_abi(void);
int sbx_ll_ruleset(const struct sbx_ll_spec *s, int abi, char *err, size_t errlen);
uint32_t sbx_ll_restrict_flags(int abi);
const char *sbx_ll_summary(int abi, bool fs, unsigned short port, char *buf, size_t len);
const char *const *sbx_ll_sys_paths(void);
int sbx_ll_add_ns_rules(int fd, int abi);

/* sbx_ns.c */
const char *sbx_ns_setup(const struct sbx_policy *p, int ctl);
bool sbx_ns_available(char *why, size_t len);
/* The same with a pid namespace and its own /proc (sbx_options.pid_ns). */
bool sbx_pidns_available(char *why, size_t len);

/* sbx_seccomp.c */
int sbx_sc_compile(struct sock_filter **prog, unsigned short *len, bool tcp_client,
		   char *err, size_t errlen);
int sbx_sc_seal(char *err, size_t errlen);
int sbx_sc_stage1_late(bool tcp_client, char *err, size_t errlen);
unsigned short sbx_connect_port_env(void);
size_t sbx_sc_signal_filter(pid_t self, struct sock_filter *buf, size_t cap);
bool sbx_sc_available(void);

/* sbx_policy.c */
void sbx_append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

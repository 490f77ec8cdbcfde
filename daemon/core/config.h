/*
 * daemon/core/config.h — the daemon's configuration: $XDG_CONFIG_HOME/daa/config.json
 * (every key optional), then environment overrides, then command-line options.
 * Loaded once at start-up; config_get() hands out a read-only view.
 *
 * config.json keys (all optional):
 *   "socket": path                 (env DAA_SOCKET; option --socket)
 *   "data_dir": folder of projects (default $XDG_DATA_HOME/daa/projects)
 *   "default_project": name        (default "default"; env DAA_PROJECT)
 *   "python": interpreter          (default /usr/bin/python3; env DAA_PYTHON)
 *   "log_level": error|warn|info|debug           (option --log-level)
 *   "max_message": bytes           (default 64 MiB; option --max-message)
 *   "max_depth": nesting cap       (default 32)
 *   "max_clients": connection cap  (default 1024, lowered to fit RLIMIT_NOFILE)
 *   "max_queued": bytes queued per client before it is dropped (default 8 MiB)
 *   "share_dir": the share/daa folder (prompts/, runtime/, analyst/)
 *   "llm": {...}     passed to llm_config_from_json (DAA_LLM_* applied there)
 *   "sandbox": {...} "kernel": {...}  for the kernel manager, "agent": {...}
 *   (the keys above and those of llm/sandbox/kernel/agent, types and
 *   ranges: the table in daemon/core/config_check.c; a wrong one stops the
 *   daemon with the key named, an unknown one is warned)
 *   "compute": {"dask_scheduler": "tcp://HOST:PORT" (a dask.distributed
 *              scheduler the kernels may connect to, and nothing else),
 *              "memory_budget_mb": N (default: half the kernel's memory limit),
 *              "expansion_factor": X (default 5), "out_of_core": true}
 *              — datasets whose file size x factor exceeds the budget are
 *              Dask DataFrames in the kernel (sandbox/KERNEL.md)
 */
#ifndef DAA_CONFIG_H
#define DAA_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "daemon/core/log.h"
#include "protocol/proto.h"

#define DAA_VERSION "0.1.0"

/* The "compute" section, checked at load. */
struct daa_compute {
	char scheduler[300];      /* as configured, "tcp://HOST:PORT"; "" when none */
	char host[256];           /* HOST without brackets */
	unsigned short port;      /* 0 when no scheduler */
	char resolved[300];       /* tcp://ADDRESS:PORT (numeric), "" when HOST did not resolve */
	long long memory_budget_mb; /* 0: half the kernel's memory limit */
	double expansion_factor;  /* 0: the kernel's default (5) */
	bool out_of_core;         /* false: every dataset is read whole with pandas */
};

struct daa_config {
	char socket_path[108];    /* the listening socket (sun_path sized) */
	char *config_file;        /* the file read (may not exist) */
	char *data_dir;           /* default root of projects */
	char *default_project;    /* "default" unless configured */
	char *python;             /* for kernels and the builtin analyst */
	enum log_level log_level;
	size_t max_message;
	int max_depth;
	int max_clients;
	size_t max_queued;
	char *share_dir;          /* install: <bin>/../share/daa; source tree: DAA_ROOT */
	char *prompts_dir;        /* <share>/prompts, or <src>/prompts */
	char *runtime_dir;        /* python kernel runtime: <share>/runtime, or <src>/sandbox/python */
	char *analyst_dir;        /* builtin analyst: <share>/analyst, or <src>/daemon/analyst */
	char *sandbox_lib;        /* libdaasbx.so: <prefix>/lib/daa/, or <build>/lib/ (may not exist) */
	json_t *root;             /* the whole file as read ({} when absent) */
	const json_t *llm;        /* root["llm"] or NULL (borrowed from root) */
	const json_t *sandbox;    /* root["sandbox"] or NULL */
	const json_t *kernel;     /* root["kernel"] or NULL */
	struct daa_compute compute;
};

/* Command-line overrides (NULL / 0: not given). */
struct config_cli {
	const char *socket;
	const char *log_level;
	size_t max_message;
	const char *config_file;
};

/* Load file + env + cli.  0, or -1 with err naming the bad key or file. */
int config_load(const struct config_cli *cli, struct proto_err *err);
/* The loaded configuration (valid after config_load until config_free). */
const struct daa_config *config_get(void);
void config_free(void);

/* Helpers over a section: typed lookups with defaults (for kern/agent). */
const char *config_str(const json_t *section, const char *key, const char *dflt);
long long config_int(const json_t *section, const char *key, long long dflt);
bool config_bool(const json_t *section, const char *key, bool dflt);

/* The top-level keys and the "llm", "kernel", "sandbox" and "agent"
 * sections against their keys' types and ranges (the table in
 * daemon/core/config_check.c; unknown keys warned): 0, or -1 with err naming the
 * key.  config_check_section: one section (sec NULL: absent, fine; file
 * NULL: "config.json" in messages and unknown keys not warned about, for a
 * second look at a section config_load checked already). */
int config_check_sections(const char *file, const json_t *root, struct proto_err *err);
int config_check_section(const char *file, const char *section, const json_t *sec,
			 struct proto_err *err);

/* The settings the kernel's bind request carries as `compute` (and daa's
 * export writes as COMPUTE): {memory_budget_mb, expansion_factor?,
 * out_of_core, dask_scheduler?}.  for_kernel: the scheduler as resolved
 * (the sandbox cannot read /etc/hosts), else as configured.  New reference. */
json_t *config_compute_json(bool for_kernel);
/* Resolve compute.dask_scheduler's HOST (once; a blocking lookup, made
 * when the kernel manager starts). */
void config_compute_resolve(void);

#endif

/*
 * daemon/core/config.c — loading the configuration (daemon/core/config.h): defaults,
 * then $XDG_CONFIG_HOME/daa/config.json, then the environment, then the
 * command line.  Every error names the key or file and says what is expected.
 * The share folders are found relative to the daemon's own binary, so an
 * installed daad and one run from build/bin both find their files.
 */
#include "daemon/core/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon/core/fsutil.h"

static struct daa_config cfg;
static bool cfg_loaded;

/* The loaded configuration. */
const struct daa_config *config_get(void)
{
	return &cfg;
}

/* Typed lookup: string, or dflt. */
const char *config_str(const json_t *section, const char *key, const char *dflt)
{
	const json_t *v = section ? json_object_get(section, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* Typed lookup: integer, or dflt. */
long long config_int(const json_t *section, const char *key, long long dflt)
{
	const json_t *v = section ? json_object_get(section, key) : NULL;
	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* Typed lookup: boolean, or dflt. */
bool config_bool(const json_t *section, const char *key, bool dflt)
{
	const json_t *v = section ? json_object_get(section, key) : NULL;
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* "error|warn|info|debug" → level, -1 when unknown. */
static int config_parse_level(const char *s)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}


/* A string key of the file into *dst (kept when absent; its type was
 * checked by config_check_sections). */
static void config_take_str(const char *key, char **dst)
{
	const char *v = config_str(cfg.root, key, NULL);
	if (!v)
		return;
	free(*dst);
	*dst = strdup(v);
}

/* Read config.json (absent → {}). */
static int config_read_file(const char *path, struct proto_err *err)
{
	cfg.config_file = strdup(path);
	struct stat st;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		cfg.root = json_object();
		return 0;
	}
	json_error_t je;
	cfg.root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!cfg.root)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s:%d:%d: %s", path, je.line,
				  je.column, je.text);
	if (!json_is_object(cfg.root))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: the top level must be an object {...}",
				  path);
	return 0;
}

/* Does path exist as a folder? */
static bool config_isdir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The share paths under `share`: prompts/, the kernel runtime and the
 * analyst at their relative places, the sandbox library relative to bindir. */
static void config_share_set(const char *share, const char *runtime, const char *analyst,
			     const char *bindir, const char *lib)
{
	char buf[PATH_MAX];
	cfg.share_dir = strdup(share);
	snprintf(buf, sizeof(buf), "%s/prompts", share);
	cfg.prompts_dir = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/%s", share, runtime);
	cfg.runtime_dir = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/%s", share, analyst);
	cfg.analyst_dir = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/%s", bindir, lib);
	cfg.sandbox_lib = strdup(buf);
}

/* Set the share paths from a source tree root (binaries in build/bin). */
static void config_share_from_tree(const char *root, const char *bindir)
{
	config_share_set(root, "sandbox/python", "daemon/analyst", bindir, "../lib/libdaasbx.so");
}

/* Set the share paths from an installed share/daa folder. */
static void config_share_from_install(const char *share, const char *bindir)
{
	config_share_set(share, "runtime", "analyst", bindir, "../lib/daa/libdaasbx.so");
}

/* Find share files: config share_dir, $DAA_ROOT, <bin>/../share/daa, <bin>/../..  */
static void config_find_share(void)
{
	char exe[PATH_MAX], bindir[PATH_MAX], buf[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	snprintf(bindir, sizeof(bindir), "%.*s", slash ? (int)(slash - exe) : 1,
		 slash ? exe : ".");
	const char *conf = config_str(cfg.root, "share_dir", NULL);
	const char *root = getenv("DAA_ROOT");
	snprintf(buf, sizeof(buf), "%s/../share/daa", bindir);
	char real[PATH_MAX];
	if (conf) {
		config_share_from_install(conf, bindir);
	} else if (root && *root && config_isdir(root)) {
		config_share_from_tree(root, bindir);
	} else if (config_isdir(buf) && realpath(buf, real)) {
		config_share_from_install(real, bindir);
	} else {
		snprintf(buf, sizeof(buf), "%s/../..", bindir);
		config_share_from_tree(realpath(buf, real) ? real : buf, bindir);
	}
}

/* Defaults that depend on the environment. */
static int config_defaults(struct proto_err *err)
{
	const char *home = getenv("HOME");
	const char *xdg = getenv("XDG_DATA_HOME");
	char buf[PATH_MAX];
	if (xdg && *xdg == '/')
		snprintf(buf, sizeof(buf), "%s/daa/projects", xdg);
	else if (home && *home == '/')
		snprintf(buf, sizeof(buf), "%s/.local/share/daa/projects", home);
	else
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "neither XDG_DATA_HOME nor HOME is set to an absolute path: "
				  "cannot place the projects folder");
	cfg.data_dir = strdup(buf);
	cfg.default_project = strdup("default");
	cfg.python = strdup("/usr/bin/python3");
	cfg.log_level = LOG_LVL_INFO;
	cfg.max_message = PROTO_DEFAULT_MAX_MSG;
	cfg.max_depth = PROTO_DEFAULT_MAX_DEPTH;
	cfg.max_clients = 1024;
	cfg.max_queued = 8u * 1024 * 1024;
	return 0;
}

/* The config file path: cli, else $XDG_CONFIG_HOME/daa/config.json, else ~/.config/... */
static int config_file_path(const struct config_cli *cli, char *buf, size_t size,
			    struct proto_err *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (cli && cli->config_file)
		return fsu_path(buf, size, err, "%s", cli->config_file);
	if (xdg && *xdg == '/')
		return fsu_path(buf, size, err, "%s/daa/config.json", xdg);
	if (home && *home == '/')
		return fsu_path(buf, size, err, "%s/.config/daa/config.json", home);
	return fsu_path(buf, size, err, "/nonexistent/daa/config.json");
}

/* Keys of the file, checked by config_check_sections: numbers, the log
 * level, the paths, and the sections other modules read. */
static void config_file_keys(void)
{
	cfg.max_message = (size_t)config_int(cfg.root, "max_message", (long long)cfg.max_message);
	cfg.max_depth = (int)config_int(cfg.root, "max_depth", cfg.max_depth);
	cfg.max_clients = (int)config_int(cfg.root, "max_clients", cfg.max_clients);
	cfg.max_queued = (size_t)config_int(cfg.root, "max_queued", (long long)cfg.max_queued);
	const char *lv = config_str(cfg.root, "log_level", NULL);
	if (lv)
		cfg.log_level = (enum log_level)config_parse_level(lv);
	config_take_str("data_dir", &cfg.data_dir);
	config_take_str("python", &cfg.python);
	config_take_str("default_project", &cfg.default_project);
	cfg.llm = json_object_get(cfg.root, "llm");
	cfg.sandbox = json_object_get(cfg.root, "sandbox");
	cfg.kernel = json_object_get(cfg.root, "kernel");
}

/* Socket path: cli > $DAA_SOCKET > file > proto_socket_path default. */
static int config_socket(const struct config_cli *cli, struct proto_err *err)
{
	const char *s = cli && cli->socket ? cli->socket : getenv("DAA_SOCKET");
	if (!s || !*s)
		s = config_str(cfg.root, "socket", NULL);
	if (s && *s) {
		if (strlen(s) >= sizeof(cfg.socket_path))
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "socket path %s is longer than %zu bytes (a Unix socket limit)",
					  s, sizeof(cfg.socket_path) - 1);
		snprintf(cfg.socket_path, sizeof(cfg.socket_path), "%s", s);
		return 0;
	}
	if (proto_socket_path(cfg.socket_path, sizeof(cfg.socket_path)) < 0)
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "the socket path is too long: set DAA_SOCKET to a shorter path");
	return 0;
}

/* Environment and command-line overrides. */
static int config_overrides(const struct config_cli *cli, struct proto_err *err)
{
	const char *e;
	if ((e = getenv("DAA_PYTHON")) && *e) {
		free(cfg.python);
		cfg.python = strdup(e);
	}
	if ((e = getenv("DAA_PROJECT")) && *e) {
		free(cfg.default_project);
		cfg.default_project = strdup(e);
	}
	if (cli && cli->log_level) {
		int l = config_parse_level(cli->log_level);
		if (l < 0)
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "--log-level must be one of error, warn, info, debug");
		cfg.log_level = (enum log_level)l;
	}
	if (cli && cli->max_message)
		cfg.max_message = cli->max_message;
	return config_socket(cli, err);
}

/* ---- the "compute" section ------------------------------------------- */

/* "tcp://HOST:PORT" (HOST may be [v6]) into c; -1 when malformed. */
static int compute_parse_scheduler(const char *url, struct daa_compute *c)
{
	const char *h = url, *colon;
	if (strncmp(h, "tcp://", 6) != 0)
		return -1;
	h += 6;
	size_t hl;
	if (*h == '[') {
		const char *end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -1;
		hl = (size_t)(end - h - 1);
		h++;
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon || strchr(h, '/'))
			return -1;
		hl = (size_t)(colon - h);
	}
	char *endp;
	long port = strtol(colon + 1, &endp, 10);
	if (hl == 0 || hl >= sizeof c->host || *endp || colon[1] == '\0' || port < 1 || port > 65535)
		return -1;
	memcpy(c->host, h, hl);
	c->host[hl] = '\0';
	c->port = (unsigned short)port;
	snprintf(c->scheduler, sizeof c->scheduler, "%s", url);
	return 0;
}

/* HOST to a numeric address, once, when the kernel manager starts (a name
 * in /etc/hosts or DNS; the kernel cannot resolve names itself; not at
 * config_load, which stays free of network lookups).  Left "" when it does
 * not resolve: `daa doctor` says so and kernels compute locally. */
void config_compute_resolve(void)
{
	struct daa_compute *c = &cfg.compute;
	if (!c->port || c->resolved[0])
		return;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char ip[128];
	if (getaddrinfo(c->host, NULL, &hints, &res) != 0 || !res)
		return;
	if (getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) == 0)
		snprintf(c->resolved, sizeof c->resolved, res->ai_family == AF_INET6 ?
			 "tcp://[%s]:%u" : "tcp://%s:%u", ip, c->port);
	freeaddrinfo(res);
}

/* Check and load "compute"; -1 with the key named. */
static int config_compute(struct proto_err *err)
{
	const json_t *sec = json_object_get(cfg.root, "compute"), *v;
	struct daa_compute *c = &cfg.compute;
	c->out_of_core = true;
	if (!sec) /* an object: config_check_sections */
		return 0;
	if ((v = json_object_get(sec, "dask_scheduler")) && !json_is_null(v) &&
	    (!json_is_string(v) || compute_parse_scheduler(json_string_value(v), c) < 0))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"compute.dask_scheduler\" must be "
				  "\"tcp://HOST:PORT\" (port 1-65535)", cfg.config_file);
	if ((v = json_object_get(sec, "memory_budget_mb")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > (1LL << 30)))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"compute.memory_budget_mb\" must be "
				  "an integer from 1 to %lld", cfg.config_file, 1LL << 30);
	if (v)
		c->memory_budget_mb = json_integer_value(v);
	if ((v = json_object_get(sec, "expansion_factor")) &&
	    (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1000))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"compute.expansion_factor\" must be "
				  "a number above 0 and at most 1000", cfg.config_file);
	if (v)
		c->expansion_factor = json_number_value(v);
	if ((v = json_object_get(sec, "out_of_core")) && !json_is_boolean(v))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"compute.out_of_core\" must be "
				  "true or false", cfg.config_file);
	if (v)
		c->out_of_core = json_is_true(v);
	return 0;
}

/* The kernel's memory limit in MB as the sandbox sets it (sandbox/sbx_policy.c:
 * kernel.mem_mb, else 3/4 of RAM and at least 1024). */
static long long compute_kernel_mem_mb(void)
{
	long long mb = config_int(cfg.kernel, "mem_mb", 0);
	if (mb > 0)
		return mb;
	long long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
	mb = pages > 0 && psize > 0 ? pages / 1024 * psize / 1024 / 4 * 3 : 1024;
	return mb < 1024 ? 1024 : mb;
}

/* The default memory budget for one dataset (sandbox/KERNEL.md "Datasets
 * larger than memory"): half of what the kernel's runtime leaves of its
 * limit, at least an eighth of the limit.  COMPUTE_RUNTIME_MB is what the
 * runtime itself holds under RLIMIT_DATA once pandas, numpy, matplotlib,
 * scikit-learn, scipy and dask are imported: 143 MiB measured (VmData,
 * Debian 12, two threads), plus stacks of up to two more threads. */
#define COMPUTE_RUNTIME_MB 160
static long long default_budget_mb(void)
{
	long long limit = compute_kernel_mem_mb(), free_half = (limit - COMPUTE_RUNTIME_MB) / 2;
	return free_half > limit / 8 ? free_half : limit / 8;
}

json_t *config_compute_json(bool for_kernel)
{
	const struct daa_compute *c = &cfg.compute;
	long long budget = c->memory_budget_mb ? c->memory_budget_mb : default_budget_mb();
	json_t *o = json_pack("{s:I, s:b}", "memory_budget_mb", (json_int_t)budget,
			      "out_of_core", c->out_of_core);
	if (o && c->expansion_factor > 0)
		json_object_set_new(o, "expansion_factor", json_real(c->expansion_factor));
	const char *sched = for_kernel ? c->resolved : c->scheduler;
	if (o && c->port && *sched)
		json_object_set_new(o, "dask_scheduler", json_string(sched));
	return o;
}

/* Load everything; on error the message names the key or file. */
int config_load(const struct config_cli *cli, struct proto_err *err)
{
	char path[PATH_MAX];
	config_free();
	if (config_defaults(err) < 0 || config_file_path(cli, path, sizeof(path), err) < 0 ||
	    config_read_file(path, err) < 0 ||
	    config_check_sections(cfg.config_file, cfg.root, err) < 0)
		return -1;
	config_file_keys();
	if (config_compute(err) < 0 || config_overrides(cli, err) < 0)
		return -1;
	if (cfg.data_dir[0] != '/')
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"data_dir\" must be an absolute path",
				  cfg.config_file);
	if (fsu_name_check(cfg.default_project, "default project name", err) < 0)
		return -1;
	config_find_share();
	cfg_loaded = true;
	return 0;
}

/* Free everything loaded. */
void config_free(void)
{
	free(cfg.config_file);
	free(cfg.data_dir);
	free(cfg.default_project);
	free(cfg.python);
	free(cfg.share_dir);
	free(cfg.prompts_dir);
	free(cfg.runtime_dir);
	free(cfg.analyst_dir);
	free(cfg.sandbox_lib);
	if (cfg.root)
		json_decref(cfg.root);
	memset(&cfg, 0, sizeof(cfg));
	cfg_loaded = false;
}

/*
 * client/daa_dl.c — opening a library on first use (client/daa_dl.h).
 * RTLD_NOW so a missing symbol shows at load time, RTLD_LOCAL so nothing
 * the library brings in (glib, tinfo, zlib) can stand in for daa's own.
 */
#include "client/daa_dl.h"

#include <dlfcn.h>
#include <stdio.h>

/* dlopen (the loader counts references: a second call is cheap). */
void *cli_dl_open(const char *soname, char *why, size_t size)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(why, size, "cannot load %s (%s)", soname, e ? e : "not found");
	}
	return h;
}

/* One symbol of an open library. */
void *cli_dl_sym(void *h, const char *soname, const char *name, char *why, size_t size)
{
	void *p = dlsym(h, name);
	if (!p)
		snprintf(why, size, "%s has no %s: not the library daa was built for", soname, name);
	return p;
}

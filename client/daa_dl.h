/*
 * client/daa_dl.h — libraries `daa` loads only in the commands that use
 * them (client/daa_dl.c): GNU readline for `daa chat` on a terminal, libpng
 * and libchafa (with glib) for figures shown inline.  Every other command
 * (ping, status, project...) starts with libc and msgpack-c alone.
 *
 * Each user keeps a table of typed function pointers and fills it with
 * CLI_DL_BIND; a library that is missing or lacks a symbol gives one clear
 * message ("cannot load libreadline.so.8: ...") instead of a crash.
 */
#ifndef DAA_DL_H
#define DAA_DL_H

#include <stddef.h>

/* dlopen(soname); NULL with a message in why when it cannot be loaded. */
void *cli_dl_open(const char *soname, char *why, size_t size);
/* The address of name in h; NULL with a message in why. */
void *cli_dl_sym(void *h, const char *soname, const char *name, char *why, size_t size);

/* Fill tbl->member with the symbol of the same name (its type checked by
 * the compiler against the library's header); true when found. */
#define CLI_DL_BIND(h, soname, tbl, member, why, size)                                         \
	(((tbl)->member = (__typeof__((tbl)->member))cli_dl_sym(h, soname, #member, why, size)) != \
	 NULL)

/* Sonames, found at build time by client/module.mk from the -dev packages. */
#ifndef DAA_SONAME_READLINE
#define DAA_SONAME_READLINE "libreadline.so.8"
#endif
#ifndef DAA_SONAME_PNG
#define DAA_SONAME_PNG "libpng16.so.16"
#endif
#ifndef DAA_SONAME_CHAFA
#define DAA_SONAME_CHAFA "libchafa.so.0"
#endif

#endif

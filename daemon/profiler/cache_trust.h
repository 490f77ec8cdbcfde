/*
 * daemon/profiler/cache_trust.h — the ledger of trusted loaded-dataset cache entries
 * (<project>/.daa/cache/NAME.pkl, written by the kernel runtime's datasets.py).
 *
 * A kernel can write .daa/cache, so an entry there is trusted only when its
 * SHA-256 is in <project>/.daa/cache.json, which only the daemon writes.  A
 * hash gets there from the reply to the `cache` request the daemon queues
 * right after every bind: the runtime builds missing or mismatching entries
 * before any user code ran in that process and reports the SHA-256 of the
 * bytes it wrote.  The daemon accepts that reply only when no `exec` (or any
 * other request that runs user code) was sent to the kernel before it.
 * Every bind carries the ledger (`cache: {files: {NAME.pkl: sha256}}`); the
 * runtime unpickles an entry only when the bytes it read hash to that value.
 */
#ifndef DAA_CACHE_TRUST_H
#define DAA_CACHE_TRUST_H

#include <jansson.h>

/* Register the kernel manager's bind hooks (after kern_init). */
void ctrust_init(void);

#endif

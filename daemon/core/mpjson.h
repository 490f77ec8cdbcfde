/*
 * daemon/core/mpjson.h — msgpack objects <-> jansson values
 * (daemon/core/mpjson.c): kernel replies arrive as msgpack, the rest of the
 * daemon works on json_t, and replies and notifications go out as msgpack.
 * The input may be hostile; see mpjson.c for what becomes of what.
 */
#ifndef DAA_MPJSON_H
#define DAA_MPJSON_H

#include <jansson.h>
#include <msgpack.h>

/* A new json value for o (a reference; JSON null for NULL; never NULL). */
json_t *mpjson_from_object(const msgpack_object *o);
/* Pack j as one msgpack object. */
void mpjson_pack(msgpack_packer *pk, const json_t *j);

#endif

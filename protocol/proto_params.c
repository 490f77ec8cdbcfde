/*
 * protocol/proto_params.c — named parameters checked against a field table
 * (the one place where argument names and types are validated), and small
 * lookups on decoded maps for clients reading results.
 */
#include <string.h>

#include "protocol/proto.h"

static const char *const type_names[] = {
	[PROTO_T_STR] = "a string",   [PROTO_T_INT] = "an integer",
	[PROTO_T_UINT] = "a non-negative integer", [PROTO_T_FLOAT] = "a number",
	[PROTO_T_BOOL] = "a boolean", [PROTO_T_MAP] = "a map",
	[PROTO_T_ARRAY] = "an array", [PROTO_T_STRS] = "an array of strings",
	[PROTO_T_ANY] = "a value",
};

/* Is o a string (or bin)?  Sets ptr/len. */
static bool str_of(const msgpack_object *o, const char **ptr, size_t *len)
{
	if (o->type == MSGPACK_OBJECT_STR) {
		*ptr = o->via.str.ptr;
		*len = o->via.str.size;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_BIN) {
		*ptr = o->via.bin.ptr;
		*len = o->via.bin.size;
		return true;
	}
	return false;
}

/* Zone copy of a string object, NUL-terminated; NULL with err on NUL bytes. */
static const char *str_copy(const msgpack_object *o, msgpack_zone *zone, const char *field,
			    struct proto_err *err)
{
	const char *p;
	size_t n;
	if (!str_of(o, &p, &n)) {
		proto_fail(err, PROTO_ERR_PARAMS, "parameter '%s' must be a string", field);
		return NULL;
	}
	if (memchr(p, 0, n)) {
		proto_fail(err, PROTO_ERR_PARAMS, "parameter '%s' must not contain NUL bytes", field);
		return NULL;
	}
	char *s = msgpack_zone_malloc(zone, n + 1);
	if (!s) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory reading parameter '%s'", field);
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Array of strings → NULL-terminated zone array. */
static int strs_read(const msgpack_object *o, struct proto_value *v, msgpack_zone *zone,
		     const char *field, struct proto_err *err)
{
	uint32_t n = o->via.array.size;
	const char **a = msgpack_zone_malloc(zone, (n + 1) * sizeof(*a));
	if (!a)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory reading parameter '%s'", field);
	for (uint32_t i = 0; i < n; i++) {
		const char *p;
		size_t len;
		if (!str_of(&o->via.array.ptr[i], &p, &len))
			return proto_fail(err, PROTO_ERR_PARAMS,
					  "parameter '%s' must be an array of strings (item %u is not)",
					  field, (unsigned)i + 1);
		if (!(a[i] = str_copy(&o->via.array.ptr[i], zone, field, err)))
			return -1;
	}
	a[n] = NULL;
	v->strs = a;
	v->len = n;
	return 0;
}

/* Convert one value per its field type; 0, or -1 with err naming the field. */
static int value_read(const msgpack_object *o, const struct proto_field *f,
		      struct proto_value *v, msgpack_zone *zone, struct proto_err *err)
{
	bool ok = false;
	switch (f->type) {
	case PROTO_T_STR:
		if (!str_of(o, &v->str, &v->len))
			break;
		return (v->str = str_copy(o, zone, f->name, err)) ? 0 : -1;
	case PROTO_T_INT:
		if ((ok = o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER))
			v->i = o->via.i64;
		else if ((ok = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX))
			v->i = (int64_t)o->via.u64;
		break;
	case PROTO_T_UINT:
		if ((ok = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER))
			v->u = o->via.u64;
		break;
	case PROTO_T_FLOAT:
		if ((ok = o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64))
			v->f = o->via.f64;
		else if ((ok = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER))
			v->f = (double)o->via.u64;
		else if ((ok = o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER))
			v->f = (double)o->via.i64;
		break;
	case PROTO_T_BOOL:
		if ((ok = o->type == MSGPACK_OBJECT_BOOLEAN))
			v->b = o->via.boolean;
		break;
	case PROTO_T_MAP:
		ok = o->type == MSGPACK_OBJECT_MAP;
		break;
	case PROTO_T_ARRAY:
		ok = o->type == MSGPACK_OBJECT_ARRAY;
		break;
	case PROTO_T_STRS:
		if (o->type != MSGPACK_OBJECT_ARRAY)
			break;
		return strs_read(o, v, zone, f->name, err);
	case PROTO_T_ANY:
		ok = true;
		break;
	}
	if (!ok)
		return proto_fail(err, PROTO_ERR_PARAMS, "parameter '%s' must be %s", f->name,
				  (unsigned)f->type < sizeof(type_names) / sizeof(type_names[0])
					  ? type_names[f->type] : "something else");
	return 0;
}

/* Index of the field named by key, or -1. */
static int field_find(const struct proto_field *fields, const char *key, size_t len)
{
	for (int i = 0; fields[i].name; i++)
		if (strlen(fields[i].name) == len && memcmp(fields[i].name, key, len) == 0)
			return i;
	return -1;
}

/* A key as printable text for an error message. */
static void key_show(const char *p, size_t n, char *buf, size_t size)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < size; i++)
		buf[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	buf[j] = '\0';
}

/* Check params against fields and fill vals (see proto.h).  A nil value
 * counts as absent, so clients may send `key: nil` for "not given". */
int proto_params_read(const msgpack_object *params, const struct proto_field *fields,
		      struct proto_value *vals, msgpack_zone *zone, struct proto_err *err)
{
	int nf = 0;
	while (fields[nf].name)
		memset(&vals[nf++], 0, sizeof(vals[0]));
	if (params && params->type != MSGPACK_OBJECT_MAP)
		return proto_fail(err, PROTO_ERR_PARAMS, "params must be a map of named arguments");
	if (!zone)
		return proto_fail(err, PROTO_ERR_INTERNAL, "no arena to read parameters into");
	for (uint32_t k = 0; params && k < params->via.map.size; k++) {
		const msgpack_object_kv *kv = &params->via.map.ptr[k];
		const char *kp;
		size_t kn;
		char shown[64];
		if (!str_of(&kv->key, &kp, &kn))
			return proto_fail(err, PROTO_ERR_PARAMS, "parameter names must be strings");
		key_show(kp, kn, shown, sizeof(shown));
		int i = field_find(fields, kp, kn);
		if (i < 0)
			return proto_fail(err, PROTO_ERR_PARAMS, "unknown parameter '%s'", shown);
		if (vals[i].obj)
			return proto_fail(err, PROTO_ERR_PARAMS, "parameter '%s' given twice", shown);
		vals[i].obj = &kv->val;
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (value_read(&kv->val, &fields[i], &vals[i], zone, err) < 0)
			return -1;
		vals[i].present = true;
	}
	for (int i = 0; i < nf; i++) {
		if (!vals[i].present)
			vals[i].obj = NULL;
		if (fields[i].required && !vals[i].present)
			return proto_fail(err, PROTO_ERR_PARAMS, "missing parameter '%s'", fields[i].name);
	}
	return 0;
}

/* Value of key in a map (NULL when absent or when map is not a map). */
const msgpack_object *proto_map_get(const msgpack_object *map, const char *key)
{
	if (!map || map->type != MSGPACK_OBJECT_MAP || !key)
		return NULL;
	size_t len = strlen(key);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

/* Copy a string field into buf (truncated, NUL-terminated). */
bool proto_map_str(const msgpack_object *map, const char *key, char *buf, size_t size)
{
	const msgpack_object *o = proto_map_get(map, key);
	const char *p;
	size_t n;
	if (!o || !str_of(o, &p, &n) || size == 0)
		return false;
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* Integer field, or dflt. */
int64_t proto_map_int(const msgpack_object *map, const char *key, int64_t dflt)
{
	const msgpack_object *o = proto_map_get(map, key);
	if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		return (int64_t)o->via.u64;
	return dflt;
}

/* Boolean field, or dflt. */
bool proto_map_bool(const msgpack_object *map, const char *key, bool dflt)
{
	const msgpack_object *o = proto_map_get(map, key);
	return o && o->type == MSGPACK_OBJECT_BOOLEAN ? o->via.boolean : dflt;
}

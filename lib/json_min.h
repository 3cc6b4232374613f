/* SPDX-License-Identifier: MIT */
/*
 * Minimal JSON reader (RFC 8259 subset good for case.json files): parses a
 * whole document into a tree; objects keep key order; strings are decoded
 * (\uXXXX outside ASCII becomes '?'); numbers are kept as double and as text.
 */
#ifndef ROSENBLATT_JSON_MIN_H
#define ROSENBLATT_JSON_MIN_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	double num;
	int boolean;
	char *str;		/* JSON_STRING value, JSON_NUMBER text */
	char *key;		/* member name when inside an object */
	struct json *child;	/* first element / member */
	struct json *next;	/* next sibling */
};

/* Parse len bytes; NULL on error with a message (line:col) in err. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(struct json *j);
/* Member of an object by key (NULL if absent or j is not an object). */
const struct json *json_get(const struct json *j, const char *key);
/* Dotted path lookup: "buffers.input_dma". */
const struct json *json_path(const struct json *j, const char *path);
size_t json_array_len(const struct json *j);
const struct json *json_array_at(const struct json *j, size_t i);

#endif

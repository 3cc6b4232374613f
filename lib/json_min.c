// SPDX-License-Identifier: MIT
#include "json_min.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct jp {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
	int failed;
};

static void jerr(struct jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jerr(struct jp *p, const char *fmt, ...)
{
	size_t line = 1, col = 1;
	char msg[200];
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	for (size_t i = 0; i < p->pos && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "JSON %zu:%zu: %s", line, col, msg);
}

static void ws(struct jp *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

static struct json *node(struct jp *p, enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		jerr(p, "out of memory");
	else
		j->type = t;
	return j;
}

static char *parse_string_raw(struct jp *p)
{
	size_t cap = 16, n = 0;
	char *out = malloc(cap);

	if (!out) {
		jerr(p, "out of memory");
		return NULL;
	}
	p->pos++;	/* opening quote */
	for (;;) {
		if (p->pos >= p->len) {
			jerr(p, "unterminated string");
			break;
		}
		unsigned char c = (unsigned char)p->s[p->pos++];
		char add = 0;

		if (c == '"') {
			out[n] = 0;
			return out;
		}
		if (c < 0x20) {
			jerr(p, "control character in string");
			break;
		}
		if (c == '\\') {
			if (p->pos >= p->len) {
				jerr(p, "bad escape");
				break;
			}
			c = (unsigned char)p->s[p->pos++];
			switch (c) {
			case '"': add = '"'; break;
			case '\\': add = '\\'; break;
			case '/': add = '/'; break;
			case 'b': add = '\b'; break;
			case 'f': add = '\f'; break;
			case 'n': add = '\n'; break;
			case 'r': add = '\r'; break;
			case 't': add = '\t'; break;
			case 'u': {
				unsigned v = 0;

				if (p->len - p->pos < 4) {
					jerr(p, "bad \\u escape");
					goto fail;
				}
				for (int i = 0; i < 4; i++) {
					char h = p->s[p->pos++];

					v <<= 4;
					if (h >= '0' && h <= '9')
						v |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f')
						v |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F')
						v |= (unsigned)(h - 'A' + 10);
					else {
						jerr(p, "bad \\u escape");
						goto fail;
					}
				}
				add = v && v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				jerr(p, "bad escape \\%c", c);
				goto fail;
			}
		} else {
			add = (char)c;
		}
		if (n + 2 > cap) {
			char *nb = realloc(out, cap * 2);

			if (!nb) {
				jerr(p, "out of memory");
				break;
			}
			out = nb;
			cap *= 2;
		}
		out[n++] = add;
	}
fail:
	free(out);
	return NULL;
}

static struct json *parse_value(struct jp *p, int depth);

static struct json *parse_container(struct jp *p, int depth, int obj)
{
	struct json *j = node(p, obj ? JSON_OBJECT : JSON_ARRAY), **tail;

	if (!j)
		return NULL;
	tail = &j->child;
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
		p->pos++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *v;

		ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"') {
				jerr(p, "expected member name");
				break;
			}
			key = parse_string_raw(p);
			if (!key)
				break;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				jerr(p, "expected ':'");
				break;
			}
			p->pos++;
		}
		v = parse_value(p, depth + 1);
		if (!v) {
			free(key);
			break;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
			p->pos++;
			return j;
		}
		jerr(p, "expected ',' or '%c'", obj ? '}' : ']');
		break;
	}
	json_free(j);
	return NULL;
}

static struct json *parse_value(struct jp *p, int depth)
{
	struct json *j;

	if (depth > JSON_MAX_DEPTH) {
		jerr(p, "nesting deeper than %d", JSON_MAX_DEPTH);
		return NULL;
	}
	ws(p);
	if (p->pos >= p->len) {
		jerr(p, "unexpected end of input");
		return NULL;
	}
	char c = p->s[p->pos];

	if (c == '{' || c == '[')
		return parse_container(p, depth, c == '{');
	if (c == '"') {
		char *s = parse_string_raw(p);

		if (!s)
			return NULL;
		j = node(p, JSON_STRING);
		if (!j) {
			free(s);
			return NULL;
		}
		j->str = s;
		return j;
	}
	static const struct { const char *w; enum json_type t; int b; } lits[] = {
		{ "true", JSON_BOOL, 1 }, { "false", JSON_BOOL, 0 }, { "null", JSON_NULL, 0 },
	};
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(lits[i].w);

		if (p->len - p->pos >= l && !memcmp(p->s + p->pos, lits[i].w, l)) {
			p->pos += l;
			j = node(p, lits[i].t);
			if (j)
				j->boolean = lits[i].b;
			return j;
		}
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		size_t st = p->pos;

		if (p->s[p->pos] == '-')
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9') {
			jerr(p, "bad number");
			return NULL;
		}
		while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]) && p->s[p->pos])
			p->pos++;
		size_t l = p->pos - st;
		char *t = malloc(l + 1), *end;

		if (!t) {
			jerr(p, "out of memory");
			return NULL;
		}
		memcpy(t, p->s + st, l);
		t[l] = 0;
		double d = strtod(t, &end);

		if (*end) {
			free(t);
			p->pos = st;
			jerr(p, "bad number");
			return NULL;
		}
		j = node(p, JSON_NUMBER);
		if (!j) {
			free(t);
			return NULL;
		}
		j->num = d;
		j->str = t;
		return j;
	}
	jerr(p, "unexpected character '%c'", c);
	return NULL;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct jp p = { text, len, 0, err, errlen, 0 };
	struct json *j;

	if (err && errlen)
		err[0] = 0;
	if (!text) {
		jerr(&p, "no input");
		return NULL;
	}
	j = parse_value(&p, 0);
	if (!j)
		return NULL;
	ws(&p);
	if (p.pos != p.len) {
		jerr(&p, "trailing characters");
		json_free(j);
		return NULL;
	}
	return j;
}

void json_free(struct json *j)
{
	while (j) {
		struct json *n = j->next;

		json_free(j->child);
		free(j->str);
		free(j->key);
		free(j);
		j = n;
	}
}

const struct json *json_get(const struct json *j, const char *key)
{
	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (const struct json *c = j->child; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}

const struct json *json_path(const struct json *j, const char *path)
{
	char part[128];

	while (j && *path) {
		size_t l = strcspn(path, ".");

		if (l >= sizeof(part))
			return NULL;
		memcpy(part, path, l);
		part[l] = 0;
		j = json_get(j, part);
		path += l;
		if (*path == '.')
			path++;
	}
	return j;
}

size_t json_array_len(const struct json *j)
{
	size_t n = 0;

	if (!j || j->type != JSON_ARRAY)
		return 0;
	for (const struct json *c = j->child; c; c = c->next)
		n++;
	return n;
}

const struct json *json_array_at(const struct json *j, size_t i)
{
	if (!j || j->type != JSON_ARRAY)
		return NULL;
	for (const struct json *c = j->child; c; c = c->next)
		if (!i--)
			return c;
	return NULL;
}

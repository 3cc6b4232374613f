// SPDX-License-Identifier: MIT
/*
 * Helper for tests/tokenizer_ref_test.py (not a TAP test): loads a GGUF
 * vocabulary and answers one request per stdin line, one reply line each:
 *   enc MODE HEX     -> ids, space-separated (MODE: special|nospecial|plain)
 *   dec ID...        -> hex of tokenizer_decode()'s raw bytes
 *   stream ID...     -> hex of the streaming decoder's output (one id at a
 *                       time, then a flush)
 * Errors reply "ERR message".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", (unsigned char)p[i]);
	putchar('\n');
}

static int parse_ids(char *s, struct tok_ids *v)
{
	char *tok, *save = NULL;

	v->n = 0;
	for (tok = strtok_r(s, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (v->n == v->cap) {
			v->cap = v->cap ? v->cap * 2 : 64;
			v->ids = realloc(v->ids, v->cap * sizeof(*v->ids));
			if (!v->ids)
				return -1;
		}
		v->ids[v->n++] = (int32_t)strtol(tok, NULL, 10);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx;
	struct tokenizer *tok;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct tok_ids ids = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: tokenizer_dump MODEL.gguf < requests\n");
		return 2;
	}
	ctx = gguf_open(argv[1], err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	tok = tokenizer_from_gguf(ctx, err, sizeof(err));
	if (!tok) {
		fprintf(stderr, "%s\n", err);
		gguf_close(ctx);
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct ubuf out = { 0 };

		if (!strncmp(line, "enc ", 4)) {
			char *mode = line + 4, *hex = strchr(mode, ' ');
			unsigned flags;
			size_t len = 0;

			if (!hex) {
				printf("ERR bad request\n");
				continue;
			}
			*hex++ = 0;
			flags = !strcmp(mode, "special") ? TOK_ENCODE_PARSE_SPECIAL :
				!strcmp(mode, "nospecial") ? 0 : TOK_ENCODE_NO_USER_DEFINED;
			for (char *p = hex; hexval(p[0]) >= 0 && hexval(p[1]) >= 0; p += 2)
				hex[len++] = (char)(hexval(p[0]) << 4 | hexval(p[1]));
			ids.n = 0;
			if (tokenizer_encode(tok, hex, len, flags, &ids, err, sizeof(err))) {
				printf("ERR %s\n", err);
				continue;
			}
			for (size_t i = 0; i < ids.n; i++)
				printf(i ? " %d" : "%d", ids.ids[i]);
			putchar('\n');
		} else if (!strncmp(line, "dec ", 4) || !strncmp(line, "dec\n", 4)) {
			if (parse_ids(line + 3, &ids) || tokenizer_decode(tok, ids.ids, ids.n, 0, &out, NULL))
				printf("ERR decode failed\n");
			else
				put_hex(out.data, out.len);
		} else if (!strncmp(line, "stream", 6)) {
			struct tok_stream st;
			int rc = 0;

			tok_stream_init(&st, 0);
			if (parse_ids(line + 6, &ids))
				rc = -1;
			for (size_t i = 0; !rc && i < ids.n; i++)
				rc = tok_stream_feed(tok, &st, ids.ids[i], &out);
			if (!rc)
				rc = tok_stream_flush(&st, &out);
			if (rc)
				printf("ERR stream failed\n");
			else
				put_hex(out.data, out.len);
		} else {
			printf("ERR unknown request\n");
		}
		ubuf_free(&out);
		fflush(stdout);
	}
	free(line);
	tok_ids_free(&ids);
	tokenizer_free(tok);
	gguf_close(ctx);
	return 0;
}

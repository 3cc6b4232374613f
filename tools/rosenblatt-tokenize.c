// SPDX-License-Identifier: MIT
/*
 * rosenblatt-tokenize: text <-> token ids with the tokenizer of a GGUF file.
 *
 *   rosenblatt-tokenize -m MODEL.gguf [--no-special|--plain] < text
 *       prints the ids, space-separated, on one line
 *   rosenblatt-tokenize -m MODEL.gguf --decode < ids
 *       reads whitespace-separated ids, writes the text (raw bytes)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rosenblatt-tokenize -m MODEL.gguf [--no-special | --plain] [--decode]\n"
		"  Reads stdin. Without --decode: tokenizes it and prints the token ids\n"
		"  space-separated on one line. With --decode: reads whitespace-separated\n"
		"  ids and writes the text they stand for (raw bytes, no newline added).\n"
		"  -m, --model FILE   GGUF file with tokenizer.ggml.* metadata (Qwen2 BPE)\n"
		"      --no-special   do not match control tokens (<|im_start|>, ...) in the\n"
		"                     text; user-defined ones (<think>, ...) still match\n"
		"      --plain        match no added token at all: everything is text\n"
		"      --decode       ids -> text\n"
		"      --skip-control with --decode: drop control tokens\n"
		"  -h, --help         this text\n");
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap) {
			if (ferror(f)) {
				free(buf);
				return NULL;
			}
			break;
		}
		cap *= 2;
		char *p = realloc(buf, cap);
		if (!p) {
			free(buf);
			return NULL;
		}
		buf = p;
	}
	if (buf)
		*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "no-special", no_argument, NULL, 'n' },
		{ "plain", no_argument, NULL, 'p' },
		{ "decode", no_argument, NULL, 'd' },
		{ "skip-control", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *model = NULL;
	unsigned eflags = TOK_ENCODE_PARSE_SPECIAL, dflags = 0;
	bool decode = false;
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx;
	struct tokenizer *tok;
	char *in;
	size_t len;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'n': eflags &= ~(unsigned)TOK_ENCODE_PARSE_SPECIAL; break;
		case 'p': eflags = TOK_ENCODE_NO_USER_DEFINED; break;
		case 'd': decode = true; break;
		case 's': dflags |= TOK_DECODE_SKIP_CONTROL; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (!model || optind != argc) {
		fprintf(stderr, "rosenblatt-tokenize: %s\n",
			!model ? "-m MODEL.gguf is required" : "unexpected argument");
		usage(stderr);
		return 1;
	}
	ctx = gguf_open(model, err, sizeof(err));
	if (!ctx) {
		fprintf(stderr, "rosenblatt-tokenize: %s\n", err);
		return 1;
	}
	tok = tokenizer_from_gguf(ctx, err, sizeof(err));
	if (!tok) {
		fprintf(stderr, "rosenblatt-tokenize: %s: %s\n", model, err);
		gguf_close(ctx);
		return 1;
	}
	in = read_all(stdin, &len);
	if (!in) {
		fprintf(stderr, "rosenblatt-tokenize: cannot read stdin: %s\n", strerror(errno));
		goto out;
	}
	if (!decode) {
		struct tok_ids ids = { 0 };

		if (tokenizer_encode(tok, in, len, eflags, &ids, err, sizeof(err))) {
			fprintf(stderr, "rosenblatt-tokenize: %s\n", err);
		} else {
			for (size_t i = 0; i < ids.n; i++)
				printf(i ? " %d" : "%d", ids.ids[i]);
			putchar('\n');
			ret = 0;
		}
		tok_ids_free(&ids);
	} else {
		struct ubuf out = { 0 };
		size_t i = 0, n_id = 0;

		ret = 0;
		while (i < len) {
			char *end;
			long long v;

			if (strchr(" \t\r\n", in[i]) && in[i]) {
				i++;
				continue;
			}
			errno = 0;
			in[len] = 0;	/* read_all leaves room: cap > len */
			v = strtoll(in + i, &end, 10);
			if (end == in + i || errno || (*end && !strchr(" \t\r\n", *end)) ||
			    v < 0 || v >= tokenizer_n_tokens(tok)) {
				int w = 0;

				while (in[i + w] && !strchr(" \t\r\n", in[i + w]) && w < 32)
					w++;
				fprintf(stderr, "rosenblatt-tokenize: input id #%zu \"%.*s\" is not a token id (0..%u)\n",
					n_id + 1, w, in + i, tokenizer_n_tokens(tok) - 1);
				ret = 1;
				break;
			}
			int32_t id = (int32_t)v;
			if (tokenizer_decode(tok, &id, 1, dflags, &out, NULL)) {
				fprintf(stderr, "rosenblatt-tokenize: out of memory\n");
				ret = 1;
				break;
			}
			n_id++;
			i = (size_t)(end - in);
		}
		if (!ret)
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
		ubuf_free(&out);
	}
	free(in);
out:
	if (fflush(stdout)) {
		fprintf(stderr, "rosenblatt-tokenize: write error: %s\n", strerror(errno));
		ret = 1;
	}
	tokenizer_free(tok);
	gguf_close(ctx);
	return ret;
}

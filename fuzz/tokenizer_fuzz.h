/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer fuzz check, shared by the libFuzzer target
 * (fuzz/tokenizer_fuzz.c) and the regression replay in
 * tests/test_tokenizer.c. No file I/O: three tokenizers are built once from
 * a small in-memory vocabulary (256 byte tokens, merges of a few words,
 * CONTROL / USER_DEFINED / UNUSED / empty added tokens, a token outside the
 * byte alphabet), one per pre-tokenizer: qwen2 (NFC), smollm (digits; bytes
 * 0x04 and 0xF1 have no token, as in SmolLM2) and gpt-2.
 *
 * Input: byte 0 selects the tokenizer (bits 0-1), the encode flags (bits
 * 2-3) and the decode flags (bit 4); bit 5 set means the rest is a list of
 * little-endian int32 ids to decode (any value), else bytes to encode.
 * Checked (besides ASan/UBSan):
 *   - encode: every id in range; decode(encode(s)) == s with ill-formed
 *     UTF-8 replaced (gpt-2: any flags; smollm: minus the missing bytes;
 *     qwen2 without added tokens: == NFC(s));
 *   - decode: out-of-range ids give -2 at the first one;
 *   - streaming decode == WHATWG decoding of the one-shot bytes, and is
 *     always well-formed UTF-8.
 * tokenizer_fuzz_one() returns NULL, or what went wrong.
 */
#ifndef ROSENBLATT_TOKENIZER_FUZZ_H
#define ROSENBLATT_TOKENIZER_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"
#include "unicode.h"

#define TF_MAX_TOK 512
#define TF_MAX_MERGE 256

struct tf_vocab {
	char text[TF_MAX_TOK][24];
	const char *ptrs[TF_MAX_TOK];
	int32_t types[TF_MAX_TOK];
	uint32_t n;
	char merge[TF_MAX_MERGE][52];
	const char *mptrs[TF_MAX_MERGE];
	uint32_t n_merge;
};

static uint32_t tf_byte_cp(int b)
{
	int n = 0;

	if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
		return (uint32_t)b;
	for (int i = 0; i < b; i++)
		if (!((i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF)))
			n++;
	return 256u + (uint32_t)n;
}

/* Byte-level text of raw bytes. */
static void tf_bl(const char *raw, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		o += uc_utf8_encode(tf_byte_cp((uint8_t)raw[i]), out + o);
	out[o] = 0;
}

static void tf_add(struct tf_vocab *v, const char *text, int32_t type)
{
	snprintf(v->text[v->n], sizeof(v->text[0]), "%s", text);
	v->ptrs[v->n] = v->text[v->n];
	v->types[v->n++] = type;
}

/* Tokens and left-to-right merges for every prefix of a word. */
static void tf_word(struct tf_vocab *v, const char *w)
{
	size_t n = strlen(w);

	for (size_t k = 2; k <= n; k++) {
		char left[24], right[12], whole[24];

		tf_bl(w, k - 1, left);
		tf_bl(w + k - 1, 1, right);
		tf_bl(w, k, whole);
		if (v->n >= TF_MAX_TOK || v->n_merge >= TF_MAX_MERGE)
			return;
		tf_add(v, whole, TOK_TYPE_NORMAL);	/* duplicates: first id wins */
		snprintf(v->merge[v->n_merge], sizeof(v->merge[0]), "%s %s", left, right);
		v->mptrs[v->n_merge] = v->merge[v->n_merge];
		v->n_merge++;
	}
}

static void tf_vocab_build(struct tf_vocab *v, bool missing_bytes)
{
	static const char *const words[] = {
		" the", "the", "ing", " in", "  ", "   ", "\n\n", "11", "123", " 1",
		"'s", "'ll", "ab", "aaaa", " a", "\xC3\xA9", "\xE4\xBD\xA0\xE5\xA5\xBD",
		"\xF0\x9F\x99\x82", " \xC3\xA9t\xC3\xA9", "<|", "|>", "\r\n", " !",
	};

	memset(v, 0, sizeof(*v));
	for (int b = 0; b < 256; b++) {
		char buf[5] = { 0 };

		uc_utf8_encode(tf_byte_cp(b), buf);
		if (missing_bytes && (b == 0x04 || b == 0xF1))
			snprintf(buf, sizeof(buf), "~%c", b == 4 ? 'x' : 'y');	/* "~x", "~y" */
		tf_add(v, buf, TOK_TYPE_NORMAL);
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		tf_word(v, words[i]);
	tf_add(v, "<|im_start|>", TOK_TYPE_CONTROL);
	tf_add(v, "<|im_end|>", TOK_TYPE_CONTROL);
	tf_add(v, "<|x|>y", TOK_TYPE_CONTROL);
	tf_add(v, "<|x|>", TOK_TYPE_CONTROL);
	tf_add(v, "<think>", TOK_TYPE_USER_DEFINED);
	tf_add(v, "<t", TOK_TYPE_USER_DEFINED);
	tf_add(v, "[PAD9]", TOK_TYPE_UNUSED);
	tf_add(v, "", TOK_TYPE_CONTROL);
	tf_add(v, "\xE2\x82\xAC!", TOK_TYPE_NORMAL);	/* outside the byte alphabet */
}

static const char *const tf_pres[3] = { "qwen2", "smollm", "gpt-2" };

static struct tokenizer *tf_tok[3];

static const char *tf_init(void)
{
	static struct tf_vocab v;
	static char err[TOK_ERR_LEN];

	for (int i = 0; i < 3; i++) {
		struct tok_spec s = { 0 };

		if (tf_tok[i])
			continue;
		tf_vocab_build(&v, i == 1);
		s.model = "gpt2";
		s.pre = tf_pres[i];
		s.n_tokens = v.n;
		s.tokens = v.ptrs;
		s.token_types = v.types;
		s.n_merges = v.n_merge;
		s.merges = v.mptrs;
		s.bos_id = s.eos_id = s.pad_id = -1;
		tf_tok[i] = tokenizer_new(&s, err, sizeof(err));
		if (!tf_tok[i])
			return err;
	}
	return NULL;
}

/* Stream ids (skipping out-of-range ones) and compare with the one-shot
 * decode of the in-range ids, WHATWG-repaired. */
static const char *tf_check_stream(const struct tokenizer *t, const int32_t *ids, size_t n,
				   unsigned dflags)
{
	struct tok_stream st;
	struct ubuf one = { 0 }, fixed = { 0 }, streamed = { 0 };
	const char *bad = NULL;

	tok_stream_init(&st, dflags);
	for (size_t i = 0; i < n && !bad; i++) {
		size_t keep = st.n_pending;
		int rc = tok_stream_feed(t, &st, ids[i], &streamed);

		if (rc == -2) {
			if (st.n_pending != keep)
				bad = "stream: a bad id changed the state";
			continue;
		}
		if (rc)
			bad = "stream: feed failed";
		else if (tokenizer_decode(t, &ids[i], 1, dflags, &one, NULL))
			bad = "decode of an in-range id failed";
		else if (!uc_utf8_valid(streamed.data ? streamed.data : "", streamed.len))
			bad = "stream: emitted ill-formed UTF-8";
	}
	if (!bad && tok_stream_flush(&st, &streamed))
		bad = "stream: flush failed";
	if (!bad && !uc_utf8_sanitize(one.data ? one.data : "", one.len, &fixed))
		bad = "sanitize failed";
	if (!bad && (fixed.len != streamed.len ||
		     (fixed.len && memcmp(fixed.data, streamed.data, fixed.len))))
		bad = "stream: output != repaired one-shot decode";
	ubuf_free(&one);
	ubuf_free(&fixed);
	ubuf_free(&streamed);
	return bad;
}

static const char *tf_encode(int which, const char *s, size_t n, unsigned eflags, unsigned dflags)
{
	const struct tokenizer *t = tf_tok[which];
	struct tok_ids ids = { 0 };
	struct ubuf dec = { 0 }, want = { 0 }, clean = { 0 };
	char err[TOK_ERR_LEN];
	const char *bad = NULL;
	uint32_t nt = tokenizer_n_tokens(t);

	if (tokenizer_encode(t, s, n, eflags, &ids, err, sizeof(err))) {
		bad = "encode failed";
		goto out;
	}
	for (size_t i = 0; i < ids.n; i++)
		if (ids.ids[i] < 0 || (uint32_t)ids.ids[i] >= nt) {
			bad = "encode: id out of range";
			goto out;
		}
	if (tokenizer_decode(t, ids.ids, ids.n, 0, &dec, NULL)) {
		bad = "decode of encoded ids failed";
		goto out;
	}
	if (!uc_utf8_sanitize(s, n, &clean)) {
		bad = "sanitize failed";
		goto out;
	}
	if (which == 0) {
		/* NFC is per segment between added tokens: check plain only. */
		if (!(eflags & TOK_ENCODE_NO_USER_DEFINED) || (eflags & TOK_ENCODE_PARSE_SPECIAL))
			goto stream;
		if (!uc_nfc(clean.data ? clean.data : "", clean.len, &want)) {
			bad = "nfc failed";
			goto out;
		}
	} else {
		for (size_t i = 0; i < clean.len; i++) {
			uint8_t c = (uint8_t)clean.data[i];

			if (which == 1 && (c == 0x04 || c == 0xF1))
				continue;	/* no token: dropped */
			if (!ubuf_append(&want, &clean.data[i], 1)) {
				bad = "oom";
				goto out;
			}
		}
	}
	if (want.len != dec.len || (want.len && memcmp(want.data, dec.data, want.len)))
		bad = "decode(encode(s)) != s";
stream:
	if (!bad)
		bad = tf_check_stream(t, ids.ids, ids.n, dflags);
out:
	tok_ids_free(&ids);
	ubuf_free(&dec);
	ubuf_free(&want);
	ubuf_free(&clean);
	return bad;
}

static const char *tf_decode(int which, const uint8_t *p, size_t n, unsigned dflags)
{
	const struct tokenizer *t = tf_tok[which];
	size_t count = n / 4, first_bad = count, bad_index = 0;
	int32_t *ids = malloc((count ? count : 1) * sizeof(*ids));
	struct ubuf out = { 0 };
	const char *bad = NULL;
	int rc;

	if (!ids)
		return "oom";
	for (size_t i = 0; i < count; i++) {
		ids[i] = (int32_t)((uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
				   (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24);
		/* Mostly in range, so the decode path gets exercised. */
		if (!(p[4 * i + 3] & 0x80))
			ids[i] = (int32_t)((uint32_t)ids[i] % (tokenizer_n_tokens(t) + 1));
		if (first_bad == count && (ids[i] < 0 || (uint32_t)ids[i] >= tokenizer_n_tokens(t)))
			first_bad = i;
	}
	rc = tokenizer_decode(t, ids, count, dflags, &out, &bad_index);
	if (first_bad < count ? rc != -2 || bad_index != first_bad : rc != 0)
		bad = "decode: wrong result for out-of-range ids";
	if (!bad)
		bad = tf_check_stream(t, ids, count, dflags);
	ubuf_free(&out);
	free(ids);
	return bad;
}

static const char *tokenizer_fuzz_one(const uint8_t *data, size_t size)
{
	const char *bad = tf_init();
	unsigned sel, eflags = 0, dflags;
	int which;

	if (bad || !size)
		return bad;
	sel = data[0];
	which = (int)(sel & 3) % 3;
	if (sel & 4)
		eflags |= TOK_ENCODE_PARSE_SPECIAL;
	if (sel & 8)
		eflags |= TOK_ENCODE_NO_USER_DEFINED;
	dflags = sel & 16 ? TOK_DECODE_SKIP_CONTROL : 0;
	if (sel & 32)
		return tf_decode(which, data + 1, size - 1, dflags);
	return tf_encode(which, (const char *)data + 1, size - 1, eflags, dflags);
}

static void tokenizer_fuzz_cleanup(void)
{
	for (int i = 0; i < 3; i++) {
		tokenizer_free(tf_tok[i]);
		tf_tok[i] = NULL;
	}
}

#endif

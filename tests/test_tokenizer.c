// SPDX-License-Identifier: MIT
/*
 * Unit tests of the tokenizer core on tiny hand-made vocabularies: GPT-2
 * byte map, merge priority, pre-tokenizer splits, special tokens, errors,
 * decoding and the streaming decoder, UTF-8 repair and NFC, and loading
 * from an in-memory GGUF. The full Qwen vocabulary is checked against the
 * reference by tests/tokenizer_ref_test.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/tokenizer_fuzz.h"
#include "corpus.h"
#include "gguf.h"
#include "tap.h"
#include "tokenizer.h"
#include "unicode.h"

/* ---- a tiny vocabulary: 256 byte tokens + extras ----------------------- */

#define MAX_TOK 400

static char tok_text[MAX_TOK][32];
static const char *tok_ptrs[MAX_TOK];
static int32_t tok_types[MAX_TOK];
static uint32_t n_tok;
static const char *merge_list[64];
static uint32_t n_merge;
static const char *pre_now = "qwen2";

static int32_t add_tok(const char *text, int32_t type)
{
	snprintf(tok_text[n_tok], sizeof(tok_text[0]), "%s", text);
	tok_ptrs[n_tok] = tok_text[n_tok];
	tok_types[n_tok] = type;
	return (int32_t)n_tok++;
}

static void vocab_reset(void)
{
	n_tok = 0;
	n_merge = 0;
	for (int b = 0; b < 256; b++) {
		char buf[5] = { 0 };

		uc_utf8_encode(tf_byte_cp(b), buf);
		add_tok(buf, TOK_TYPE_NORMAL);
	}
}

static struct tok_spec spec_now(void)
{
	struct tok_spec s = {
		.model = "gpt2", .pre = pre_now,
		.n_tokens = n_tok, .tokens = tok_ptrs, .token_types = tok_types,
		.n_merges = n_merge, .merges = merge_list,
		.bos_id = -1, .eos_id = -1, .pad_id = -1,
	};
	return s;
}

static struct tokenizer *build(void)
{
	char err[TOK_ERR_LEN] = "";
	struct tok_spec s = spec_now();
	struct tokenizer *t = tokenizer_new(&s, err, sizeof(err));

	CHECKF(t, "tokenizer_new failed: %s", err);
	return t;
}

/* Encode and compare with the expected ids (terminated by -1). */
static void expect_ids(struct tokenizer *t, const char *text, unsigned flags, const int32_t *exp)
{
	struct tok_ids ids = { 0 };
	char err[TOK_ERR_LEN];
	size_t n = 0;

	while (exp[n] >= 0)
		n++;
	CHECK_EQ_INT(tokenizer_encode(t, text, strlen(text), flags, &ids, err, sizeof(err)), 0);
	CHECKF(ids.n == n, "\"%s\": %zu ids, expected %zu", text, ids.n, n);
	for (size_t i = 0; i < n && i < ids.n; i++)
		CHECKF(ids.ids[i] == exp[i], "\"%s\": id[%zu] = %d, expected %d", text, i, ids.ids[i], exp[i]);
	tok_ids_free(&ids);
}

#define IDS(...) ((const int32_t[]){ __VA_ARGS__, -1 })

static void test_byte_map(void)
{
	struct tokenizer *t;
	struct tok_ids ids = { 0 };
	char all[256];
	size_t len;

	vocab_reset();
	t = build();
	if (!t)
		return;
	/* Known points of the GPT-2 map. */
	CHECK_STR(tok_text[' '], "\xC4\xA0");	/* U+0120 'Ġ' */
	CHECK_STR(tok_text['\n'], "\xC4\x8A");	/* U+010A 'Ċ' */
	CHECK_STR(tok_text[0xAD], "\xC5\x83");	/* U+0143 'Ń' */
	CHECK_STR(tok_text['A'], "A");
	/* Every single byte encodes to its byte token (bytes >= 0x80 alone
	 * are ill-formed and become U+FFFD, checked below). */
	for (int b = 0; b < 128; b++) {
		char c = (char)b;

		ids.n = 0;
		CHECK_EQ_INT(tokenizer_encode(t, &c, 1, 0, &ids, NULL, 0), 0);
		CHECK_EQ_INT(ids.n, 1);
		if (ids.n == 1)
			CHECK_EQ_INT(ids.ids[0], b);
	}
	/* And decode back to the byte, for all 256. */
	for (int b = 0; b < 256; b++) {
		const char *p = tokenizer_token_bytes(t, b, &len);

		CHECK(p && len == 1 && (uint8_t)p[0] == b);
		all[b] = (char)b;
	}
	/* U+FFFD for a lone 0x80: its three bytes. */
	ids.n = 0;
	CHECK_EQ_INT(tokenizer_encode(t, all + 0x80, 1, 0, &ids, NULL, 0), 0);
	CHECK(ids.n == 3 && ids.ids[0] == 0xEF && ids.ids[1] == 0xBF && ids.ids[2] == 0xBD);
	CHECK(tokenizer_find(t, "\xC4\xA0", 2) == ' ');
	CHECK(tokenizer_find(t, "zz", 2) == -1);
	tok_ids_free(&ids);
	tokenizer_free(t);
}

static void test_merge_priority(void)
{
	struct tokenizer *t;
	int32_t ab, bc, aa, aaaa;

	/* b c before a b: "abc" -> a + bc */
	vocab_reset();
	ab = add_tok("ab", TOK_TYPE_NORMAL);
	bc = add_tok("bc", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "b c";
	merge_list[n_merge++] = "a b";
	t = build();
	if (t)
		expect_ids(t, "abc", 0, IDS('a', bc));
	tokenizer_free(t);

	/* a b first: "abc" -> ab + c */
	vocab_reset();
	ab = add_tok("ab", TOK_TYPE_NORMAL);
	bc = add_tok("bc", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "a b";
	merge_list[n_merge++] = "b c";
	t = build();
	if (t)
		expect_ids(t, "abc", 0, IDS(ab, 'c'));
	tokenizer_free(t);

	/* Equal ranks: leftmost pair first; results merge further. */
	vocab_reset();
	aa = add_tok("aa", TOK_TYPE_NORMAL);
	aaaa = add_tok("aaaa", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "a a";
	merge_list[n_merge++] = "aa aa";
	t = build();
	if (t) {
		expect_ids(t, "aaa", 0, IDS(aa, 'a'));
		expect_ids(t, "aaaaa", 0, IDS(aaaa, 'a'));
		expect_ids(t, "aaaaaaa", 0, IDS(aaaa, aa, 'a'));
	}
	tokenizer_free(t);
	(void)bc;
}

static void test_pretokenizer(void)
{
	struct tokenizer *t;
	int32_t sp_a, sp_sp, s_tok, ll_tok, nn;

	vocab_reset();
	sp_a = add_tok("\xC4\xA0" "a", TOK_TYPE_NORMAL);		/* " a" */
	sp_sp = add_tok("\xC4\xA0\xC4\xA0", TOK_TYPE_NORMAL);	/* "  " */
	s_tok = add_tok("'s", TOK_TYPE_NORMAL);
	ll_tok = add_tok("'LL", TOK_TYPE_NORMAL);
	nn = add_tok("11", TOK_TYPE_NORMAL);
	add_tok("'L", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "\xC4\xA0 a";
	merge_list[n_merge++] = "\xC4\xA0 \xC4\xA0";
	merge_list[n_merge++] = "' s";
	merge_list[n_merge++] = "' L";
	merge_list[n_merge++] = "'L L";
	merge_list[n_merge++] = "1 1";
	t = build();
	if (!t)
		return;
	/* A space joins the following letters. */
	expect_ids(t, " a", 0, IDS(sp_a));
	/* \s+(?!\S): of "  a" the last space goes with the letter. */
	expect_ids(t, "  a", 0, IDS(' ', sp_a));
	/* Whitespace at the end stays together. */
	expect_ids(t, "x  ", 0, IDS('x', sp_sp));
	/* Contractions, any ASCII case. */
	expect_ids(t, "it's", 0, IDS('i', 't', s_tok));
	expect_ids(t, "WE'LL", 0, IDS('W', 'E', ll_tok));
	/* Digits are split one by one: "11" never merges. */
	expect_ids(t, "11", 0, IDS('1', '1'));
	/* Newlines: \s*[\r\n]+ keeps " \n" together, so no " a" merge after. */
	expect_ids(t, "a \na", 0, IDS('a', ' ', '\n', 'a'));
	/* Punctuation takes one leading space. */
	expect_ids(t, "a !!", 0, IDS('a', ' ', '!', '!'));
	tokenizer_free(t);
	(void)nn;
}

static void test_specials(void)
{
	struct tokenizer *t;
	int32_t ctl, ctl2, user, unused;

	vocab_reset();
	ctl = add_tok("<|x|>", TOK_TYPE_CONTROL);
	ctl2 = add_tok("<|x|>y", TOK_TYPE_CONTROL);	/* longer match wins */
	user = add_tok("<u>", TOK_TYPE_USER_DEFINED);
	unused = add_tok("[PAD]", TOK_TYPE_UNUSED);
	t = build();
	if (!t)
		return;
	expect_ids(t, "a<|x|>b", TOK_ENCODE_PARSE_SPECIAL, IDS('a', ctl, 'b'));
	expect_ids(t, "<|x|>y<|x|>", TOK_ENCODE_PARSE_SPECIAL, IDS(ctl2, ctl));
	expect_ids(t, "<u><|x|>", TOK_ENCODE_PARSE_SPECIAL, IDS(user, ctl));
	/* parse_special off: control tokens are text, user-defined still match. */
	expect_ids(t, "<u><|x|>", 0, IDS(user, '<', '|', 'x', '|', '>'));
	/* plain: nothing matches. */
	expect_ids(t, "<u>", TOK_ENCODE_NO_USER_DEFINED, IDS('<', 'u', '>'));
	/* UNUSED tokens are never matched. */
	expect_ids(t, "[PAD]", TOK_ENCODE_PARSE_SPECIAL, IDS('[', 'P', 'A', 'D', ']'));
	/* Text around a special is encoded on its own (no merge across). */
	expect_ids(t, "<|x|", TOK_ENCODE_PARSE_SPECIAL, IDS('<', '|', 'x', '|'));

	/* Decoding: control/user-defined as their text, unused as nothing. */
	{
		struct ubuf out = { 0 };
		int32_t ids[] = { 'a', ctl, user, unused, ' ' };
		size_t bad = 99;

		CHECK_EQ_INT(tokenizer_decode(t, ids, 5, 0, &out, NULL), 0);
		CHECK_STR(out.data, "a<|x|><u> ");
		out.len = 0;
		CHECK_EQ_INT(tokenizer_decode(t, ids, 5, TOK_DECODE_SKIP_CONTROL, &out, NULL), 0);
		CHECK_STR(out.data, "a<u> ");
		ids[2] = (int32_t)n_tok;
		CHECK_EQ_INT(tokenizer_decode(t, ids, 5, 0, &out, &bad), -2);
		CHECK_EQ_INT(bad, 2);
		ids[2] = -1;
		CHECK_EQ_INT(tokenizer_decode(t, ids, 5, 0, &out, &bad), -2);
		ubuf_free(&out);
	}
	CHECK_EQ_INT(tokenizer_token_type(t, ctl), TOK_TYPE_CONTROL);
	CHECK_EQ_INT(tokenizer_token_type(t, 12345), TOK_TYPE_UNDEFINED);
	tokenizer_free(t);
}

static void expect_error(const char *what, const char *needle)
{
	char err[TOK_ERR_LEN] = "";
	struct tok_spec s = spec_now();
	struct tokenizer *t;

	if (!strcmp(what, "model"))
		s.model = "llama";
	else if (!strcmp(what, "pre"))
		s.pre = "llama3";
	else if (!strcmp(what, "nopre"))
		s.pre = NULL;
	else if (!strcmp(what, "default"))
		s.pre = "default";
	else if (!strcmp(what, "bos"))
		s.bos_id = (int32_t)n_tok;
	else if (!strcmp(what, "empty"))
		s.n_tokens = 0;
	t = tokenizer_new(&s, err, sizeof(err));
	CHECKF(!t, "%s: expected an error", what);
	CHECKF(strstr(err, needle), "%s: error \"%s\" does not mention \"%s\"", what, err, needle);
	tokenizer_free(t);
}

static void test_errors(void)
{
	vocab_reset();
	expect_error("model", "tokenizer.ggml.model");
	expect_error("pre", "tokenizer.ggml.pre is \"llama3\", not a supported pre-tokenizer");
	expect_error("nopre", "tokenizer.ggml.pre is missing");
	/* llama.cpp's "default" is not the GPT-2 regex: refused, not guessed. */
	expect_error("default", "\"default\"");
	expect_error("bos", "out of range");
	expect_error("empty", "tokenizer.ggml.tokens");

	vocab_reset();
	merge_list[n_merge++] = "a q";
	expect_error("merge", "merged text is not a token");
	n_merge = 0;
	merge_list[n_merge++] = "a zz";
	expect_error("merge", "right side is not a token");
	n_merge = 0;
	merge_list[n_merge++] = "ab";
	expect_error("merge", "not \"left right\"");

	vocab_reset();
	tok_types[5] = 42;
	expect_error("type", "token_type[5]");

}

/* SmolLM (Digits then the GPT-2 regex, no NFC), GPT-2, missing bytes. */
static void test_pre_types(void)
{
	struct tokenizer *t;
	int32_t nn, sp1, sp_sp, sp_a, aa;

	vocab_reset();
	nn = add_tok("11", TOK_TYPE_NORMAL);
	sp1 = add_tok("\xC4\xA0" "1", TOK_TYPE_NORMAL);		/* " 1" */
	sp_sp = add_tok("\xC4\xA0\xC4\xA0", TOK_TYPE_NORMAL);	/* "  " */
	sp_a = add_tok("\xC4\xA0" "a", TOK_TYPE_NORMAL);		/* " a" */
	aa = add_tok("aa", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "1 1";
	merge_list[n_merge++] = "\xC4\xA0 1";
	merge_list[n_merge++] = "\xC4\xA0 \xC4\xA0";
	merge_list[n_merge++] = "\xC4\xA0 a";
	merge_list[n_merge++] = "a a";

	pre_now = "gpt-2";
	t = build();
	if (t) {
		/* GPT-2: " ?\p{N}+" keeps digit runs and their space together. */
		expect_ids(t, "11", 0, IDS(nn));
		expect_ids(t, "x 1", 0, IDS('x', sp1));
		/* \s+(?!\S): "  a" is " " + " a"; trailing spaces stay together. */
		expect_ids(t, "  a", 0, IDS(' ', sp_a));
		expect_ids(t, "x  ", 0, IDS('x', sp_sp));
		/* Contractions are case-sensitive here. */
		expect_ids(t, "'S", 0, IDS('\'', 'S'));
		/* No NFC: e + U+0301 stays decomposed. */
		expect_ids(t, "e\xCC\x81", 0, IDS('e', 0xCC, 0x81));
		tokenizer_free(t);
	}

	pre_now = "smollm";
	t = build();
	if (t) {
		/* Every \p{N} is a piece of its own. */
		expect_ids(t, "11", 0, IDS('1', '1'));
		expect_ids(t, "x 1", 0, IDS('x', ' ', '1'));
		/* The regex runs on "a  " alone: its spaces end at the digit. */
		expect_ids(t, "aa  1", 0, IDS(aa, sp_sp, '1'));
		expect_ids(t, "1  a", 0, IDS('1', ' ', sp_a));
		/* Non-ASCII numbers too (U+0661 U+0662, superscript two). */
		expect_ids(t, "\xD9\xA1\xD9\xA2\xC2\xB2", 0,
			   IDS(0xD9, 0xA1, 0xD9, 0xA2, 0xC2, 0xB2));
		expect_ids(t, "e\xCC\x81", 0, IDS('e', 0xCC, 0x81));
		tokenizer_free(t);
	}

	/* Qwen2 normalises to NFC: e + U+0301 -> U+00E9. */
	pre_now = "qwen2";
	t = build();
	if (t) {
		expect_ids(t, "e\xCC\x81", 0, IDS(0xC3, 0xA9));
		tokenizer_free(t);
	}

	/* A byte without a token (SmolLM2 lacks 21) is dropped, as HF and
	 * llama.cpp do; the rest still merges. */
	vocab_reset();
	strcpy(tok_text[' '], "space");	/* no token for byte 0x20 any more */
	aa = add_tok("aa", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "a a";
	t = build();
	if (t) {
		expect_ids(t, "aa b", 0, IDS(aa, 'b'));
		expect_ids(t, " ", 0, (const int32_t[]){ -1 });
		expect_ids(t, "a  ", 0, IDS('a'));
		tokenizer_free(t);
	}
	vocab_reset();
}

/* ---- decoding, streaming ------------------------------------------------ */

static void stream_all(struct tokenizer *t, const int32_t *ids, size_t n, struct ubuf *out,
		       size_t *emitted_after)
{
	struct tok_stream st;

	tok_stream_init(&st, 0);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_INT(tok_stream_feed(t, &st, ids[i], out), 0);
		if (emitted_after)
			emitted_after[i] = out->len;
	}
	CHECK_EQ_INT(tok_stream_flush(&st, out), 0);
}

static void test_stream(void)
{
	struct tokenizer *t;
	struct ubuf out = { 0 };
	size_t after[8];
	struct tok_stream st;

	vocab_reset();
	t = build();
	if (!t)
		return;
	/* U+1F642 split into its 4 byte tokens: nothing until complete. */
	{
		int32_t ids[] = { 'a', 0xF0, 0x9F, 0x99, 0x82, 'b' };

		stream_all(t, ids, 6, &out, after);
		CHECK_EQ_INT(after[0], 1);
		CHECK_EQ_INT(after[1], 1);
		CHECK_EQ_INT(after[3], 1);
		CHECK_EQ_INT(after[4], 5);
		CHECK_STR(out.data, "a\xF0\x9F\x99\x82" "b");
	}
	/* Interrupted sequence: U+FFFD, then the next character intact. */
	out.len = 0;
	{
		int32_t ids[] = { 0xE4, 0xBD, 'x', 0x80, 0xC3 };

		stream_all(t, ids, 5, &out, NULL);
		CHECK_STR(out.data, "\xEF\xBF\xBDx\xEF\xBF\xBD\xEF\xBF\xBD");
	}
	/* Surrogates and overlongs are ill-formed at the second byte. */
	out.len = 0;
	{
		int32_t ids[] = { 0xED, 0xA0, 0x80, 0xC0, 0xAF };

		stream_all(t, ids, 5, &out, NULL);
		CHECK_STR(out.data, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	}
	/* Bad id. */
	tok_stream_init(&st, 0);
	CHECK_EQ_INT(tok_stream_feed(t, &st, -5, &out), -2);
	CHECK_EQ_INT(tok_stream_feed(t, &st, (int32_t)n_tok, &out), -2);
	ubuf_free(&out);
	tokenizer_free(t);
}

/* Random byte strings: the stream output equals the one-shot repair. */
static void test_stream_random(void)
{
	struct tokenizer *t;
	uint32_t seed = 12345;

	vocab_reset();
	t = build();
	if (!t)
		return;
	for (int iter = 0; iter < 2000; iter++) {
		int32_t ids[24];
		size_t n = 1 + iter % 24;
		struct ubuf a = { 0 }, b = { 0 }, fixed = { 0 };
		static const uint8_t pick[] = { 'a', ' ', 0x80, 0xBF, 0xC2, 0xC3, 0xE0, 0xE4, 0xED,
						0xF0, 0xF4, 0xF5, 0x9F, 0xA0, 0x90, 0x8F, 0xFF };

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			ids[i] = pick[(seed >> 16) % sizeof(pick)];
		}
		stream_all(t, ids, n, &a, NULL);
		CHECK_EQ_INT(tokenizer_decode(t, ids, n, 0, &b, NULL), 0);
		CHECK(uc_utf8_sanitize(b.data, b.len, &fixed));
		CHECKF(a.len == fixed.len && !memcmp(a.data, fixed.data, a.len),
		       "iteration %d: stream and one-shot repair differ", iter);
		CHECK(uc_utf8_valid(a.data, a.len));
		ubuf_free(&a);
		ubuf_free(&b);
		ubuf_free(&fixed);
	}
	tokenizer_free(t);
}

/* ---- UTF-8 and NFC ------------------------------------------------------- */

static void expect_sanitize(const char *in, size_t len, const char *exp)
{
	struct ubuf out = { 0 };

	CHECK(uc_utf8_sanitize(in, len, &out));
	CHECKF(out.len == strlen(exp) && !memcmp(out.data, exp, out.len), "sanitize of %zu bytes", len);
	ubuf_free(&out);
}

static void test_utf8(void)
{
#define FFFD "\xEF\xBF\xBD"
	expect_sanitize("abc", 3, "abc");
	expect_sanitize("a\x80" "b", 3, "a" FFFD "b");
	expect_sanitize("\xF0\x9F\x98x", 4, FFFD "x");		/* truncated: one U+FFFD */
	expect_sanitize("\xE0\x80\xAF", 3, FFFD FFFD FFFD);	/* overlong: per byte */
	expect_sanitize("\xED\xA0\x80", 3, FFFD FFFD FFFD);	/* surrogate */
	expect_sanitize("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
	expect_sanitize("\xC3", 1, FFFD);
	expect_sanitize("\xC3\xA9\xE4\xBD\xA0", 5, "\xC3\xA9\xE4\xBD\xA0");
	CHECK(uc_utf8_valid("a\0b", 3));	/* NUL is a character */
	CHECK(uc_utf8_valid("\xF4\x8F\xBF\xBF", 4));
	CHECK(!uc_utf8_valid("\xF4\x90\x80\x80", 4));
	CHECK_EQ_INT(uc_utf8_complete_prefix((const uint8_t *)"ab\xF0\x9F", 4), 2);
	CHECK_EQ_INT(uc_utf8_complete_prefix((const uint8_t *)"ab\xF0\x9F\x99\x82", 6), 6);
	CHECK_EQ_INT(uc_utf8_complete_prefix((const uint8_t *)"ab\xED\xA0", 4), 4);	/* not a prefix */
	CHECK_EQ_INT(uc_utf8_complete_prefix((const uint8_t *)"\xE4", 1), 0);
#undef FFFD
}

static void expect_nfc(const char *in, const char *exp)
{
	struct ubuf out = { 0 };

	CHECK(uc_nfc(in, strlen(in), &out));
	CHECKF(out.data && !strcmp(out.data, exp), "NFC(\"%s\") = \"%s\", expected \"%s\"",
	       in, out.data ? out.data : "", exp);
	ubuf_free(&out);
}

static void test_nfc(void)
{
	expect_nfc("abc", "abc");
	expect_nfc("e\xCC\x81", "\xC3\xA9");			/* e + acute -> é */
	expect_nfc("\xE2\x84\xAB", "\xC3\x85");			/* Angstrom sign -> Å */
	expect_nfc("a\xCC\x81\xCC\xA3", "\xE1\xBA\xA1\xCC\x81");	/* reorder: ạ + acute */
	expect_nfc("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", "\xED\x95\x9C");	/* Hangul LVT */
	expect_nfc("\xE0\xA5\x98", "\xE0\xA4\x95\xE0\xA4\xBC");	/* exclusion: U+0958 stays decomposed */
	expect_nfc("\xCC\x81" "a", "\xCC\x81" "a");		/* leading mark */
	expect_nfc("\xEF\xA4\x80", "\xE8\xB1\x88");		/* CJK compat U+F900 -> U+8C48 */
	CHECK_EQ_INT(uc_ccc(0x301), 230);
	CHECK_EQ_INT(uc_ccc('a'), 0);
}

/* ---- large inputs -------------------------------------------------------- */

static void test_large(void)
{
	struct tokenizer *t;
	struct tok_ids ids = { 0 };
	size_t n = 1 << 20;
	char *big = malloc(n);
	int32_t aa;

	vocab_reset();
	aa = add_tok("aa", TOK_TYPE_NORMAL);
	merge_list[n_merge++] = "a a";
	t = build();
	if (!t || !big) {
		free(big);
		tokenizer_free(t);
		return;
	}
	/* One 1 MiB word: heap BPE, not quadratic. */
	memset(big, 'a', n);
	CHECK_EQ_INT(tokenizer_encode(t, big, n, 0, &ids, NULL, 0), 0);
	CHECK_EQ_INT(ids.n, n / 2);
	CHECK(ids.n && ids.ids[0] == aa && ids.ids[ids.n - 1] == aa);
	/* 1 MiB of spaces, then of newlines+spaces, then random bytes. */
	memset(big, ' ', n);
	ids.n = 0;
	CHECK_EQ_INT(tokenizer_encode(t, big, n, 0, &ids, NULL, 0), 0);
	CHECK_EQ_INT(ids.n, n);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 7 ? ' ' : '\n';
	ids.n = 0;
	CHECK_EQ_INT(tokenizer_encode(t, big, n, 0, &ids, NULL, 0), 0);
	CHECK_EQ_INT(ids.n, n);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)((i * 2654435761u) >> 13);
	ids.n = 0;
	CHECK_EQ_INT(tokenizer_encode(t, big, n, TOK_ENCODE_PARSE_SPECIAL, &ids, NULL, 0), 0);
	CHECK(ids.n >= n / 2);
	tok_ids_free(&ids);
	free(big);
	tokenizer_free(t);
}

/* ---- GGUF ---------------------------------------------------------------- */

struct gw {
	uint8_t buf[1 << 14];
	size_t len;
};

static void gw_raw(struct gw *w, const void *p, size_t n)
{
	if (w->len + n <= sizeof(w->buf))
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void gw_u32(struct gw *w, uint32_t v) { gw_raw(w, &v, 4); }
static void gw_u64(struct gw *w, uint64_t v) { gw_raw(w, &v, 8); }

static void gw_str(struct gw *w, const char *s)
{
	gw_u64(w, strlen(s));
	gw_raw(w, s, strlen(s));
}

static void gw_kv_str(struct gw *w, const char *k, const char *v)
{
	gw_str(w, k);
	gw_u32(w, GGUF_TYPE_STRING);
	gw_str(w, v);
}

/* A GGUF holding the current vocabulary; `drop` names a key to leave out. */
static size_t make_gguf(struct gw *w, const char *drop, bool bad_bos)
{
	uint64_t n_kv = 0;
	size_t n_kv_at;

	w->len = 0;
	gw_u32(w, GGUF_MAGIC);
	gw_u32(w, 3);
	gw_u64(w, 0);
	n_kv_at = w->len;
	gw_u64(w, 0);
#define KEEP(k) (!drop || strcmp(drop, k))
	if (KEEP("tokenizer.ggml.model")) {
		gw_kv_str(w, "tokenizer.ggml.model", "gpt2");
		n_kv++;
	}
	if (KEEP("tokenizer.ggml.pre")) {
		gw_kv_str(w, "tokenizer.ggml.pre", "qwen2");
		n_kv++;
	}
	if (KEEP("tokenizer.ggml.tokens")) {
		gw_str(w, "tokenizer.ggml.tokens");
		gw_u32(w, GGUF_TYPE_ARRAY);
		gw_u32(w, GGUF_TYPE_STRING);
		gw_u64(w, n_tok);
		for (uint32_t i = 0; i < n_tok; i++)
			gw_str(w, tok_text[i]);
		n_kv++;
	}
	gw_str(w, "tokenizer.ggml.token_type");
	gw_u32(w, GGUF_TYPE_ARRAY);
	gw_u32(w, GGUF_TYPE_INT32);
	gw_u64(w, n_tok);
	for (uint32_t i = 0; i < n_tok; i++)
		gw_u32(w, (uint32_t)tok_types[i]);
	n_kv++;
	if (KEEP("tokenizer.ggml.merges")) {
		gw_str(w, "tokenizer.ggml.merges");
		gw_u32(w, GGUF_TYPE_ARRAY);
		gw_u32(w, GGUF_TYPE_STRING);
		gw_u64(w, n_merge);
		for (uint32_t i = 0; i < n_merge; i++)
			gw_str(w, merge_list[i]);
		n_kv++;
	}
	gw_str(w, "tokenizer.ggml.eos_token_id");
	gw_u32(w, GGUF_TYPE_UINT32);
	gw_u32(w, bad_bos ? 100000 : n_tok - 1);
	n_kv++;
#undef KEEP
	memcpy(w->buf + n_kv_at, &n_kv, 8);
	while (w->len % 32)
		gw_raw(w, "", 1);
	return w->len;
}

static void test_gguf(void)
{
	static struct gw w;
	char err[GGUF_ERR_LEN];
	struct gguf_ctx *ctx;
	struct tokenizer *t;
	static const char *const drops[] = { "tokenizer.ggml.model", "tokenizer.ggml.tokens",
					     "tokenizer.ggml.merges", "tokenizer.ggml.pre" };

	vocab_reset();
	add_tok("ab", TOK_TYPE_NORMAL);
	add_tok("<|end|>", TOK_TYPE_CONTROL);
	merge_list[n_merge++] = "a b";
	make_gguf(&w, NULL, false);
	CHECKF(w.len <= sizeof(w.buf), "test GGUF too large");
	ctx = gguf_open_mem(w.buf, w.len, "mem.gguf", err, sizeof(err));
	CHECKF(ctx, "gguf_open_mem: %s", err);
	if (!ctx)
		return;
	t = tokenizer_from_gguf(ctx, err, sizeof(err));
	CHECKF(t, "tokenizer_from_gguf: %s", err);
	if (t) {
		expect_ids(t, "ab<|end|>", TOK_ENCODE_PARSE_SPECIAL, IDS(256, 257));
		CHECK_EQ_INT(tokenizer_eos(t), 257);
		CHECK_EQ_INT(tokenizer_bos(t), -1);
		CHECK_EQ_INT(tokenizer_n_tokens(t), 258);
	}
	tokenizer_free(t);
	gguf_close(ctx);

	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		make_gguf(&w, drops[i], false);
		ctx = gguf_open_mem(w.buf, w.len, "mem.gguf", err, sizeof(err));
		CHECKF(ctx, "gguf_open_mem: %s", err);
		if (!ctx)
			continue;
		err[0] = 0;
		t = tokenizer_from_gguf(ctx, err, sizeof(err));
		CHECKF(!t && strstr(err, drops[i]), "without %s: error \"%s\"", drops[i], err);
		tokenizer_free(t);
		gguf_close(ctx);
	}
	make_gguf(&w, NULL, true);
	ctx = gguf_open_mem(w.buf, w.len, "mem.gguf", err, sizeof(err));
	if (ctx) {
		t = tokenizer_from_gguf(ctx, err, sizeof(err));
		CHECKF(!t && strstr(err, "out of range"), "bad eos: error \"%s\"", err);
		tokenizer_free(t);
		gguf_close(ctx);
	}
}

/* Replay the fuzzer's seed corpus and every crash it found (committed
 * with its fix) through the same checks as fuzz/tokenizer_fuzz.c. */
static void replay_one(const char *path, const char *name, int dir_index, void *ctx)
{
	static uint8_t buf[1 << 20];
	long n = corpus_read(path, buf, sizeof(buf));
	const char *bad;

	(void)name;
	(void)dir_index;
	(void)ctx;
	CHECKF(n >= 0, "cannot open %s", path);
	if (n < 0)
		return;
	bad = tokenizer_fuzz_one(buf, (size_t)n);
	CHECKF(!bad, "%s: %s", path, bad);
}

static void test_fuzz_regressions(void)
{
	int files = corpus_for_each("tokenizer", replay_one, NULL);

	CHECKF(files > 0, "no fuzz inputs found (run from the repository root)");
	tokenizer_fuzz_cleanup();
}

int main(void)
{
	RUN(test_byte_map);
	RUN(test_merge_priority);
	RUN(test_pretokenizer);
	RUN(test_specials);
	RUN(test_errors);
	RUN(test_pre_types);
	RUN(test_stream);
	RUN(test_stream_random);
	RUN(test_utf8);
	RUN(test_nfc);
	RUN(test_large);
	RUN(test_gguf);
	RUN(test_fuzz_regressions);
	return tap_done();
}

// SPDX-License-Identifier: MIT
/*
 * Byte-level BPE tokenizer (Qwen2, SmolLM, GPT-2 pre-tokenizers), see
 * tokenizer.h and docs/tokenizer.md.
 *
 * Data built once by tokenizer_new():
 *   - every token's text in one pool, an open-addressing hash text -> id;
 *   - the decoded bytes of every token (inverse GPT-2 byte map) in a pool;
 *   - byte_tok[b]: the token of the single byte-level symbol for byte b;
 *   - merges as a hash (left id, right id) -> (rank, merged id);
 *   - the special tokens (CONTROL / USER_DEFINED), longest first;
 *   - the pre-tokenizer regex compiled (and JIT-compiled) by PCRE2.
 * BPE of one pre-token: a linked list of symbols and a binary heap of
 * candidate pairs ordered by (rank, position); stale heap entries are
 * dropped when popped. O(n log n) per pre-token.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

/*
 * Pre-tokenizer regexes. Both are the ones of the HF tokenizer.json, with
 * substitutions so PCRE2 agrees with the reference (transformers.js, a JS
 * RegExp with the u flag):
 *   - \s is spelt out as the JS \s set: TAB LF VT FF CR, Zs, U+2028,
 *     U+2029, U+FEFF (PCRE2's \s differs on U+0085 and U+FEFF);
 *   - Qwen2's case-insensitive contractions are ASCII-only ('[sS]' ...), as
 *     transformers.js rewrites them (JS has no (?i:...) groups).
 *
 * Qwen2 (Split regex, then ByteLevel without regex):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
 *    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * GPT-2 (ByteLevel with use_regex; also the second step of SmolLM's
 * Sequence[Digits(individual_digits), ByteLevel]):
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 */
#define WS "\\t\\n\\x0B\\f\\r\\p{Zs}\\x{2028}\\x{2029}\\x{FEFF}"
static const char qwen2_pattern[] =
	"'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])"
	"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
	"|\\p{N}"
	"| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
	"|[" WS "]*[\\r\\n]+"
	"|[" WS "]+(?![^" WS "])"
	"|[" WS "]+";
static const char gpt2_pattern[] =
	"'s|'t|'re|'ve|'m|'ll|'d"
	"| ?\\p{L}+"
	"| ?\\p{N}+"
	"| ?[^" WS "\\p{L}\\p{N}]+"
	"|[" WS "]+(?![^" WS "])"
	"|[" WS "]+";
/* HF's Digits(individual_digits) splits on Rust's char::is_numeric, i.e.
 * \p{N} (llama.cpp: the regex "\p{N}"). transformers.js uses \d (ASCII
 * digits only); the reference script patches that, see docs/tokenizer.md. */
static const char digit_pattern[] = "\\p{N}";

/* The supported tokenizer.ggml.pre values. */
static const struct pre_type {
	const char *name;
	const char *pattern;
	bool nfc;		/* NFC normalizer before pre-tokenization */
	bool split_digits;	/* Digits(individual_digits) before the regex */
} pre_types[] = {
	{ "qwen2", qwen2_pattern, true, false },
	{ "smollm", gpt2_pattern, false, true },
	{ "gpt-2", gpt2_pattern, false, false },
};

struct special {
	const char *text;
	uint32_t len;
	int32_t id;
	bool control;
};

/* The text is in the slot (offset, length) so a lookup touches the slot and
 * the text only: loading is bound by these cache misses. */
struct vocab_slot {
	uint32_t hash;		/* high bits of the text's hash */
	uint32_t id1;		/* id + 1; 0 marks empty */
	uint32_t off, len;
};

struct merge_slot {
	uint64_t key;		/* left << 32 | right; 0 marks empty (ids are +1) */
	uint32_t rank;
	int32_t result;
};

struct tokenizer {
	uint32_t n_tokens;
	char *text_pool;
	uint32_t *text_off, *text_len;
	uint8_t *types;
	char *bytes_pool;
	uint32_t *bytes_off, *bytes_len;

	struct vocab_slot *vhash;	/* text -> id, open addressing */
	size_t vmask;

	struct merge_slot *mhash;
	size_t mmask;

	int32_t byte_tok[256];

	struct special *spec;
	size_t n_spec;
	bool spec_first[256];

	const struct pre_type *pre;
	pcre2_code *re;		/* the pre-tokenizer regex */
	pcre2_code *digit_re;	/* \p{N}, when pre->split_digits */

	int32_t bos, eos, pad;
	bool add_bos;
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* GPT-2 bytes_to_unicode: printable bytes map to themselves, the others
 * (0-0x20, 0x7F-0xA0, 0xAD) to U+0100.. in byte order. */
static uint32_t byte_to_cp(uint8_t b)
{
	if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
		return b;
	if (b <= 0x20)
		return 256u + b;
	if (b <= 0xA0)
		return 256u + 33 + (b - 0x7Fu);
	return 256u + 67;	/* 0xAD */
}

/* Inverse: -1 when cp is not in the byte-level alphabet. */
static int cp_to_byte(uint32_t cp)
{
	if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
		return (int)cp;
	if (cp >= 256 && cp < 256 + 68) {
		uint32_t n = cp - 256;

		/* 0x00-0x20 (33), 0x7F-0xA0 (34), 0xAD (1) */
		if (n < 33)
			return (int)n;
		if (n < 67)
			return (int)(0x7F + n - 33);
		return 0xAD;
	}
	return -1;
}

/* FNV-1a, then a final mix; a hash of a + b continues the state of a. */
#define FNV_INIT 1469598103934665603ull
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t fnv_mix(uint64_t h)
{
	return h ^ h >> 29;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	return fnv_mix(fnv(FNV_INIT, s, n));
}

static uint64_t hash_u64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	return k ^ k >> 33;
}

static size_t table_size(size_t n)
{
	size_t s = 16;

	while (s < n * 2)
		s *= 2;
	return s;
}

/* The slot holding the text a + b (hash h), or the empty slot where it
 * would go. */
static struct vocab_slot *vocab_probe(const struct tokenizer *tok, const char *a, size_t an,
				      const char *b, size_t bn, uint64_t h)
{
	size_t i = h & tok->vmask;

	for (;; i = (i + 1) & tok->vmask) {
		struct vocab_slot *e = &tok->vhash[i];
		const char *t;

		if (!e->id1)
			return e;
		t = tok->text_pool + e->off;
		if (e->hash == (uint32_t)(h >> 32) && e->len == an + bn &&
		    !memcmp(t, a, an) && !memcmp(t + an, b, bn))
			return e;
	}
}

int32_t tokenizer_find(const struct tokenizer *tok, const char *text, size_t len)
{
	return (int32_t)vocab_probe(tok, text, len, "", 0, hash_bytes(text, len))->id1 - 1;
}

static const struct merge_slot *merge_find(const struct tokenizer *tok, int32_t l, int32_t r)
{
	uint64_t key = (uint64_t)(uint32_t)(l + 1) << 32 | (uint32_t)(r + 1);
	size_t i = hash_u64(key) & tok->mmask;

	for (;; i = (i + 1) & tok->mmask) {
		const struct merge_slot *s = &tok->mhash[i];

		if (!s->key)
			return NULL;
		if (s->key == key)
			return s;
	}
}

void tokenizer_free(struct tokenizer *tok)
{
	if (!tok)
		return;
	free(tok->text_pool);
	free(tok->text_off);
	free(tok->text_len);
	free(tok->types);
	free(tok->bytes_pool);
	free(tok->bytes_off);
	free(tok->bytes_len);
	free(tok->vhash);
	free(tok->mhash);
	free(tok->spec);
	if (tok->re)
		pcre2_code_free(tok->re);
	if (tok->digit_re)
		pcre2_code_free(tok->digit_re);
	free(tok);
}

static size_t slen(const char *const *strs, const uint32_t *lens, uint32_t i)
{
	return lens ? lens[i] : strlen(strs[i]);
}

static int spec_cmp(const void *a, const void *b)
{
	const struct special *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct pre_type *find_pre(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(pre_types) / sizeof(pre_types[0]); i++)
		if (!strcmp(name, pre_types[i].name))
			return &pre_types[i];
	return NULL;
}

static pcre2_code *compile_re(const char *pattern, char *err, size_t err_len)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
				       &errcode, &erroff, NULL);

	if (!re) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		set_err(err, err_len, "PCRE2: cannot compile the pre-tokenizer regex at %zu: %s",
			(size_t)erroff, (const char *)msg);
		return NULL;
	}
	/* JIT is an optimisation: without it pcre2_match interprets. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/* Decoded bytes of token i into the pool at *pos (pool has room). */
static uint32_t decode_token_text(const char *t, size_t n, enum tok_type type, char *dst)
{
	const uint8_t *u = (const uint8_t *)t;
	size_t i = 0, o = 0;

	if (type == TOK_TYPE_UNUSED)
		return 0;
	if (type == TOK_TYPE_CONTROL || type == TOK_TYPE_USER_DEFINED) {
		memcpy(dst, t, n);
		return (uint32_t)n;
	}
	while (i < n) {
		size_t at = i;
		bool ok;
		uint32_t cp = uc_utf8_next(u, n, &i, &ok);
		int b = ok ? cp_to_byte(cp) : -1;

		if (b >= 0) {
			dst[o++] = (char)b;
		} else {
			/* Not in the byte-level alphabet: keep the text. */
			memcpy(dst + o, t + at, i - at);
			o += i - at;
		}
	}
	return (uint32_t)o;
}

/*
 * Fill the merge hash. Loading is dominated by cache misses in the two
 * hash tables, so merges go in batches: hash every side and the merged
 * text (which continues the left side's hash state) and prefetch their
 * slots, look them all up, prefetch the merge slots, insert. Errors are
 * reported for the first bad merge, as a one-by-one loop would.
 */
#define MERGE_BATCH 16
static int add_merges(struct tokenizer *tok, const struct tok_spec *spec, char *err, size_t err_len)
{
	struct {
		const char *m;
		size_t n, ln;
		uint64_t hl, hr, hc, key;
		int32_t res;
	} b[MERGE_BATCH];

	for (uint32_t base = 0; base < spec->n_merges; base += MERGE_BATCH) {
		uint32_t cnt = spec->n_merges - base < MERGE_BATCH ? spec->n_merges - base : MERGE_BATCH;

		for (uint32_t j = 0; j < cnt; j++) {
			const char *m = spec->merges[base + j], *sp;
			size_t n = m ? slen(spec->merges, spec->merge_lens, base + j) : 0;
			uint64_t st;

			/* Split at the first space after the first byte (as llama.cpp). */
			sp = n > 1 ? memchr(m + 1, ' ', n - 1) : NULL;
			b[j].m = m;
			b[j].n = n;
			b[j].ln = sp ? (size_t)(sp - m) : 0;
			if (!sp)
				continue;
			st = fnv(FNV_INIT, m, b[j].ln);
			b[j].hl = fnv_mix(st);
			b[j].hr = hash_bytes(sp + 1, n - b[j].ln - 1);
			b[j].hc = fnv_mix(fnv(st, sp + 1, n - b[j].ln - 1));
			__builtin_prefetch(&tok->vhash[b[j].hl & tok->vmask]);
			__builtin_prefetch(&tok->vhash[b[j].hr & tok->vmask]);
			__builtin_prefetch(&tok->vhash[b[j].hc & tok->vmask]);
		}
		for (uint32_t j = 0; j < cnt; j++) {
			const char *m = b[j].m, *r_text = m + b[j].ln + 1;
			size_t n = b[j].n, rn = n - b[j].ln - 1;
			int32_t l, r;

			if (!b[j].ln) {
				set_err(err, err_len, "tokenizer.ggml.merges[%u] \"%.*s\" is not \"left right\"",
					base + j, (int)(n > 64 ? 64 : n), m ? m : "");
				return -1;
			}
			l = (int32_t)vocab_probe(tok, m, b[j].ln, "", 0, b[j].hl)->id1 - 1;
			r = (int32_t)vocab_probe(tok, r_text, rn, "", 0, b[j].hr)->id1 - 1;
			if (l < 0 || r < 0) {
				set_err(err, err_len, "tokenizer.ggml.merges[%u] \"%.*s\": %s side is not a token",
					base + j, (int)(n > 64 ? 64 : n), m, l < 0 ? "left" : "right");
				return -1;
			}
			b[j].res = (int32_t)vocab_probe(tok, m, b[j].ln, r_text, rn, b[j].hc)->id1 - 1;
			if (b[j].res < 0) {
				set_err(err, err_len, "tokenizer.ggml.merges[%u] \"%.*s\": the merged text is not a token",
					base + j, (int)(n > 64 ? 64 : n), m);
				return -1;
			}
			b[j].key = (uint64_t)(uint32_t)(l + 1) << 32 | (uint32_t)(r + 1);
			__builtin_prefetch(&tok->mhash[hash_u64(b[j].key) & tok->mmask], 1);
		}
		for (uint32_t j = 0; j < cnt; j++) {
			uint64_t key = b[j].key;
			size_t h = hash_u64(key) & tok->mmask;

			while (tok->mhash[h].key && tok->mhash[h].key != key)
				h = (h + 1) & tok->mmask;
			if (tok->mhash[h].key)
				continue;	/* duplicate merge: the first rank wins */
			tok->mhash[h].key = key;
			tok->mhash[h].rank = base + j;
			tok->mhash[h].result = b[j].res;
		}
	}
	return 0;
}

#define TOK_AHEAD 16
struct tokenizer *tokenizer_new(const struct tok_spec *spec, char *err, size_t err_len)
{
	struct tokenizer *tok;
	const struct pre_type *pre;
	size_t pool = 0, bpool = 0, n_spec = 0;
	uint32_t i;
	uint64_t ahead[TOK_AHEAD];

	if (!spec->model || strcmp(spec->model, "gpt2")) {
		set_err(err, err_len, "tokenizer.ggml.model is \"%s\", only \"gpt2\" (byte-level BPE) is supported",
			spec->model ? spec->model : "(missing)");
		return NULL;
	}
	pre = find_pre(spec->pre);
	if (!pre) {
		set_err(err, err_len, "tokenizer.ggml.pre is %s%s%s, not a supported pre-tokenizer "
			"(supported: qwen2, smollm, gpt-2)", spec->pre ? "\"" : "",
			spec->pre ? spec->pre : "missing", spec->pre ? "\"" : "");
		return NULL;
	}
	if (!spec->n_tokens || !spec->tokens || spec->n_tokens > INT32_MAX - 1) {
		set_err(err, err_len, "tokenizer.ggml.tokens is missing or empty");
		return NULL;
	}
	if (spec->n_merges && !spec->merges) {
		set_err(err, err_len, "tokenizer.ggml.merges is missing");
		return NULL;
	}
	if ((spec->bos_id >= 0 && (uint32_t)spec->bos_id >= spec->n_tokens) ||
	    (spec->eos_id >= 0 && (uint32_t)spec->eos_id >= spec->n_tokens) ||
	    (spec->pad_id >= 0 && (uint32_t)spec->pad_id >= spec->n_tokens)) {
		set_err(err, err_len, "bos/eos/padding id (%d/%d/%d) out of range for %u tokens",
			spec->bos_id, spec->eos_id, spec->pad_id, spec->n_tokens);
		return NULL;
	}

	tok = calloc(1, sizeof(*tok));
	if (!tok)
		goto oom;
	tok->n_tokens = spec->n_tokens;
	tok->pre = pre;
	tok->bos = spec->bos_id < 0 ? -1 : spec->bos_id;
	tok->eos = spec->eos_id < 0 ? -1 : spec->eos_id;
	tok->pad = spec->pad_id < 0 ? -1 : spec->pad_id;
	tok->add_bos = spec->add_bos;

	for (i = 0; i < spec->n_tokens; i++) {
		size_t n = slen(spec->tokens, spec->token_lens, i);

		if (!spec->tokens[i] || n > UINT32_MAX / 2) {
			set_err(err, err_len, "tokenizer.ggml.tokens[%u] is invalid", i);
			goto fail;
		}
		pool += n;
		bpool += n;
		if (pool > UINT32_MAX) {
			set_err(err, err_len, "tokenizer.ggml.tokens: texts too large");
			goto fail;
		}
	}
	tok->text_pool = malloc(pool + 1);
	tok->bytes_pool = malloc(bpool + 1);
	tok->text_off = malloc(spec->n_tokens * sizeof(uint32_t));
	tok->text_len = malloc(spec->n_tokens * sizeof(uint32_t));
	tok->bytes_off = malloc(spec->n_tokens * sizeof(uint32_t));
	tok->bytes_len = malloc(spec->n_tokens * sizeof(uint32_t));
	tok->types = malloc(spec->n_tokens);
	tok->vmask = table_size(spec->n_tokens) - 1;
	tok->vhash = calloc(tok->vmask + 1, sizeof(*tok->vhash));
	if (!tok->text_pool || !tok->bytes_pool || !tok->text_off || !tok->text_len ||
	    !tok->bytes_off || !tok->bytes_len || !tok->types || !tok->vhash)
		goto oom;

	pool = bpool = 0;
	/* Hashes computed TOK_AHEAD tokens early, their slots prefetched. */
	for (i = 0; i < TOK_AHEAD && i < spec->n_tokens; i++) {
		ahead[i] = hash_bytes(spec->tokens[i], slen(spec->tokens, spec->token_lens, i));
		__builtin_prefetch(&tok->vhash[ahead[i] & tok->vmask]);
	}
	for (i = 0; i < spec->n_tokens; i++) {
		size_t n = slen(spec->tokens, spec->token_lens, i);
		uint64_t hv = ahead[i % TOK_AHEAD];
		struct vocab_slot *e;
		int32_t type = spec->token_types ? spec->token_types[i] : TOK_TYPE_NORMAL;

		if (type < TOK_TYPE_UNDEFINED || type > TOK_TYPE_BYTE) {
			set_err(err, err_len, "tokenizer.ggml.token_type[%u] = %d is not a token type", i, type);
			goto fail;
		}
		tok->types[i] = (uint8_t)type;
		memcpy(tok->text_pool + pool, spec->tokens[i], n);
		tok->text_off[i] = (uint32_t)pool;
		tok->text_len[i] = (uint32_t)n;
		pool += n;
		tok->bytes_off[i] = (uint32_t)bpool;
		tok->bytes_len[i] = decode_token_text(spec->tokens[i], n, type, tok->bytes_pool + bpool);
		bpool += tok->bytes_len[i];
		if ((type == TOK_TYPE_CONTROL || type == TOK_TYPE_USER_DEFINED) && n)
			n_spec++;
		if (i + TOK_AHEAD < spec->n_tokens) {
			uint32_t k = i + TOK_AHEAD;
			uint64_t hk = hash_bytes(spec->tokens[k], slen(spec->tokens, spec->token_lens, k));

			ahead[k % TOK_AHEAD] = hk;
			__builtin_prefetch(&tok->vhash[hk & tok->vmask]);
		}
		/* First id wins for duplicate texts. */
		e = vocab_probe(tok, spec->tokens[i], n, "", 0, hv);
		if (e->id1)
			continue;
		e->hash = (uint32_t)(hv >> 32);
		e->id1 = i + 1;
		e->off = tok->text_off[i];
		e->len = (uint32_t)n;
	}

	for (i = 0; i < 256; i++) {
		char buf[4];
		size_t n = uc_utf8_encode(byte_to_cp((uint8_t)i), buf);

		/* -1 when the vocabulary lacks it (SmolLM2 has no token for
		 * 21 bytes): such a symbol is dropped, as HF (BPE without
		 * unk_token) and llama.cpp do. */
		tok->byte_tok[i] = tokenizer_find(tok, buf, n);
	}

	tok->mmask = table_size(spec->n_merges) - 1;
	tok->mhash = calloc(tok->mmask + 1, sizeof(*tok->mhash));
	if (!tok->mhash)
		goto oom;
	if (add_merges(tok, spec, err, err_len))
		goto fail;

	tok->spec = calloc(n_spec ? n_spec : 1, sizeof(*tok->spec));
	if (!tok->spec)
		goto oom;
	for (i = 0; i < spec->n_tokens; i++) {
		if ((tok->types[i] == TOK_TYPE_CONTROL || tok->types[i] == TOK_TYPE_USER_DEFINED) &&
		    tok->text_len[i]) {
			struct special *s = &tok->spec[tok->n_spec++];

			s->text = tok->text_pool + tok->text_off[i];
			s->len = tok->text_len[i];
			s->id = (int32_t)i;
			s->control = tok->types[i] == TOK_TYPE_CONTROL;
			tok->spec_first[(uint8_t)s->text[0]] = true;
		}
	}
	qsort(tok->spec, tok->n_spec, sizeof(*tok->spec), spec_cmp);

	tok->re = compile_re(pre->pattern, err, err_len);
	if (!tok->re)
		goto fail;
	if (pre->split_digits) {
		tok->digit_re = compile_re(digit_pattern, err, err_len);
		if (!tok->digit_re)
			goto fail;
	}
	return tok;

oom:
	set_err(err, err_len, "out of memory building the tokenizer");
fail:
	tokenizer_free(tok);
	return NULL;
}

/* ---- GGUF ------------------------------------------------------------ */

static char *dup_gstr(struct gguf_str s)
{
	char *p = malloc(s.len + 1);

	if (p) {
		memcpy(p, s.ptr, s.len);
		p[s.len] = 0;
	}
	return p;
}

static bool get_id(const struct gguf_ctx *ctx, const char *key, int32_t *out,
		   char *err, size_t err_len)
{
	uint32_t v;

	*out = -1;
	if (!gguf_find_kv(ctx, key))
		return true;
	if (!gguf_get_u32(ctx, key, &v) || v > INT32_MAX) {
		set_err(err, err_len, "%s is not a token id", key);
		return false;
	}
	*out = (int32_t)v;
	return true;
}

/* Fill strs/lens from a string array; false with err set otherwise. */
static bool get_strs(const struct gguf_ctx *ctx, const char *key, uint32_t *n,
		     const char ***strs, uint32_t **lens, char *err, size_t err_len)
{
	struct gguf_array arr;

	*n = 0;
	*strs = NULL;
	*lens = NULL;
	if (!gguf_get_arr(ctx, key, GGUF_TYPE_STRING, &arr)) {
		set_err(err, err_len, gguf_find_kv(ctx, key) ? "%s is not an array of strings"
							     : "%s is missing", key);
		return false;
	}
	if (arr.count > INT32_MAX - 1) {
		set_err(err, err_len, "%s has too many entries", key);
		return false;
	}
	*strs = malloc((arr.count ? arr.count : 1) * sizeof(**strs));
	*lens = malloc((arr.count ? arr.count : 1) * sizeof(**lens));
	if (!*strs || !*lens) {
		set_err(err, err_len, "out of memory");
		return false;
	}
	for (uint64_t i = 0; i < arr.count; i++) {
		struct gguf_value v;

		if (!gguf_arr_get(&arr, i, &v) || v.type != GGUF_TYPE_STRING || v.str.len > UINT32_MAX / 2) {
			set_err(err, err_len, "%s[%llu] is not a string", key, (unsigned long long)i);
			return false;
		}
		(*strs)[i] = v.str.ptr;
		(*lens)[i] = (uint32_t)v.str.len;
	}
	*n = (uint32_t)arr.count;
	return true;
}

struct tokenizer *tokenizer_from_gguf(const struct gguf_ctx *ctx, char *err, size_t err_len)
{
	struct tok_spec spec = { 0 };
	struct tokenizer *tok = NULL;
	struct gguf_str s;
	struct gguf_array arr;
	char *model = NULL, *pre = NULL;
	const char **tokens = NULL, **merges = NULL;
	uint32_t *tlens = NULL, *mlens = NULL;
	int32_t *types = NULL;

	if (!gguf_get_str(ctx, "tokenizer.ggml.model", &s)) {
		set_err(err, err_len, "tokenizer.ggml.model is missing (not a model with a vocabulary?)");
		goto out;
	}
	model = dup_gstr(s);
	if (gguf_get_str(ctx, "tokenizer.ggml.pre", &s))
		pre = dup_gstr(s);
	if (!model || (gguf_find_kv(ctx, "tokenizer.ggml.pre") && !pre)) {
		set_err(err, err_len, "out of memory / tokenizer.ggml.pre is not a string");
		goto out;
	}
	spec.model = model;
	spec.pre = pre;
	if (strcmp(model, "gpt2") || !find_pre(pre)) {
		tok = tokenizer_new(&spec, err, err_len);	/* reports the mismatch */
		goto out;
	}
	if (!get_strs(ctx, "tokenizer.ggml.tokens", &spec.n_tokens, &tokens, &tlens, err, err_len))
		goto out;
	spec.tokens = tokens;
	spec.token_lens = tlens;
	if (gguf_find_kv(ctx, "tokenizer.ggml.token_type")) {
		if (!gguf_get_arr(ctx, "tokenizer.ggml.token_type", GGUF_TYPE_COUNT, &arr) ||
		    arr.count != spec.n_tokens) {
			set_err(err, err_len, "tokenizer.ggml.token_type is not an array of %u integers",
				spec.n_tokens);
			goto out;
		}
		types = malloc(spec.n_tokens * sizeof(*types));
		if (!types) {
			set_err(err, err_len, "out of memory");
			goto out;
		}
		for (uint32_t i = 0; i < spec.n_tokens; i++) {
			struct gguf_value v;

			if (!gguf_arr_get(&arr, i, &v) ||
			    (v.type != GGUF_TYPE_INT32 && v.type != GGUF_TYPE_UINT32 &&
			     v.type != GGUF_TYPE_INT8 && v.type != GGUF_TYPE_UINT8 &&
			     v.type != GGUF_TYPE_INT16 && v.type != GGUF_TYPE_UINT16)) {
				set_err(err, err_len, "tokenizer.ggml.token_type[%u] is not an integer", i);
				goto out;
			}
			types[i] = v.type == GGUF_TYPE_INT32 || v.type == GGUF_TYPE_INT8 ||
				   v.type == GGUF_TYPE_INT16 ? (int32_t)v.i64 : (int32_t)v.u64;
		}
		spec.token_types = types;
	}
	if (!get_strs(ctx, "tokenizer.ggml.merges", &spec.n_merges, &merges, &mlens, err, err_len))
		goto out;
	spec.merges = merges;
	spec.merge_lens = mlens;
	if (!get_id(ctx, "tokenizer.ggml.bos_token_id", &spec.bos_id, err, err_len) ||
	    !get_id(ctx, "tokenizer.ggml.eos_token_id", &spec.eos_id, err, err_len) ||
	    !get_id(ctx, "tokenizer.ggml.padding_token_id", &spec.pad_id, err, err_len))
		goto out;
	if (gguf_find_kv(ctx, "tokenizer.ggml.add_bos_token") &&
	    !gguf_get_bool(ctx, "tokenizer.ggml.add_bos_token", &spec.add_bos)) {
		set_err(err, err_len, "tokenizer.ggml.add_bos_token is not a bool");
		goto out;
	}
	tok = tokenizer_new(&spec, err, err_len);
out:
	free(model);
	free(pre);
	free(tokens);
	free(tlens);
	free(merges);
	free(mlens);
	free(types);
	return tok;
}

/* ---- accessors ------------------------------------------------------- */

uint32_t tokenizer_n_tokens(const struct tokenizer *tok) { return tok->n_tokens; }
int32_t tokenizer_bos(const struct tokenizer *tok) { return tok->bos; }
int32_t tokenizer_eos(const struct tokenizer *tok) { return tok->eos; }
int32_t tokenizer_pad(const struct tokenizer *tok) { return tok->pad; }
bool tokenizer_add_bos(const struct tokenizer *tok) { return tok->add_bos; }

enum tok_type tokenizer_token_type(const struct tokenizer *tok, int32_t id)
{
	if (id < 0 || (uint32_t)id >= tok->n_tokens)
		return TOK_TYPE_UNDEFINED;
	return (enum tok_type)tok->types[id];
}

const char *tokenizer_token_text(const struct tokenizer *tok, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= tok->n_tokens)
		return NULL;
	*len = tok->text_len[id];
	return tok->text_pool + tok->text_off[id];
}

const char *tokenizer_token_bytes(const struct tokenizer *tok, int32_t id, size_t *len)
{
	if (id < 0 || (uint32_t)id >= tok->n_tokens)
		return NULL;
	*len = tok->bytes_len[id];
	return tok->bytes_pool + tok->bytes_off[id];
}

void tok_ids_free(struct tok_ids *v)
{
	free(v->ids);
	v->ids = NULL;
	v->n = v->cap = 0;
}

static bool ids_push(struct tok_ids *v, int32_t id)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		int32_t *p = realloc(v->ids, cap * sizeof(*p));

		if (!p)
			return false;
		v->ids = p;
		v->cap = cap;
	}
	v->ids[v->n++] = id;
	return true;
}

/* ---- encoding -------------------------------------------------------- */

struct heap_ent {
	uint32_t rank;
	uint32_t pos;
	int32_t left, right;
};

struct scratch {
	int32_t *sym, *prev, *next;
	struct heap_ent *heap;
	size_t cap, heap_n;
	struct ubuf norm;
	pcre2_match_data *md;
};

static bool heap_less(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(struct scratch *sc, struct heap_ent e)
{
	size_t i = sc->heap_n++;

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!heap_less(&e, &sc->heap[p]))
			break;
		sc->heap[i] = sc->heap[p];
		i = p;
	}
	sc->heap[i] = e;
}

static struct heap_ent heap_pop(struct scratch *sc)
{
	struct heap_ent top = sc->heap[0], last = sc->heap[--sc->heap_n];
	size_t i = 0, n = sc->heap_n;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && heap_less(&sc->heap[c + 1], &sc->heap[c]))
			c++;
		if (!heap_less(&sc->heap[c], &last))
			break;
		sc->heap[i] = sc->heap[c];
		i = c;
	}
	if (n)
		sc->heap[i] = last;
	return top;
}

static bool scratch_grow(struct scratch *sc, size_t n)
{
	size_t cap;

	if (n <= sc->cap)
		return true;
	cap = sc->cap ? sc->cap : 64;
	while (cap < n)
		cap *= 2;
	free(sc->sym);
	free(sc->prev);
	free(sc->next);
	free(sc->heap);
	sc->sym = malloc(cap * sizeof(int32_t));
	sc->prev = malloc(cap * sizeof(int32_t));
	sc->next = malloc(cap * sizeof(int32_t));
	/* n - 1 initial pairs plus at most 2 per merge (n - 1 merges). */
	sc->heap = malloc(3 * cap * sizeof(*sc->heap));
	sc->cap = sc->sym && sc->prev && sc->next && sc->heap ? cap : 0;
	return sc->cap != 0;
}

static void push_pair(const struct tokenizer *tok, struct scratch *sc, int32_t pos)
{
	int32_t nx = sc->next[pos];
	const struct merge_slot *m;

	if (nx < 0)
		return;
	m = merge_find(tok, sc->sym[pos], sc->sym[nx]);
	if (m)
		heap_push(sc, (struct heap_ent){ m->rank, (uint32_t)pos, sc->sym[pos], sc->sym[nx] });
}

/* BPE of one pre-token (bytes); append ids. */
static int bpe_word(const struct tokenizer *tok, struct scratch *sc, const char *w, size_t n,
		    struct tok_ids *out)
{
	size_t i;
	int32_t p;

	if (n == 1) {
		int32_t id = tok->byte_tok[(uint8_t)w[0]];

		return id < 0 || ids_push(out, id) ? 0 : -1;
	}
	if (n > INT32_MAX || !scratch_grow(sc, n))
		return -1;
	for (i = 0; i < n; i++) {
		sc->sym[i] = tok->byte_tok[(uint8_t)w[i]];
		sc->prev[i] = (int32_t)i - 1;
		sc->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
	}
	sc->heap_n = 0;
	for (i = 0; i + 1 < n; i++)
		push_pair(tok, sc, (int32_t)i);
	while (sc->heap_n) {
		struct heap_ent e = heap_pop(sc);
		int32_t l = (int32_t)e.pos, r = sc->next[l];
		const struct merge_slot *m;

		/* Stale: the left symbol died or either side changed. */
		if (sc->sym[l] != e.left || r < 0 || sc->sym[r] != e.right)
			continue;
		m = merge_find(tok, e.left, e.right);
		sc->sym[l] = m->result;
		sc->sym[r] = -1;
		sc->next[l] = sc->next[r];
		if (sc->next[r] >= 0)
			sc->prev[sc->next[r]] = l;
		if (sc->prev[l] >= 0)
			push_pair(tok, sc, sc->prev[l]);
		push_pair(tok, sc, l);
	}
	for (p = 0; p >= 0; p = sc->next[p])
		if (sc->sym[p] >= 0 && !ids_push(out, sc->sym[p]))
			return -1;
	return 0;
}

/* PCRE2 match of re in t[0..n) from start; 1 with [*ms, *me), 0 for no
 * match, -1 on error (err filled). */
static int re_next(const pcre2_code *re, pcre2_match_data *md, const char *t, size_t n,
		   size_t start, size_t *ms, size_t *me, char *err, size_t err_len)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)t, n, start, PCRE2_NO_UTF_CHECK, md, NULL);
	PCRE2_SIZE *ov;

	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(re, (PCRE2_SPTR)t, n, start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
				 md, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		set_err(err, err_len, "PCRE2 match failed: %s", (const char *)msg);
		return -1;
	}
	ov = pcre2_get_ovector_pointer(md);
	*ms = ov[0];
	*me = ov[1];
	return 1;
}

/* Split t[0..n) (well-formed UTF-8) with the pre-tokenizer regex and BPE
 * each piece; text between matches is a piece of its own. */
static int pretok_bpe(const struct tokenizer *tok, struct scratch *sc, const char *t, size_t n,
		      struct tok_ids *out, char *err, size_t err_len)
{
	size_t prev = 0, start = 0, ms, me;

	while (start < n) {
		int rc = re_next(tok->re, sc->md, t, n, start, &ms, &me, err, err_len);

		if (rc < 0)
			return -1;
		if (!rc)
			break;
		if (ms > prev && bpe_word(tok, sc, t + prev, ms - prev, out))
			goto oom;
		if (me > ms) {
			if (bpe_word(tok, sc, t + ms, me - ms, out))
				goto oom;
			prev = start = me;
		} else {
			/* Empty match (our regexes have none): step one
			 * code point, the text joins the next gap. */
			prev = ms;
			start = ms + 1;
			while (start < n && ((uint8_t)t[start] & 0xC0) == 0x80)
				start++;
		}
	}
	if (prev < n && bpe_word(tok, sc, t + prev, n - prev, out))
		goto oom;
	return 0;
oom:
	set_err(err, err_len, "out of memory");
	return -1;
}

/* Normalise, pre-tokenise and BPE one segment of well-formed UTF-8 without
 * added tokens. */
static int encode_segment(const struct tokenizer *tok, struct scratch *sc, const char *s, size_t n,
			  struct tok_ids *out, char *err, size_t err_len)
{
	size_t pos = 0, ms, me;

	if (!n)
		return 0;
	if (tok->pre->nfc) {
		sc->norm.len = 0;
		if (!uc_nfc(s, n, &sc->norm)) {
			set_err(err, err_len, "out of memory");
			return -1;
		}
		s = sc->norm.data;
		n = sc->norm.len;
	}
	if (!tok->digit_re)
		return pretok_bpe(tok, sc, s, n, out, err, err_len);
	/* Digits(individual_digits): every \p{N} code point is a piece of
	 * its own; the regex runs on each stretch between them separately
	 * (its lookahead sees the stretch's end, not the digit). */
	while (pos < n) {
		int rc = re_next(tok->digit_re, sc->md, s, n, pos, &ms, &me, err, err_len);

		if (rc < 0)
			return -1;
		if (!rc || me <= ms)
			break;
		if (ms > pos && pretok_bpe(tok, sc, s + pos, ms - pos, out, err, err_len))
			return -1;
		if (bpe_word(tok, sc, s + ms, me - ms, out)) {
			set_err(err, err_len, "out of memory");
			return -1;
		}
		pos = me;
	}
	return pos < n ? pretok_bpe(tok, sc, s + pos, n - pos, out, err, err_len) : 0;
}

int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len,
		     unsigned flags, struct tok_ids *out, char *err, size_t err_len)
{
	struct scratch sc = { 0 };
	struct ubuf clean = { 0 };
	const char *s = text;
	size_t i = 0, seg = 0;
	int ret = -1;
	bool ctl = flags & TOK_ENCODE_PARSE_SPECIAL;
	bool user = !(flags & TOK_ENCODE_NO_USER_DEFINED);

	sc.md = pcre2_match_data_create(1, NULL);
	if (!sc.md)
		goto oom;
	if (!uc_utf8_valid(text, len)) {
		if (!uc_utf8_sanitize(text, len, &clean))
			goto oom;
		s = clean.data;
		len = clean.len;
	}
	if (ctl || user) {
		while (i < len) {
			const struct special *hit = NULL;

			if (tok->spec_first[(uint8_t)s[i]]) {
				for (size_t k = 0; k < tok->n_spec; k++) {
					const struct special *sp = &tok->spec[k];

					if ((sp->control ? ctl : user) && sp->len <= len - i &&
					    !memcmp(s + i, sp->text, sp->len)) {
						hit = sp;	/* longest first */
						break;
					}
				}
			}
			if (!hit) {
				i++;
				continue;
			}
			if (encode_segment(tok, &sc, s + seg, i - seg, out, err, err_len))
				goto out;
			if (!ids_push(out, hit->id))
				goto oom;
			i += hit->len;
			seg = i;
		}
	}
	if (encode_segment(tok, &sc, s + seg, len - seg, out, err, err_len))
		goto out;
	ret = 0;
	goto out;
oom:
	set_err(err, err_len, "out of memory");
out:
	free(sc.sym);
	free(sc.prev);
	free(sc.next);
	free(sc.heap);
	ubuf_free(&sc.norm);
	if (sc.md)
		pcre2_match_data_free(sc.md);
	ubuf_free(&clean);
	return ret;
}

/* ---- decoding -------------------------------------------------------- */

int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n,
		     unsigned flags, struct ubuf *out, size_t *bad_index)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *b = tokenizer_token_bytes(tok, ids[i], &len);

		if (!b) {
			if (bad_index)
				*bad_index = i;
			return -2;
		}
		if ((flags & TOK_DECODE_SKIP_CONTROL) && tok->types[ids[i]] == TOK_TYPE_CONTROL)
			continue;
		if (!ubuf_append(out, b, len))
			return -1;
	}
	return 0;
}

void tok_stream_init(struct tok_stream *st, unsigned decode_flags)
{
	memset(st, 0, sizeof(*st));
	st->flags = decode_flags;
}

/* Append buf with ill-formed subsequences replaced. */
static int emit_sanitized(const uint8_t *b, size_t n, struct ubuf *out)
{
	return uc_utf8_sanitize((const char *)b, n, out) ? 0 : -1;
}

int tok_stream_feed(const struct tokenizer *tok, struct tok_stream *st, int32_t id,
		    struct ubuf *out)
{
	size_t len, done, keep;
	const char *b = tokenizer_token_bytes(tok, id, &len);
	uint8_t small[4 + 64];
	uint8_t *buf;

	if (!b)
		return -2;
	if ((st->flags & TOK_DECODE_SKIP_CONTROL) && tok->types[id] == TOK_TYPE_CONTROL)
		return 0;
	if (!len)
		return 0;
	/* pending (<= 3 bytes) + the token's bytes */
	buf = len <= 64 ? small : malloc(st->n_pending + len);
	if (!buf)
		return -1;
	memcpy(buf, st->pending, st->n_pending);
	memcpy(buf + st->n_pending, b, len);
	len += st->n_pending;
	done = uc_utf8_complete_prefix(buf, len);
	keep = len - done;
	if (emit_sanitized(buf, done, out)) {
		if (buf != small)
			free(buf);
		return -1;
	}
	memcpy(st->pending, buf + done, keep);
	st->n_pending = keep;
	if (buf != small)
		free(buf);
	return 0;
}

int tok_stream_flush(struct tok_stream *st, struct ubuf *out)
{
	int ret = 0;

	if (st->n_pending)
		ret = emit_sanitized(st->pending, st->n_pending, out);
	st->n_pending = 0;
	return ret;
}

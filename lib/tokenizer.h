/* SPDX-License-Identifier: MIT */
/*
 * Byte-level BPE tokenizer (GGUF tokenizer.ggml.model "gpt2") with the
 * pre-tokenizers tokenizer.ggml.pre = "qwen2" (Qwen2/2.5/3), "smollm"
 * (SmolLM/SmolLM2) and "gpt-2"; see docs/tokenizer.md.
 *
 * Encoding: ill-formed UTF-8 is replaced by U+FFFD (maximal subparts, as a
 * JS TextDecoder does) -> special tokens are split out -> each remaining
 * segment is NFC-normalised (qwen2 only), split into digits (smollm only),
 * pre-tokenised with the model's regex (PCRE2), mapped to GPT-2 byte-level
 * symbols and merged by BPE rank.
 *
 * A tokenizer is immutable after creation: encode/decode may run from many
 * threads at once. There is no I/O in the core; tokenizer_from_gguf() reads
 * the metadata of an already opened GGUF file.
 */
#ifndef ROSENBLATT_TOKENIZER_H
#define ROSENBLATT_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unicode.h"

struct gguf_ctx;

/* tokenizer.ggml.token_type values (llama.cpp's llama_token_type). */
enum tok_type {
	TOK_TYPE_UNDEFINED = 0,
	TOK_TYPE_NORMAL = 1,
	TOK_TYPE_UNKNOWN = 2,
	TOK_TYPE_CONTROL = 3,
	TOK_TYPE_USER_DEFINED = 4,
	TOK_TYPE_UNUSED = 5,
	TOK_TYPE_BYTE = 6,
};

#define TOK_ERR_LEN 256

/* An in-memory description of a vocabulary (what the GGUF metadata holds). */
struct tok_spec {
	const char *model;		/* "gpt2" */
	const char *pre;		/* "qwen2", "smollm" or "gpt-2" */
	uint32_t n_tokens;
	const char *const *tokens;	/* token texts (byte-level alphabet) */
	const uint32_t *token_lens;	/* NULL: tokens are NUL-terminated */
	const int32_t *token_types;	/* NULL: all NORMAL */
	uint32_t n_merges;
	const char *const *merges;	/* "left right", rank = index */
	const uint32_t *merge_lens;	/* NULL: NUL-terminated */
	int32_t bos_id, eos_id, pad_id;	/* -1 when absent */
	bool add_bos;
};

struct tokenizer;

/* Build from a spec; NULL with a message in err on bad/inconsistent data. */
struct tokenizer *tokenizer_new(const struct tok_spec *spec, char *err, size_t err_len);

/* Build from the tokenizer.ggml.* metadata of an opened GGUF file. */
struct tokenizer *tokenizer_from_gguf(const struct gguf_ctx *ctx, char *err, size_t err_len);

void tokenizer_free(struct tokenizer *tok);

uint32_t tokenizer_n_tokens(const struct tokenizer *tok);
int32_t tokenizer_bos(const struct tokenizer *tok);	/* -1 when absent */
int32_t tokenizer_eos(const struct tokenizer *tok);
int32_t tokenizer_pad(const struct tokenizer *tok);
bool tokenizer_add_bos(const struct tokenizer *tok);
enum tok_type tokenizer_token_type(const struct tokenizer *tok, int32_t id);
/* Token text as stored in the vocabulary (byte-level alphabet); NULL if bad id. */
const char *tokenizer_token_text(const struct tokenizer *tok, int32_t id, size_t *len);
/* Id of a token text (exact match); -1 if absent. */
int32_t tokenizer_find(const struct tokenizer *tok, const char *text, size_t len);

/* A growable id array; zero-initialise, free with tok_ids_free(). */
struct tok_ids {
	int32_t *ids;
	size_t n;
	size_t cap;
};
void tok_ids_free(struct tok_ids *v);

enum {
	/* Match CONTROL tokens (<|im_start|>, <|endoftext|>, ...) in the
	 * text. USER_DEFINED tokens (<think>, <tool_call>, ...) are always
	 * matched, as llama.cpp and HF (split_special_tokens) do. */
	TOK_ENCODE_PARSE_SPECIAL = 1 << 0,
	/* Also treat USER_DEFINED tokens as plain text. */
	TOK_ENCODE_NO_USER_DEFINED = 1 << 1,
};

/*
 * Append the ids of text[0..len) (any bytes) to out. Returns 0, or -1 on
 * allocation failure / internal regex failure (err filled when err_len > 0).
 */
int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len,
		     unsigned flags, struct tok_ids *out, char *err, size_t err_len);

/*
 * The bytes a token stands for: byte-level tokens through the inverse
 * GPT-2 byte map, CONTROL/USER_DEFINED tokens as their text, UNUSED tokens
 * as nothing. NULL for an out-of-range id.
 */
const char *tokenizer_token_bytes(const struct tokenizer *tok, int32_t id, size_t *len);

enum {
	TOK_DECODE_SKIP_CONTROL = 1 << 0,	/* drop CONTROL tokens */
};

/*
 * Append the raw bytes of ids to out (no UTF-8 repair). Returns 0, -1 on
 * allocation failure, or -2 for an out-of-range id (its index in *bad_index
 * when not NULL; nothing after it is appended).
 */
int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, size_t n,
		     unsigned flags, struct ubuf *out, size_t *bad_index);

/*
 * Streaming decoder: feed ids one at a time; the text appended to out is
 * always well-formed UTF-8. A trailing incomplete UTF-8 sequence is held
 * back until the next token completes it; an ill-formed sequence becomes
 * U+FFFD per maximal subpart, so the concatenation of everything emitted
 * (including the final flush) equals the WHATWG/TextDecoder decoding of
 * tokenizer_decode()'s bytes.
 */
struct tok_stream {
	uint8_t pending[4];
	size_t n_pending;
	unsigned flags;
};
void tok_stream_init(struct tok_stream *st, unsigned decode_flags);
/* 0, -1 on allocation failure, -2 for an out-of-range id. */
int tok_stream_feed(const struct tokenizer *tok, struct tok_stream *st, int32_t id,
		    struct ubuf *out);
/* Emit what is held back (as U+FFFD: it is an incomplete sequence). */
int tok_stream_flush(struct tok_stream *st, struct ubuf *out);

#endif

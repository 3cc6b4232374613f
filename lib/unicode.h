/* SPDX-License-Identifier: MIT */
/*
 * Unicode helpers for the tokenizer: UTF-8 decoding with the WHATWG /
 * Unicode "maximal subpart" replacement of ill-formed sequences (what a JS
 * TextDecoder and Python's bytes.decode(errors="replace") do), UTF-8
 * encoding, and NFC normalisation from tables generated out of Python's
 * unicodedata (lib/unicode_tables.h, scripts/gen-unicode-tables.py).
 */
#ifndef ROSENBLATT_UNICODE_H
#define ROSENBLATT_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UC_REPLACEMENT 0xFFFDu

/* A growable byte buffer; zero-initialise, free with ubuf_free(). */
struct ubuf {
	char *data;
	size_t len;
	size_t cap;
};

/* Make room for extra more bytes; false on allocation failure. */
bool ubuf_reserve(struct ubuf *b, size_t extra);
bool ubuf_append(struct ubuf *b, const void *p, size_t n);
void ubuf_free(struct ubuf *b);

/*
 * Decode one code point starting at s[*pos] (*pos < len), advance *pos.
 * An ill-formed sequence yields U+FFFD and consumes its maximal subpart
 * (at least one byte, never a byte that could start a new sequence).
 * *ok (may be NULL) says whether the sequence was well formed.
 */
uint32_t uc_utf8_next(const uint8_t *s, size_t len, size_t *pos, bool *ok);

/*
 * Length of the longest prefix of s[0..len) that is not a proper prefix of
 * a well-formed sequence, i.e. everything except a trailing incomplete (but
 * so far valid) sequence of at most 3 bytes.
 */
size_t uc_utf8_complete_prefix(const uint8_t *s, size_t len);

/* Encode cp (<= 0x10FFFF, not a surrogate) into out; returns 1..4. */
size_t uc_utf8_encode(uint32_t cp, char out[4]);

/* True when s[0..len) is well-formed UTF-8. */
bool uc_utf8_valid(const char *s, size_t len);

/* Append s with every ill-formed subsequence replaced by U+FFFD. */
bool uc_utf8_sanitize(const char *s, size_t len, struct ubuf *out);

/* Canonical combining class. */
uint8_t uc_ccc(uint32_t cp);

/*
 * Append the NFC form of the well-formed UTF-8 text s (call
 * uc_utf8_sanitize first for untrusted bytes). False on allocation failure.
 */
bool uc_nfc(const char *s, size_t len, struct ubuf *out);

/* Unicode version of the NFC tables. */
const char *uc_nfc_unicode_version(void);

#endif

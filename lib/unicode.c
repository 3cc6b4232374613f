// SPDX-License-Identifier: MIT
/*
 * UTF-8 and NFC helpers, see unicode.h.
 *
 * NFC follows UAX #15: full canonical decomposition (table + Hangul
 * arithmetic), canonical ordering of combining marks, then canonical
 * composition with the "blocked" rule. Text whose bytes are all below 0xCC
 * (i.e. only code points below U+0300) is already in NFC and is copied.
 */
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

#include "unicode_tables.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul syllable arithmetic (Unicode ch. 3.12). */
#define H_SBASE 0xAC00u
#define H_LBASE 0x1100u
#define H_VBASE 0x1161u
#define H_TBASE 0x11A7u
#define H_LCOUNT 19u
#define H_VCOUNT 21u
#define H_TCOUNT 28u
#define H_NCOUNT (H_VCOUNT * H_TCOUNT)
#define H_SCOUNT (H_LCOUNT * H_NCOUNT)

bool ubuf_reserve(struct ubuf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return false;
	need = b->len + extra + 1;	/* keep room for a NUL */
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

bool ubuf_append(struct ubuf *b, const void *p, size_t n)
{
	if (!ubuf_reserve(b, n))
		return false;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return true;
}

void ubuf_free(struct ubuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * Byte-range table for lead bytes: number of continuation bytes and the
 * allowed range of the first continuation byte (the others are 80..BF).
 */
static int utf8_lead(uint8_t b0, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (b0 >= 0xC2 && b0 <= 0xDF)
		return 1;
	if (b0 == 0xE0) {
		*lo = 0xA0;
		return 2;
	}
	if (b0 == 0xED) {
		*hi = 0x9F;
		return 2;
	}
	if (b0 >= 0xE1 && b0 <= 0xEF)
		return 2;
	if (b0 == 0xF0) {
		*lo = 0x90;
		return 3;
	}
	if (b0 >= 0xF1 && b0 <= 0xF3)
		return 3;
	if (b0 == 0xF4) {
		*hi = 0x8F;
		return 3;
	}
	return -1;
}

uint32_t uc_utf8_next(const uint8_t *s, size_t len, size_t *pos, bool *ok)
{
	size_t i = *pos;
	uint8_t b0 = s[i], lo, hi;
	uint32_t cp;
	int need, k;

	if (b0 < 0x80) {
		*pos = i + 1;
		if (ok)
			*ok = true;
		return b0;
	}
	need = utf8_lead(b0, &lo, &hi);
	if (need < 0) {
		*pos = i + 1;
		if (ok)
			*ok = false;
		return UC_REPLACEMENT;
	}
	cp = b0 & (0x3F >> need);
	for (k = 1; k <= need; k++) {
		uint8_t b;

		if (i + k >= len || (b = s[i + k]) < lo || b > hi) {
			*pos = i + k;
			if (ok)
				*ok = false;
			return UC_REPLACEMENT;
		}
		cp = cp << 6 | (b & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*pos = i + need + 1;
	if (ok)
		*ok = true;
	return cp;
}

size_t uc_utf8_complete_prefix(const uint8_t *s, size_t len)
{
	size_t start;

	/* An incomplete tail starts at most 3 bytes from the end. */
	for (start = len; start > 0 && len - start < 3; start--) {
		uint8_t b = s[start - 1], lo, hi;
		int need;
		size_t k;

		if (b < 0x80)
			return len;
		if (b >= 0xC0) {
			need = utf8_lead(b, &lo, &hi);
			if (need < 0 || (size_t)need <= len - start)
				return len;	/* invalid lead or complete */
			/* Are the bytes after the lead a valid beginning? */
			for (k = start; k < len; k++) {
				if (s[k] < lo || s[k] > hi)
					return len;
				lo = 0x80;
				hi = 0xBF;
			}
			return start - 1;
		}
	}
	return len;
}

size_t uc_utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

bool uc_utf8_valid(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0;
	bool ok;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		uc_utf8_next(u, len, &i, &ok);
		if (!ok)
			return false;
	}
	return true;
}

bool uc_utf8_sanitize(const char *s, size_t len, struct ubuf *out)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, run = 0;
	bool ok;

	if (!ubuf_reserve(out, len))
		return false;
	while (i < len) {
		size_t at = i;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		uc_utf8_next(u, len, &i, &ok);
		if (ok)
			continue;
		if (!ubuf_append(out, s + run, at - run) ||
		    !ubuf_append(out, "\xEF\xBF\xBD", 3))
			return false;
		run = i;
	}
	return ubuf_append(out, s + run, len - run);
}

static long bsearch_u32(const uint32_t *a, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == key ? (long)lo : -1;
}

uint8_t uc_ccc(uint32_t cp)
{
	long i;

	if (cp < 0x300)
		return 0;
	i = bsearch_u32(uc_ccc_cp, ARRAY_LEN(uc_ccc_cp), cp);
	return i < 0 ? 0 : uc_ccc_val[i];
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
	uint64_t key = (uint64_t)a << 21 | b;
	size_t lo = 0, hi = ARRAY_LEN(uc_comp_key);

	if (a - H_LBASE < H_LCOUNT && b - H_VBASE < H_VCOUNT)
		return H_SBASE + ((a - H_LBASE) * H_VCOUNT + (b - H_VBASE)) * H_TCOUNT;
	if (a - H_SBASE < H_SCOUNT && (a - H_SBASE) % H_TCOUNT == 0 &&
	    b - H_TBASE - 1 < H_TCOUNT - 1)
		return a + (b - H_TBASE);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uc_comp_key[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ARRAY_LEN(uc_comp_key) && uc_comp_key[lo] == key)
		return uc_comp_val[lo];
	return 0;
}

/* Append the full canonical decomposition of cp to out (room for 4+). */
static size_t decompose(uint32_t cp, uint32_t *out)
{
	long i;

	if (cp - H_SBASE < H_SCOUNT) {
		uint32_t s = cp - H_SBASE, t = s % H_TCOUNT;

		out[0] = H_LBASE + s / H_NCOUNT;
		out[1] = H_VBASE + (s % H_NCOUNT) / H_TCOUNT;
		if (!t)
			return 2;
		out[2] = H_TBASE + t;
		return 3;
	}
	if (cp < 0xC0 || (i = bsearch_u32(uc_decomp_cp, ARRAY_LEN(uc_decomp_cp), cp)) < 0) {
		out[0] = cp;
		return 1;
	}
	{
		uint32_t idx = uc_decomp_idx[i], n = idx & 7, k;

		for (k = 0; k < n; k++)
			out[k] = uc_decomp_pool[(idx >> 3) + k];
		return n;
	}
}

/*
 * NFC is the identity on a chunk starting at a character with ccc 0 and
 * NFC_Quick_Check Yes ("boundary before"), and such a character never
 * interacts with what precedes it, so only the chunks between two of them
 * that contain something else need the full algorithm.
 */
static bool nfc_boundary_before(uint32_t cp)
{
	if (cp < 0x300 || (cp >= 0x4E00 && cp <= 0x9FFF) || cp - H_SBASE < H_SCOUNT)
		return true;
	return uc_ccc(cp) == 0 && bsearch_u32(uc_qc_no, ARRAY_LEN(uc_qc_no), cp) < 0 &&
	       bsearch_u32(uc_qc_maybe, ARRAY_LEN(uc_qc_maybe), cp) < 0;
}

static bool nfc_slow(const char *s, size_t len, struct ubuf *out);

bool uc_nfc(const char *s, size_t len, struct ubuf *out)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t pos = 0, copied = 0, boundary = 0;

	if (!ubuf_reserve(out, len))
		return false;
	while (pos < len) {
		size_t next = pos;
		uint32_t cp;

		if (u[pos] < 0xCC) {	/* below U+0300 */
			if (u[pos] < 0x80 || u[pos] >= 0xC0)
				boundary = pos;
			pos++;
			continue;
		}
		cp = uc_utf8_next(u, len, &next, NULL);
		if (nfc_boundary_before(cp)) {
			boundary = pos;
			pos = next;
			continue;
		}
		/* Full NFC from the last boundary to the next one. */
		while (next < len) {
			size_t at = next;

			if (u[at] < 0xCC ? (u[at] < 0x80 || u[at] >= 0xC0)
					 : nfc_boundary_before(uc_utf8_next(u, len, &next, NULL))) {
				next = at;
				break;
			}
			if (u[at] < 0xCC)
				next = at + 1;
		}
		if (!ubuf_append(out, s + copied, boundary - copied) ||
		    !nfc_slow(s + boundary, next - boundary, out))
			return false;
		copied = boundary = pos = next;
	}
	return ubuf_append(out, s + copied, len - copied);
}

static bool nfc_slow(const char *s, size_t len, struct ubuf *out)
{
	const uint8_t *u = (const uint8_t *)s;
	uint32_t *cps;
	uint8_t *cc;
	size_t i, n = 0, m, starter;
	bool have_starter = false, ret = false;

	/* Decompositions are at most 4 code points per input code point
	 * (18 for a few, but those take at least 3 bytes); 4 per byte is safe. */
	if (len > SIZE_MAX / 8)
		return false;
	cps = malloc(len * 4 * sizeof(*cps) + 8 * sizeof(*cps));
	cc = malloc(len * 4 + 8);
	if (!cps || !cc)
		goto out;

	/* Decompose. */
	for (i = 0; i < len;) {
		uint32_t cp = uc_utf8_next(u, len, &i, NULL);

		n += decompose(cp, cps + n);
	}
	for (i = 0; i < n; i++)
		cc[i] = uc_ccc(cps[i]);

	/* Canonical ordering: stable insertion sort of each run of non-starters. */
	for (i = 1; i < n; i++) {
		size_t j = i;
		uint32_t c = cps[i];
		uint8_t k = cc[i];

		if (!k)
			continue;
		while (j > 0 && cc[j - 1] > k) {
			cps[j] = cps[j - 1];
			cc[j] = cc[j - 1];
			j--;
		}
		cps[j] = c;
		cc[j] = k;
	}

	/* Compose in place: m is the output length. */
	m = 0;
	starter = 0;
	for (i = 0; i < n; i++) {
		uint32_t c = cps[i];
		uint8_t k = cc[i];

		if (have_starter) {
			bool adjacent = m == starter + 1;
			uint8_t last = cc[m - 1];

			if (adjacent || (last != 0 && last < k)) {
				uint32_t comp = compose_pair(cps[starter], c);

				if (comp) {
					cps[starter] = comp;
					/* cc[starter] stays 0: composites of a
					 * starter are starters. */
					continue;
				}
			}
		}
		if (!k) {
			starter = m;
			have_starter = true;
		}
		cps[m] = c;
		cc[m] = k;
		m++;
	}

	if (!ubuf_reserve(out, m * 4))
		goto out;
	for (i = 0; i < m; i++)
		out->len += uc_utf8_encode(cps[i], out->data + out->len);
	out->data[out->len] = 0;
	ret = true;
out:
	free(cps);
	free(cc);
	return ret;
}

const char *uc_nfc_unicode_version(void)
{
	return UC_TABLES_UNICODE_VERSION;
}

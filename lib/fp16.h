/* SPDX-License-Identifier: MIT */
/*
 * IEEE binary16 (half) and bfloat16 <-> binary32 conversions, done on the
 * bits so the result never depends on the FPU mode or on F16C/NEON.
 *
 * half -> float and bf16 -> float are exact (every value widens exactly;
 * a NaN keeps its sign and payload bits unchanged).
 * float -> half rounds to nearest, ties to even; overflow gives +-Inf,
 * underflow gives subnormals or +-0; a NaN keeps its sign and the top 10
 * payload bits and is made quiet (as F16C/ARM FCVT do).
 * float -> bf16 is ggml's ggml_compute_fp32_to_bf16: round to nearest even,
 * a NaN keeps its top payload bits and is made quiet.
 */
#ifndef ROSENBLATT_FP16_H
#define ROSENBLATT_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t fp32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float fp32_from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline float fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 0x1f;
	uint32_t m = h & 0x3ff;

	if (e == 0x1f)          /* Inf / NaN: payload moves up unchanged */
		return fp32_from_bits(sign | 0x7f800000u | (m << 13));
	if (e != 0)             /* normal: rebias 15 -> 127 */
		return fp32_from_bits(sign | ((e + 112) << 23) | (m << 13));
	if (m == 0)
		return fp32_from_bits(sign);
	/* subnormal m * 2^-24: normalise into a float normal */
	e = 113;
	while (!(m & 0x400)) {
		m <<= 1;
		e--;
	}
	return fp32_from_bits(sign | (e << 23) | ((m & 0x3ff) << 13));
}

static inline uint16_t fp32_to_fp16(float f)
{
	uint32_t x = fp32_bits(f);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t ax = x & 0x7fffffffu;
	uint32_t h, rem, halfway, s;

	if (ax > 0x7f800000u)                   /* NaN */
		return sign | 0x7e00 | (uint16_t)((ax >> 13) & 0x3ff);
	if (ax >= 0x477ff000u)                  /* >= 65520 (incl. Inf) */
		return sign | 0x7c00;
	if (ax >= 0x38800000u) {                /* half normal range */
		ax -= (127u - 15u) << 23;
		h = ax >> 13;
		rem = ax & 0x1fff;
		if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
			h++;                    /* a carry into the exponent is right */
		return sign | (uint16_t)h;
	}
	if (ax <= 0x33000000u)                  /* <= 2^-25: ties to even 0 */
		return sign;
	/* half subnormal: value / 2^-24 = mantissa >> (126 - exp) */
	s = 126 - (ax >> 23);                   /* 14..24 */
	ax = (ax & 0x7fffff) | 0x800000;
	h = ax >> s;
	rem = ax & ((1u << s) - 1);
	halfway = 1u << (s - 1);
	if (rem > halfway || (rem == halfway && (h & 1)))
		h++;                            /* may become 0x400: smallest normal */
	return sign | (uint16_t)h;
}

static inline float bf16_to_fp32(uint16_t b)
{
	return fp32_from_bits((uint32_t)b << 16);
}

static inline uint16_t fp32_to_bf16(float f)
{
	uint32_t u = fp32_bits(f);

	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 64);      /* force quiet */
	return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

#endif

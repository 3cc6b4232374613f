// SPDX-License-Identifier: MIT
#include <string.h>

#include "lookup.h"

int lookup_draft(const int32_t *ctx, int n_ctx, int ngram_min, int ngram_max, int max_draft,
		 int32_t *draft)
{
	if (!ctx || !draft || max_draft <= 0 || ngram_min < 1)
		return 0;
	for (int n = ngram_max; n >= ngram_min; n--) {
		const int32_t *pat;

		if (n >= n_ctx)
			continue;
		pat = ctx + n_ctx - n;
		/* latest first: recent text predicts the next tokens best */
		for (int i = n_ctx - n - 1; i >= 0; i--) {
			int len;

			if (ctx[i] != pat[0] || memcmp(ctx + i, pat, (size_t)n * sizeof(*ctx)))
				continue;
			len = n_ctx - (i + n);
			if (len > max_draft)
				len = max_draft;
			memcpy(draft, ctx + i + n, (size_t)len * sizeof(*ctx));
			return len;
		}
	}
	return 0;
}

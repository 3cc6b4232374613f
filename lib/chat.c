// SPDX-License-Identifier: MIT
/* ChatML formatting (see chat.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

char *chat_user_turn(const char *system, const char *message, bool close_previous)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (close_previous)
		fputs("<|im_end|>\n", f);
	if (system)
		fprintf(f, "<|im_start|>system\n%s<|im_end|>\n", system);
	fprintf(f, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", message);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

bool chat_is_stop_text(const char *text, unsigned long len)
{
	static const char *const stops[] = { "<|im_end|>", "<|endoftext|>" };

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (len == strlen(stops[i]) && !memcmp(text, stops[i], len))
			return true;
	return false;
}

static const char *find_mem(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n);

	for (size_t i = 0; i + nl <= hl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

char *chat_template_default_system(const char *tmpl, unsigned long len)
{
	static const char open[] = "<|im_start|>system\n", close[] = "<|im_end|>";
	const char *p = tmpl, *end = tmpl + len;

	while (tmpl && (p = find_mem(p, (size_t)(end - p), open))) {
		const char *s = p + strlen(open);
		const char *e = find_mem(s, (size_t)(end - s), close);

		if (!e)
			break;
		if (e > s && !memchr(s, '\'', (size_t)(e - s)) && !memchr(s, '"', (size_t)(e - s)) &&
		    !memchr(s, '{', (size_t)(e - s)) && !memchr(s, '}', (size_t)(e - s)) &&
		    !memchr(s, '+', (size_t)(e - s)))
			return strndup(s, (size_t)(e - s));
		p = s;
	}
	return NULL;
}

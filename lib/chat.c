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

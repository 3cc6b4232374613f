// SPDX-License-Identifier: MIT
/*
 * Reference dumper over llama.cpp's libllama (built by scripts/deps-llama.sh;
 * not part of the normal build). Evaluates a prompt given as token ids in
 * one batch, then decodes greedily, one token per llama_decode().
 *
 *   llama_ref MODEL N_GEN OUT.f32 ID [ID ...]  > OUT.txt
 *   llama_ref --tokenize MODEL TEXT            (ids of TEXT, specials parsed)
 *
 * OUT.f32: little-endian f32 rows of n_vocab logits, one per evaluated
 * position in order (P prompt rows, then N_GEN-1 rows for the generated
 * tokens; the last generated token is not evaluated), exactly what
 * `rosenblatt-gen --dump-logits` writes for the same run.
 * stdout: "n_vocab V", "prompt ID...", "greedy ID..." lines.
 *
 * The KV cache is f32 and flash attention is off, so the only differences
 * left against our f32 forward are llama.cpp's activation quantisation in
 * the quantised dot products and summation order.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *ud)
{
	(void)ud;
	if (level >= GGML_LOG_LEVEL_ERROR)
		fputs(text, stderr);
}

static bool no_progress(float progress, void *ud)
{
	(void)progress;
	(void)ud;
	return true;
}

static int argmax(const float *x, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static int tokenize(const char *path, const char *text)
{
	struct llama_model_params mp = llama_model_default_params();

	mp.progress_callback = no_progress;
	mp.vocab_only = true;
	struct llama_model *model = llama_model_load_from_file(path, mp);
	if (!model)
		return 1;
	const struct llama_vocab *vocab = llama_model_get_vocab(model);
	int n = (int)strlen(text) + 16;
	llama_token *ids = calloc((size_t)n, sizeof(*ids));

	n = llama_tokenize(vocab, text, (int32_t)strlen(text), ids, n, false, true);
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", ids[i]);
	printf("\n");
	free(ids);
	llama_model_free(model);
	return n < 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--tokenize")) {
		llama_log_set(quiet, NULL);
		return tokenize(argv[2], argv[3]);
	}
	if (argc < 5) {
		fprintf(stderr, "usage: llama_ref MODEL N_GEN OUT.f32 ID [ID ...]\n");
		return 2;
	}
	int n_gen = atoi(argv[2]);
	int n_prompt = argc - 4;
	llama_token *prompt = calloc((size_t)n_prompt, sizeof(*prompt));

	for (int i = 0; i < n_prompt; i++)
		prompt[i] = atoi(argv[4 + i]);

	llama_log_set(quiet, NULL);
	llama_backend_init();
	struct llama_model_params mp = llama_model_default_params();

	mp.progress_callback = no_progress;
	struct llama_model *model = llama_model_load_from_file(argv[1], mp);
	if (!model) {
		fprintf(stderr, "llama_ref: cannot load %s\n", argv[1]);
		return 1;
	}
	struct llama_context_params cp = llama_context_default_params();
	cp.n_ctx = 256;
	cp.n_batch = 256;
	cp.n_ubatch = 256;
	cp.n_threads = 1;
	cp.n_threads_batch = 1;
	cp.type_k = GGML_TYPE_F32;
	cp.type_v = GGML_TYPE_F32;
	cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
	struct llama_context *ctx = llama_init_from_model(model, cp);
	if (!ctx) {
		fprintf(stderr, "llama_ref: cannot create context\n");
		return 1;
	}
	int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
	FILE *out = fopen(argv[3], "wb");
	if (!out)
		return 1;

	struct llama_batch b = llama_batch_init(n_prompt, 0, 1);
	for (int i = 0; i < n_prompt; i++) {
		b.token[i] = prompt[i];
		b.pos[i] = i;
		b.n_seq_id[i] = 1;
		b.seq_id[i][0] = 0;
		b.logits[i] = 1;
	}
	b.n_tokens = n_prompt;
	if (llama_decode(ctx, b)) {
		fprintf(stderr, "llama_ref: decode failed\n");
		return 1;
	}
	for (int i = 0; i < n_prompt; i++)
		fwrite(llama_get_logits_ith(ctx, i), sizeof(float), (size_t)n_vocab, out);

	printf("n_vocab %d\nprompt", n_vocab);
	for (int i = 0; i < n_prompt; i++)
		printf(" %d", prompt[i]);
	printf("\ngreedy");
	int pos = n_prompt;
	int next = argmax(llama_get_logits_ith(ctx, n_prompt - 1), n_vocab);
	for (int g = 0; g < n_gen; g++) {
		printf(" %d", next);
		if (g == n_gen - 1)
			break;
		b.token[0] = next;
		b.pos[0] = pos++;
		b.logits[0] = 1;
		b.n_tokens = 1;
		if (llama_decode(ctx, b)) {
			fprintf(stderr, "llama_ref: decode failed\n");
			return 1;
		}
		const float *l = llama_get_logits_ith(ctx, 0);
		fwrite(l, sizeof(float), (size_t)n_vocab, out);
		next = argmax(l, n_vocab);
	}
	printf("\n");
	fclose(out);
	llama_batch_free(b);
	llama_free(ctx);
	llama_model_free(model);
	llama_backend_free();
	free(prompt);
	return 0;
}

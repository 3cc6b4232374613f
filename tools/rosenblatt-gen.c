// SPDX-License-Identifier: MIT
/*
 * rosenblatt-gen: text generation from a GGUF model (qwen2, llama), with
 * llama-cli-like flags. Streams the reply on stdout; diagnostics and the
 * timing summary go to stderr. See docs/inference.md and --help.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "gguf.h"
#include "model.h"
#include "lookup.h"
#include "npu_model.h"
#include "ops.h"
#include "sampler.h"
#include "tokenizer.h"

struct opts {
	const char *model;
	const char *prompt;
	const char *prompt_file;
	const char *prompt_ids;
	const char *system;
	const char *dump_logits;
	const char *backend;
	const char *kernels;
	const char *npu_cache;
	int npu_hadamard;
	int n_predict;
	int n_ctx;
	int n_threads;
	bool seed_set;
	bool chat;
	bool verbose;
	bool ids;
	bool ignore_eos;
	bool match_llama;
	bool f32_act;
	bool npu_a16;
	float npu_cpu_share;
	bool npu_split_decode;
	int n_batch;		/* 0: per backend */
	int lookup;		/* prompt-lookup draft tokens per step (0: off) */
	struct sampler_params sp;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: rosenblatt-gen -m MODEL.gguf [options]\n"
"\n"
"Generate text with a qwen2 or llama GGUF model on the CPU.\n"
"\n"
"input:\n"
"  -m, --model FILE         GGUF model (required)\n"
"  -p, --prompt TEXT        prompt (special tokens like <|im_start|> are parsed)\n"
"  -f, --file FILE          read the prompt from FILE\n"
"      --prompt-ids \"1 2 3\" prompt as token ids (works without a tokenizer)\n"
"  -sys, --system-prompt T  system message for chat mode (default: the one the\n"
"                           model's chat template adds, e.g. SmolLM2's \"You are a\n"
"                           helpful AI assistant named SmolLM, ...\"; qwen2 models\n"
"                           without a template: Qwen2.5's \"You are Qwen, ...\")\n"
"  -cnv, --chat             chat: ChatML turns, one user message per stdin line\n"
"                           (-p, when given, is the first message); the KV cache\n"
"                           is kept across turns\n"
"generation:\n"
"  -n, --n-predict N        tokens to generate per reply (default -1: until a\n"
"                           stop token or a full context)\n"
"  -c, --ctx-size N         context (KV cache) size (default min(train, 4096))\n"
"  -b, --batch-size N       prompt tokens per forward chunk (default 64 on the CPU,\n"
"                           128 with --backend npu)\n"
"  -t, --threads N          CPU threads (default: all online CPUs)\n"
"  -s, --seed N             RNG seed (default: from the clock)\n"
"      --temp T             temperature, <= 0 is greedy (default 0.8)\n"
"      --top-k N            top-k, 0 = off (default 40)\n"
"      --top-p P            top-p, 1 = off (default 0.95)\n"
"      --min-p P            min-p, 0 = off (default 0.05)\n"
"      --repeat-penalty F   repetition penalty, 1 = off (default 1.0)\n"
"      --repeat-last-n N    tokens the penalty looks back at (default 64)\n"
"      --ignore-eos         do not stop at EOS/<|im_end|>/<|endoftext|>\n"
"      --lookup N           greedy only (--temp 0): prompt-lookup decoding; each\n"
"                           pass also checks up to N (1..16) draft tokens copied\n"
"                           from where the context's last 2-4 tokens occurred\n"
"                           before; fewer passes on repetitive text (0: off).\n"
"                           The same tokens as without it on the NPU; on the CPU\n"
"                           batched rows may differ in the last bits (~1e-5), so\n"
"                           an exact near-tie could go the other way\n"
"  Generation stops at the model's EOS token, <|im_end|> or <|endoftext|>.\n"
"backend:\n"
"      --backend cpu|npu    cpu (default); npu: every weight matmul on the RK3588\n"
"                           NPU (rocket SUBMIT_MATMUL via libdrm; int8 weights per\n"
"                           channel, int8 activations per token), the rest on the\n"
"                           CPU. Emulated: LD_PRELOAD=build/librocket-shim.so\n"
"      --npu-hadamard N     rotate K in Hadamard blocks of up to N before the int8\n"
"                           rounding (outlier smoothing; 0 = off; default 64)\n"
"      --npu-a16            activations as two int8 rows (hi + residual): ~16-bit\n"
"                           activations, 2x NPU MACs, no extra weight traffic\n"
"      --npu-cpu-share F    decode only: the CPU computes this share (0..0.9) of\n"
"                           every weight's rows from the GGUF weights while the\n"
"                           NPU computes the rest (fewer bytes per token; prompt\n"
"                           chunks stay all-NPU; default 0)\n"
"      --npu-split-decode on|off  on: decode steps spread every matmul over the\n"
"                           NPU cores (DRM_ROCKET_MATMUL_SPLIT), each streaming a\n"
"                           share of the weights, for when one core's DMA is\n"
"                           below the DRAM's rate (make calibrate says); off:\n"
"                           one core each below the kernel's own split size\n"
"                           (default off; the emulator runs split jobs slowly)\n"
"      --npu-cache FILE     packed int8 weights: read FILE when it matches the\n"
"                           model and options (checksummed), else write it\n"
"      --kernels ref|avx2|neon  CPU kernel set (default: best for this CPU)\n"
"      --match-llama        round activations before each matmul as llama.cpp's\n"
"                           CPU backend does (F16, Q8_0, Q8_K), for comparisons\n"
"      --f32-act            keep f32 activations for Q4_K/Q6_K weights too (the\n"
"                           library's exact mode; default: activations rounded\n"
"                           to Q8_K once per matmul and integer dots for those\n"
"                           weights, as llama.cpp does, ~4x faster)\n"
"output:\n"
"      --ids                print token ids instead of text\n"
"      --dump-logits FILE   write the logits of every evaluated position in\n"
"                           order as little-endian f32 rows of n_vocab\n"
"      --verbose            print model, context and sampling settings\n"
"  -h, --help               this help\n"
"A timing summary (load ms, prompt and generation tok/s, memory) is printed\n"
"on stderr at the end.\n");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < -1000000000L || v > 1000000000L)
		return false;
	*out = (int)v;
	return true;
}

static bool parse_float(const char *s, float *out)
{
	char *end;

	errno = 0;
	*out = strtof(s, &end);
	return !errno && end != s && !*end;
}

static const char *const value_flags[] = {
	"-m", "--model", "-p", "--prompt", "-f", "--file", "--prompt-ids", "-sys",
	"--system-prompt", "--dump-logits", "--backend", "--kernels", "-n", "--n-predict",
	"--npu-cache", "--npu-hadamard", "--npu-cpu-share", "--npu-split-decode",
	"-c", "--ctx-size", "-b", "--batch-size", "-t", "--threads", "-s", "--seed", "--temp", "--top-k",
	"--top-p", "--min-p", "--repeat-penalty", "--repeat-last-n", "--lookup",
};

static bool takes_value(const char *a)
{
	for (size_t i = 0; i < sizeof(value_flags) / sizeof(value_flags[0]); i++)
		if (!strcmp(a, value_flags[i]))
			return true;
	return false;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->n_predict = -1;
	o->backend = "cpu";
	o->npu_hadamard = 64;
	sampler_params_default(&o->sp);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;

#define IS(s) (!strcmp(a, s))
		if (IS("-h") || IS("--help")) {
			usage(stdout);
			exit(0);
		} else if (IS("-cnv") || IS("--chat") || IS("--conversation")) {
			o->chat = true;
			continue;
		} else if (IS("--verbose")) {
			o->verbose = true;
			continue;
		} else if (IS("--ids")) {
			o->ids = true;
			continue;
		} else if (IS("--match-llama")) {
			o->match_llama = true;
			continue;
		} else if (IS("--npu-a16")) {
			o->npu_a16 = true;
			continue;
		} else if (IS("--f32-act")) {
			o->f32_act = true;
			continue;
		} else if (IS("--ignore-eos")) {
			o->ignore_eos = true;
			continue;
		}
		if (!takes_value(a)) {
			fprintf(stderr, "rosenblatt-gen: unknown option %s (see --help)\n", a);
			return -1;
		}
		if (!v) {
			fprintf(stderr, "rosenblatt-gen: %s needs a value (see --help)\n", a);
			return -1;
		}
		i++;
		if (IS("-m") || IS("--model"))
			o->model = v;
		else if (IS("-p") || IS("--prompt"))
			o->prompt = v;
		else if (IS("-f") || IS("--file"))
			o->prompt_file = v;
		else if (IS("--prompt-ids"))
			o->prompt_ids = v;
		else if (IS("-sys") || IS("--system-prompt"))
			o->system = v;
		else if (IS("--dump-logits"))
			o->dump_logits = v;
		else if (IS("--backend"))
			o->backend = v;
		else if (IS("--kernels"))
			o->kernels = v;
		else if (IS("--npu-cache"))
			o->npu_cache = v;
		else if (IS("--npu-hadamard"))
			ok = parse_int(v, &o->npu_hadamard) && o->npu_hadamard >= 0 &&
			     !(o->npu_hadamard & (o->npu_hadamard - 1)) && o->npu_hadamard <= 4096;
		else if (IS("--npu-split-decode"))
			ok = (o->npu_split_decode = !strcmp(v, "on")) || !strcmp(v, "off");
		else if (IS("--npu-cpu-share"))
			ok = parse_float(v, &o->npu_cpu_share) && o->npu_cpu_share >= 0 &&
			     o->npu_cpu_share <= 0.9f;
		else if (IS("-n") || IS("--n-predict"))
			ok = parse_int(v, &o->n_predict);
		else if (IS("-b") || IS("--batch-size"))
			ok = parse_int(v, &o->n_batch) && o->n_batch >= 1 && o->n_batch <= 4096;
		else if (IS("-c") || IS("--ctx-size"))
			ok = parse_int(v, &o->n_ctx) && o->n_ctx >= 0;
		else if (IS("-t") || IS("--threads"))
			ok = parse_int(v, &o->n_threads) && o->n_threads >= 1 && o->n_threads <= 256;
		else if (IS("-s") || IS("--seed")) {
			char *end;

			errno = 0;
			o->sp.seed = strtoull(v, &end, 0);
			ok = !errno && *end == 0 && end != v;
			o->seed_set = true;
		} else if (IS("--temp"))
			ok = parse_float(v, &o->sp.temp);
		else if (IS("--top-k"))
			ok = parse_int(v, &o->sp.top_k);
		else if (IS("--top-p"))
			ok = parse_float(v, &o->sp.top_p);
		else if (IS("--min-p"))
			ok = parse_float(v, &o->sp.min_p);
		else if (IS("--repeat-penalty"))
			ok = parse_float(v, &o->sp.repeat_penalty) && o->sp.repeat_penalty > 0;
		else if (IS("--repeat-last-n"))
			ok = parse_int(v, &o->sp.repeat_last_n) && o->sp.repeat_last_n >= 0;
		else if (IS("--lookup"))
			ok = parse_int(v, &o->lookup) && o->lookup >= 0 && o->lookup <= 16;
		else {
			fprintf(stderr, "rosenblatt-gen: unknown option %s (see --help)\n", a);
			return -1;
		}
#undef IS
		if (!ok) {
			fprintf(stderr, "rosenblatt-gen: bad value '%s' for %s\n", v, a);
			return -1;
		}
	}
	if (!o->model) {
		fprintf(stderr, "rosenblatt-gen: no model given (-m FILE, see --help)\n");
		return -1;
	}
	if (strcmp(o->backend, "cpu") && strcmp(o->backend, "npu")) {
		fprintf(stderr, "rosenblatt-gen: unknown backend '%s' (cpu, npu)\n", o->backend);
		return -1;
	}
	if (!!o->prompt + !!o->prompt_file + !!o->prompt_ids > 1) {
		fprintf(stderr, "rosenblatt-gen: give only one of -p, -f, --prompt-ids\n");
		return -1;
	}
	if (o->chat && o->prompt_ids) {
		fprintf(stderr, "rosenblatt-gen: --prompt-ids cannot be used in chat mode\n");
		return -1;
	}
	if (o->lookup && (o->sp.temp > 0 || o->sp.repeat_penalty != 1.0f)) {
		fprintf(stderr, "rosenblatt-gen: --lookup needs greedy decoding (--temp 0, no "
			"--repeat-penalty)\n");
		return -1;
	}
	if (o->lookup && o->dump_logits) {
		fprintf(stderr, "rosenblatt-gen: --lookup and --dump-logits cannot be combined (drafts "
			"evaluate positions that are then thrown away)\n");
		return -1;
	}
	if (!o->n_threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o->n_threads = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
	}
	if (!o->seed_set)
		o->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	char tmp[65536];
	size_t n;

	while (m && (n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		fwrite(tmp, 1, n, m);
	if (m)
		fclose(m);
	fclose(f);
	return buf;
}

/* Everything the generation loop needs. */
struct gen {
	struct opts *o;
	struct model *m;
	struct model_ctx *c;
	struct tokenizer *tok;
	struct sampler *smp;
	struct model_backend *be;	/* NULL: CPU */
	FILE *dump;
	float *logits;		/* [n_vocab] or [n * n_vocab] while evaluating a prompt */
	size_t logits_cap;
	int n_vocab;
	int32_t eos;
	int32_t unevaluated;	/* last sampled token not in the cache (-1: none) */
	struct tok_ids hist;	/* the tokens in the KV cache, in order (for --lookup) */
	float *rows;		/* --lookup: logits of a step's batch */
	/* timing */
	double prompt_ms, gen_ms;
	long prompt_tokens, gen_tokens;
	long lookup_steps, lookup_drafted, lookup_accepted;
};

static bool ids_push(struct tok_ids *v, int32_t id);

static void npu_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	fprintf(stderr, "\rnpu: preparing int8 weights %3d%%%s", (int)(done * 100 / (total ? total : 1)),
		done == total ? "\n" : "");
}

static int dump_rows(struct gen *g, const float *rows, int n)
{
	if (!g->dump)
		return 0;
	/* the host is little-endian (x86-64, aarch64): rows go out as they are */
	if (fwrite(rows, sizeof(float) * g->n_vocab, (size_t)n, g->dump) != (size_t)n) {
		fprintf(stderr, "rosenblatt-gen: writing %s failed\n", g->o->dump_logits);
		return -1;
	}
	return 0;
}

/* Evaluate ids; leaves the last position's logits in g->logits. */
static int eval(struct gen *g, const int32_t *ids, int n, bool is_prompt)
{
	char err[MODEL_ERR_LEN];
	bool all = g->dump != NULL;
	size_t need = (size_t)(all ? n : 1) * g->n_vocab;
	double t0 = now_ms();

	if (need > g->logits_cap) {
		float *nl = realloc(g->logits, need * sizeof(float));

		if (!nl) {
			fprintf(stderr, "rosenblatt-gen: out of memory\n");
			return -1;
		}
		g->logits = nl;
		g->logits_cap = need;
	}
	if (model_eval(g->c, ids, n, g->logits, all, err, sizeof(err))) {
		fprintf(stderr, "rosenblatt-gen: %s\n", err);
		return -1;
	}
	if (is_prompt) {
		g->prompt_ms += now_ms() - t0;
		g->prompt_tokens += n;
	} else {
		g->gen_ms += now_ms() - t0;
	}
	if (dump_rows(g, g->logits, all ? n : 1))
		return -1;
	if (all && n > 1)
		memmove(g->logits, g->logits + (size_t)(n - 1) * g->n_vocab,
			sizeof(float) * g->n_vocab);
	for (int i = 0; i < n; i++) {
		sampler_accept(g->smp, ids[i]);
		if (g->o->lookup && !ids_push(&g->hist, ids[i])) {
			fprintf(stderr, "rosenblatt-gen: out of memory\n");
			return -1;
		}
	}
	return 0;
}

static bool is_stop(struct gen *g, int32_t id)
{
	size_t len;
	const char *t;

	if (g->o->ignore_eos)
		return false;
	if (id == g->eos)
		return true;
	if (!g->tok)
		return false;
	t = tokenizer_token_text(g->tok, id, &len);
	return t && tokenizer_token_type(g->tok, id) == TOK_TYPE_CONTROL &&
	       chat_is_stop_text(t, len);
}

/* A stop token ends the reply: not printed as text, but listed with --ids. */
static bool ends_reply(struct gen *g, int32_t id)
{
	if (!is_stop(g, id))
		return false;
	if (g->o->ids)
		printf("%d ", id);
	return true;
}

/* Print one generated token (text, or its id with --ids). */
static int emit(struct gen *g, struct tok_stream *st, struct ubuf *out, int32_t id)
{
	if (g->o->ids || !g->tok) {
		printf("%d ", id);
	} else {
		out->len = 0;
		if (tok_stream_feed(g->tok, st, id, out)) {
			fprintf(stderr, "rosenblatt-gen: cannot decode token %d\n", id);
			return -1;
		}
		fwrite(out->data, 1, out->len, stdout);
	}
	fflush(stdout);
	return 0;
}

/*
 * --lookup: greedy decoding, each pass evaluating the token just chosen and
 * up to o->lookup drafts (lookup_draft over the cached tokens). Draft j is
 * kept while it equals the argmax after draft j - 1, i.e. the token plain
 * greedy decoding would have chosen; the cache is cut back to the kept ones.
 * The tokens, the stop rules and what stays unevaluated are those of the
 * plain loop in generate().
 */
static int generate_lookup(struct gen *g, struct tok_stream *st, struct ubuf *out)
{
	const int V = g->n_vocab, K = g->o->lookup, n_max = g->o->n_predict;
	int32_t batch[17], id;
	char err[MODEL_ERR_LEN];
	double t0;

	if (!g->rows) {
		g->rows = malloc(sizeof(float) * (size_t)V * (size_t)(K + 1));
		if (!g->rows) {
			fprintf(stderr, "rosenblatt-gen: out of memory\n");
			return -1;
		}
	}
	if (n_max == 0)
		return 0;
	t0 = now_ms();
	id = sampler_argmax(g->logits, V);
	g->gen_ms += now_ms() - t0;
	for (int done = 0;;) {
		int n_past = g->c->n_past, k, nd, acc, keep;
		size_t h0 = g->hist.n;

		g->gen_tokens++;
		if (ends_reply(g, id))
			return 0;
		if (emit(g, st, out, id))
			return -1;
		if (n_max >= 0 && ++done == n_max) {
			g->unevaluated = id;	/* not evaluated (as llama-cli) */
			return 0;
		}
		if (n_past >= g->c->n_ctx) {
			fprintf(stderr, "\nrosenblatt-gen: context full (%d tokens)\n", g->c->n_ctx);
			g->unevaluated = id;
			return 0;
		}
		/* drafts: at most what the context and -n leave room for */
		k = K < g->c->n_ctx - n_past - 1 ? K : g->c->n_ctx - n_past - 1;
		if (n_max >= 0 && k > n_max - done)
			k = n_max - done;
		if (!ids_push(&g->hist, id)) {
			fprintf(stderr, "rosenblatt-gen: out of memory\n");
			return -1;
		}
		batch[0] = id;
		nd = k > 0 ? lookup_draft(g->hist.ids, (int)g->hist.n, 2, 4, k, batch + 1) : 0;
		t0 = now_ms();
		if (model_eval(g->c, batch, 1 + nd, g->rows, true, err, sizeof(err))) {
			fprintf(stderr, "rosenblatt-gen: %s\n", err);
			return -1;
		}
		for (acc = 0; acc < nd; acc++)
			if (sampler_argmax(g->rows + (size_t)acc * V, V) != batch[1 + acc])
				break;
		g->gen_ms += now_ms() - t0;
		g->lookup_steps++;
		g->lookup_drafted += nd;
		g->lookup_accepted += acc;
		sampler_accept(g->smp, id);
		/* the kept drafts are generated tokens: the same rules apply */
		keep = 1 + acc;
		for (int j = 1; j <= acc; j++) {
			int32_t t = batch[j];

			g->gen_tokens++;
			if (ends_reply(g, t)) {
				keep = -j;	/* the stop token itself is not cached */
				break;
			}
			if (emit(g, st, out, t))
				return -1;
			if (n_max >= 0 && ++done == n_max) {
				g->unevaluated = t;
				keep = -j;
				break;
			}
			sampler_accept(g->smp, t);
			if (!ids_push(&g->hist, t)) {
				fprintf(stderr, "rosenblatt-gen: out of memory\n");
				return -1;
			}
		}
		if (keep < 0) {		/* stopped at batch[-keep]: cache up to the one before */
			model_ctx_truncate(g->c, n_past - keep);
			g->hist.n = h0 + (size_t)(-keep);
			return 0;
		}
		model_ctx_truncate(g->c, n_past + keep);
		t0 = now_ms();
		id = sampler_argmax(g->rows + (size_t)acc * V, V);
		g->gen_ms += now_ms() - t0;
	}
}

/*
 * Sample and stream up to n_predict tokens after a prompt was evaluated.
 * Returns 0 (stop token, limit or full context), -1 on error.
 */
static int generate(struct gen *g)
{
	struct tok_stream st;
	struct ubuf out = { 0 };
	int n_max = g->o->n_predict;
	int rc = 0;

	tok_stream_init(&st, TOK_DECODE_SKIP_CONTROL);
	g->unevaluated = -1;
	if (g->o->lookup) {
		rc = generate_lookup(g, &st, &out);
		goto flush;
	}
	for (int i = 0; n_max < 0 || i < n_max; i++) {
		double t0 = now_ms();
		int32_t id = sampler_sample(g->smp, g->logits);

		g->gen_ms += now_ms() - t0;
		g->gen_tokens++;
		if (ends_reply(g, id))
			break;
		if (emit(g, &st, &out, id)) {
			rc = -1;
			break;
		}
		if (n_max >= 0 && i == n_max - 1) {
			g->unevaluated = id;	/* not evaluated (as llama-cli) */
			break;
		}
		if (g->c->n_past >= g->c->n_ctx) {
			fprintf(stderr, "\nrosenblatt-gen: context full (%d tokens)\n", g->c->n_ctx);
			g->unevaluated = id;
			break;
		}
		if (eval(g, &id, 1, false)) {
			rc = -1;
			break;
		}
	}
flush:
	out.len = 0;
	if (!rc && g->tok && !g->o->ids) {
		tok_stream_flush(&st, &out);
		fwrite(out.data, 1, out.len, stdout);
	}
	ubuf_free(&out);
	fflush(stdout);
	return rc;
}

static bool ids_push(struct tok_ids *v, int32_t id)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		int32_t *n = realloc(v->ids, cap * sizeof(int32_t));

		if (!n)
			return false;
		v->ids = n;
		v->cap = cap;
	}
	v->ids[v->n++] = id;
	return true;
}

/* Append the ids of text, special tokens parsed; BOS first when the
 * model wants it and add_bos is set. */
static int encode(struct gen *g, const char *text, bool add_bos, struct tok_ids *ids)
{
	char err[TOK_ERR_LEN] = "out of memory";

	if (add_bos && tokenizer_add_bos(g->tok) && tokenizer_bos(g->tok) >= 0 &&
	    !ids_push(ids, tokenizer_bos(g->tok)))
		goto fail;
	if (tokenizer_encode(g->tok, text, strlen(text), TOK_ENCODE_PARSE_SPECIAL, ids, err,
			     sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "rosenblatt-gen: tokenizer: %s\n", err);
	return -1;
}

static void print_ids(const char *what, const int32_t *ids, size_t n)
{
	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %d", ids[i]);
	fputc('\n', stderr);
}

static int run_plain(struct gen *g, const char *text)
{
	struct tok_ids ids = { 0 };
	int rc = -1;

	if (g->o->prompt_ids) {
		const char *s = g->o->prompt_ids;
		char *end;

		for (;;) {
			long v = strtol(s, &end, 10);

			if (end == s)
				break;
			if (!ids_push(&ids, (int32_t)v))
				goto out;
			s = end;
			while (*s == ',')
				s++;
		}
		while (*s == ' ' || *s == ',' || *s == '\n' || *s == '\t')
			s++;
		if (*s) {
			fprintf(stderr, "rosenblatt-gen: --prompt-ids: bad id list at '%s'\n", s);
			goto out;
		}
	} else if (encode(g, text, true, &ids)) {
		goto out;
	}
	if (ids.n == 0) {
		fprintf(stderr, "rosenblatt-gen: empty prompt\n");
		goto out;
	}
	if (g->o->verbose)
		print_ids("prompt ids", ids.ids, ids.n);
	if (ids.n > (size_t)g->c->n_ctx) {
		fprintf(stderr, "rosenblatt-gen: prompt of %zu tokens does not fit the context of %d\n",
			ids.n, g->c->n_ctx);
		goto out;
	}
	if (eval(g, ids.ids, (int)ids.n, true) || generate(g))
		goto out;
	putchar('\n');
	rc = 0;
out:
	tok_ids_free(&ids);
	return rc;
}

static int run_chat(struct gen *g)
{
	const char *system = g->o->system;
	char *line = NULL;
	size_t cap = 0;
	bool first = true;
	int rc = 0;
	char *tmpl_system = NULL;
	struct gguf_str tmpl;

	/* no -sys: what the model's chat template puts there (SmolLM2's
	 * "You are a helpful AI assistant named SmolLM, ..."), as
	 * transformers' apply_chat_template does; Qwen2.5's without one */
	if (!system && gguf_get_str(g->m->gguf, "tokenizer.chat_template", &tmpl))
		system = tmpl_system = chat_template_default_system(tmpl.ptr, tmpl.len);
	else if (!system && g->m->cfg.arch == MODEL_ARCH_QWEN2)
		system = CHAT_QWEN_DEFAULT_SYSTEM;
	for (;;) {
		const char *msg;
		ssize_t n;

		if (first && g->o->prompt) {
			msg = g->o->prompt;
		} else {
			if (isatty(0))
				fputs("> ", stderr);
			n = getline(&line, &cap, stdin);
			if (n < 0)
				break;
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = 0;
			if (n == 0)
				continue;
			msg = line;
		}
		char *turn = chat_user_turn(first ? system : NULL, msg, !first);
		struct tok_ids ids = { 0 };

		/* a reply cut by -n: its last token still has to enter the cache */
		if (!first && g->unevaluated >= 0 && !is_stop(g, g->unevaluated) &&
		    !ids_push(&ids, g->unevaluated)) {
			free(turn);
			rc = -1;
			break;
		}
		if (!turn || encode(g, turn, first, &ids)) {
			free(turn);
			rc = -1;
			break;
		}
		free(turn);
		if (g->o->verbose)
			print_ids("turn ids", ids.ids, ids.n);
		if (ids.n + 1 > (size_t)(g->c->n_ctx - g->c->n_past)) {
			fprintf(stderr, "rosenblatt-gen: context full; the conversation ends here\n");
			tok_ids_free(&ids);
			break;
		}
		rc = eval(g, ids.ids, (int)ids.n, true);
		tok_ids_free(&ids);
		if (rc || (rc = generate(g)))
			break;
		putchar('\n');
		fflush(stdout);
		first = false;
	}
	free(line);
	free(tmpl_system);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct gen g = { 0 };
	char err[MODEL_ERR_LEN];
	char terr[TOK_ERR_LEN];
	int rc = 1;
	enum ops_isa isa = ops_isa_best();

	if (parse_args(argc, argv, &o))
		return 2;
	g.o = &o;
	if (o.kernels) {
		for (isa = 0; isa < OPS_ISA_COUNT; isa++)
			if (!strcmp(o.kernels, ops_isa_name(isa)))
				break;
		if (isa == OPS_ISA_COUNT || !ops_isa_available(isa)) {
			fprintf(stderr, "rosenblatt-gen: kernel set '%s' is not available here\n", o.kernels);
			return 2;
		}
	}

	double t_load = now_ms();

	g.m = model_load(o.model, err, sizeof(err));
	if (!g.m) {
		fprintf(stderr, "rosenblatt-gen: %s\n", err);
		return 1;
	}
	g.tok = tokenizer_from_gguf(g.m->gguf, terr, sizeof(terr));
	if (!g.tok) {
		if (!o.prompt_ids) {
			fprintf(stderr, "rosenblatt-gen: %s: tokenizer: %s (--prompt-ids works without one)\n",
				o.model, terr);
			goto out;
		}
		fprintf(stderr, "rosenblatt-gen: no tokenizer (%s); printing token ids\n", terr);
	}
	if (g.tok && tokenizer_n_tokens(g.tok) > (uint32_t)g.m->cfg.n_vocab) {
		fprintf(stderr, "rosenblatt-gen: tokenizer has %u tokens, the model only %d\n",
			tokenizer_n_tokens(g.tok), g.m->cfg.n_vocab);
		goto out;
	}
	g.c = model_ctx_new_batch(g.m, o.n_ctx,
				  o.n_batch ? o.n_batch : !strcmp(o.backend, "npu") ? 128 : 64,
				  o.n_threads, isa, err, sizeof(err));
	if (!g.c) {
		fprintf(stderr, "rosenblatt-gen: %s\n", err);
		goto out;
	}
	g.c->ggml_act = o.match_llama;
	g.c->act8 = !o.f32_act;
	if (!strcmp(o.backend, "npu")) {
		struct npu_backend_opts no = { .hadamard = (uint32_t)o.npu_hadamard, .tp = g.c->tp,
					       .act_hilo = o.npu_a16,
					       .cpu_share = o.npu_cpu_share,
					       .split_decode = o.npu_split_decode };

		g.be = npu_model_backend_new(g.m, &no, o.npu_cache, isatty(2) ? npu_progress : NULL,
					     NULL, err, sizeof(err));
		if (!g.be) {
			fprintf(stderr, "rosenblatt-gen: %s\n", err);
			goto out;
		}
		g.c->backend = g.be;
		if (o.verbose)
			fprintf(stderr, "npu: %s, weights %s\n",
				npu_backend_describe(npu_model_backend_npu(g.be)),
				npu_model_backend_cached(g.be) ? "from the cache" : "prepared");
	}
	t_load = now_ms() - t_load;
	g.n_vocab = g.m->cfg.n_vocab;
	g.eos = g.tok ? tokenizer_eos(g.tok) : -1;
	uint32_t eos;

	if (!g.tok && gguf_get_u32(g.m->gguf, "tokenizer.ggml.eos_token_id", &eos))
		g.eos = (int32_t)eos;	/* still stop at EOS without a tokenizer */
	g.smp = sampler_new(&o.sp, g.n_vocab);
	if (!g.smp) {
		fprintf(stderr, "rosenblatt-gen: out of memory\n");
		goto out;
	}
	if (o.dump_logits && !(g.dump = fopen(o.dump_logits, "wb"))) {
		fprintf(stderr, "rosenblatt-gen: cannot write %s: %s\n", o.dump_logits, strerror(errno));
		goto out;
	}
	if (o.verbose) {
		const struct model_config *c = &g.m->cfg;

		fprintf(stderr,
			"model: %s, arch %s, %d layers, embd %d, ff %d, heads %d/%d kv, head %d, rot %d (%s), "
			"vocab %d, train ctx %d, rope base %g, eps %g, %s output\n",
			o.model, model_arch_name(c->arch), c->n_layer, c->n_embd, c->n_ff, c->n_head,
			c->n_head_kv, c->head_dim, c->n_rot, c->rope_neox ? "neox" : "normal",
			c->n_vocab, c->n_ctx_train, c->rope_base, c->norm_eps,
			g.m->tied_output ? "tied" : "separate");
		fprintf(stderr, "context: %d, threads %d, kernels %s\n", g.c->n_ctx, o.n_threads,
			ops_isa_name(isa));
		fprintf(stderr, "sampling: temp %g, top-k %d, top-p %g, min-p %g, repeat-penalty %g "
			"(last %d), seed %llu\n", o.sp.temp, o.sp.top_k, o.sp.top_p, o.sp.min_p,
			o.sp.repeat_penalty, o.sp.repeat_last_n, (unsigned long long)o.sp.seed);
	}

	if (o.chat) {
		rc = run_chat(&g) ? 1 : 0;
	} else {
		char *text = NULL;

		if (o.prompt_file && !(text = read_file(o.prompt_file))) {
			fprintf(stderr, "rosenblatt-gen: cannot read %s: %s\n", o.prompt_file, strerror(errno));
			goto out;
		}
		rc = run_plain(&g, text ? text : o.prompt ? o.prompt : "") ? 1 : 0;
		free(text);
	}

	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr,
		"\ntiming: load %.1f ms | prompt %ld tok in %.1f ms (%.2f tok/s) | "
		"gen %ld tok in %.1f ms (%.2f tok/s)\n"
		"memory: weights %.1f MiB (mapped), kv cache + scratch %.1f MiB, max rss %.1f MiB\n",
		t_load, g.prompt_tokens, g.prompt_ms,
		g.prompt_ms > 0 ? g.prompt_tokens * 1e3 / g.prompt_ms : 0.0,
		g.gen_tokens, g.gen_ms, g.gen_ms > 0 ? g.gen_tokens * 1e3 / g.gen_ms : 0.0,
		model_weight_bytes(g.m) / 1048576.0, g.c->mem_bytes / 1048576.0,
		ru.ru_maxrss / 1024.0);
	if (o.lookup)
		fprintf(stderr, "lookup: %ld passes, %ld draft tokens, %ld kept (%.1f%%): %.2f tokens a pass\n",
			g.lookup_steps, g.lookup_drafted, g.lookup_accepted,
			g.lookup_drafted ? 100.0 * g.lookup_accepted / g.lookup_drafted : 0.0,
			g.lookup_steps ? (double)(g.lookup_steps + g.lookup_accepted) / g.lookup_steps : 0.0);
	if (g.be && g.be->summary) {
		char line[1024];

		g.be->summary(g.be, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
out:
	if (g.dump && fclose(g.dump)) {
		fprintf(stderr, "rosenblatt-gen: writing %s failed\n", o.dump_logits);
		rc = 1;
	}
	free(g.logits);
	free(g.rows);
	tok_ids_free(&g.hist);
	sampler_free(g.smp);
	model_ctx_free(g.c);
	if (g.be)
		g.be->destroy(g.be);
	tokenizer_free(g.tok);
	model_free(g.m);
	return rc;
}

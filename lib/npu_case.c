// SPDX-License-Identifier: MIT
#include "npu_case.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_min.h"

#define MAX_FILE (256u << 20)

static int read_file(const char *dir, const char *name, uint8_t **data, size_t *len, int optional,
		     char *err, size_t errlen)
{
	char path[4096];
	FILE *f;
	long sz;

	*data = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		if (optional && errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) || (unsigned long)sz > MAX_FILE) {
		snprintf(err, errlen, "%s: cannot size file (or larger than %u bytes)", path, MAX_FILE);
		fclose(f);
		return -1;
	}
	*data = malloc((size_t)sz + 1);
	if (!*data || fread(*data, 1, (size_t)sz, f) != (size_t)sz) {
		snprintf(err, errlen, "%s: read failed", path);
		free(*data);
		*data = NULL;
		fclose(f);
		return -1;
	}
	(*data)[sz] = 0;
	*len = (size_t)sz;
	fclose(f);
	return 0;
}

static int get_u32(const struct json *root, const char *key, uint32_t *out, int optional, char *err,
		   size_t errlen)
{
	const struct json *j = json_get(root, key);

	if (!j && optional)
		return 1;
	if (!j || j->type != JSON_NUMBER || j->num < 1 || j->num > 65535 || j->num != (double)(uint32_t)j->num) {
		snprintf(err, errlen, "case.json: \"%s\" missing or not a positive integer <= 65535", key);
		return -1;
	}
	*out = (uint32_t)j->num;
	return 0;
}

static int get_addr(const struct json *root, const char *path, uint64_t *out, int *given, char *err,
		    size_t errlen)
{
	const struct json *j = json_path(root, path);
	char *end;

	if (j && j->type == JSON_NULL && given) {
		*given = 0;
		return 0;
	}
	if (!j || j->type != JSON_STRING || strncmp(j->str, "0x", 2)) {
		snprintf(err, errlen, "case.json: \"%s\" missing or not a \"0x...\" string", path);
		return -1;
	}
	errno = 0;
	unsigned long long v = strtoull(j->str, &end, 16);

	if (errno || *end || end == j->str + 2 || v >= (1ull << 32)) {
		snprintf(err, errlen, "case.json: \"%s\" = \"%s\" is not a 32-bit hex address", path, j->str);
		return -1;
	}
	*out = v;
	if (given)
		*given = 1;
	return 0;
}

static int layout_of(const struct json *root, const char *which, char *err, size_t errlen)
{
	char path[64];
	const struct json *j;

	snprintf(path, sizeof(path), "layouts.%s", which);
	j = json_path(root, path);
	if (j && j->type == JSON_STRING) {
		if (!strncmp(j->str, "NC1HWC2", 7))
			return NPU_LAYOUT_NC1HWC2;
		if (!strncmp(j->str, "row-major", 9))
			return NPU_LAYOUT_ROWMAJOR;
	}
	snprintf(err, errlen, "case.json: \"%s\" missing or neither \"NC1HWC2...\" nor \"row-major...\"", path);
	return -1;
}

static int parse_regcmd(struct npu_case *c, const char *text, size_t len, char *err, size_t errlen)
{
	size_t cap = 256, line = 0;
	const char *p = text, *end = text + len;

	c->qwords = malloc(cap * sizeof(uint64_t));
	if (!c->qwords) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char buf[64];
		size_t l;

		line++;
		while (p < le && isspace((unsigned char)*p))
			p++;
		l = (size_t)(le - p);
		while (l && isspace((unsigned char)p[l - 1]))
			l--;
		if (l && p[0] != '#') {
			const char *h = p;
			size_t hl = l;

			if (hl > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X')) {
				h += 2;
				hl -= 2;
			}
			if (hl == 0 || hl > 16) {
				snprintf(err, errlen, "regcmd.txt:%zu: not a 64-bit hex qword", line);
				return -1;
			}
			for (size_t i = 0; i < hl; i++)
				if (!isxdigit((unsigned char)h[i])) {
					snprintf(err, errlen, "regcmd.txt:%zu: not a 64-bit hex qword", line);
					return -1;
				}
			memcpy(buf, h, hl);
			buf[hl] = 0;
			if (c->nq == cap) {
				uint64_t *nb = realloc(c->qwords, 2 * cap * sizeof(uint64_t));

				if (!nb) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
				c->qwords = nb;
				cap *= 2;
			}
			c->qwords[c->nq++] = strtoull(buf, NULL, 16);
		}
		p = nl ? nl + 1 : end;
	}
	if (!c->nq) {
		snprintf(err, errlen, "regcmd.txt: no qwords");
		return -1;
	}
	return 0;
}

static uint32_t roundup(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

static const char *tag(int prec)
{
	switch (prec) {
	case NPU_PREC_INT8: return "i8";
	case NPU_PREC_FP16: return "f16";
	case NPU_PREC_INT32: return "i32";
	default: return "f32";
	}
}

/* Row-major [rows][cols] of esz bytes -> the case's NPU layout image. */
static uint8_t *build_image(const uint8_t *src, uint32_t rows, uint32_t cols, uint32_t esz, int layout,
			    uint32_t cols_pad, size_t *len)
{
	uint32_t c2 = 16 / esz;
	size_t total = layout == NPU_LAYOUT_ROWMAJOR ? (size_t)rows * cols_pad * esz
						     : (size_t)(cols_pad / c2) * rows * 16;
	uint8_t *img = calloc(1, total ? total : 1);

	if (!img)
		return NULL;
	for (uint32_t r = 0; r < rows; r++)
		for (uint32_t k = 0; k < cols; k++) {
			size_t dst = layout == NPU_LAYOUT_ROWMAJOR
				? ((size_t)r * cols_pad + k) * esz
				: ((size_t)(k / c2) * rows * c2 + (size_t)r * c2 + k % c2) * esz;
			memcpy(img + dst, src + ((size_t)r * cols + k) * esz, esz);
		}
	*len = total;
	return img;
}

int npu_case_load(const char *dir, struct npu_case *c, char *err, size_t errlen)
{
	uint8_t *text = NULL, *raw = NULL;
	size_t len;
	struct json *root = NULL;
	const struct json *j;
	char fname[64];
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (read_file(dir, "case.json", &text, &len, 0, err, errlen))
		goto out;
	root = json_parse((const char *)text, len, err, errlen);
	if (!root)
		goto out;
	j = json_get(root, "name");
	snprintf(c->name, sizeof(c->name), "%s", j && j->type == JSON_STRING ? j->str : dir);
	if (get_u32(root, "M", &c->M, 0, err, errlen) || get_u32(root, "K", &c->K, 0, err, errlen) ||
	    get_u32(root, "N", &c->N, 0, err, errlen))
		goto out;
	c->Kp = c->Np = 0;
	if (get_u32(root, "K_padded", &c->Kp, 1, err, errlen) < 0 ||
	    get_u32(root, "N_padded", &c->Np, 1, err, errlen) < 0)
		goto out;
	j = json_get(root, "dtype_in");
	if (j && j->type == JSON_STRING && !strcmp(j->str, "int8"))
		c->in_prec = NPU_PREC_INT8;
	else if (j && j->type == JSON_STRING && !strcmp(j->str, "float16"))
		c->in_prec = NPU_PREC_FP16;
	else {
		snprintf(err, errlen, "case.json: dtype_in must be \"int8\" or \"float16\"");
		goto out;
	}
	j = json_get(root, "dtype_out");
	if (j && j->type == JSON_STRING && !strcmp(j->str, "int32"))
		c->out_prec = NPU_PREC_INT32;
	else if (j && j->type == JSON_STRING && !strcmp(j->str, "float32"))
		c->out_prec = NPU_PREC_FP32;
	else if (j && j->type == JSON_STRING && !strcmp(j->str, "float16"))
		c->out_prec = NPU_PREC_FP16;
	else {
		snprintf(err, errlen, "case.json: dtype_out must be \"int32\", \"float32\" or \"float16\"");
		goto out;
	}
	c->esz = c->in_prec == NPU_PREC_INT8 ? 1 : 2;
	c->osz = c->out_prec == NPU_PREC_FP16 ? 2 : 4;
	if ((c->in_layout = layout_of(root, "input", err, errlen)) < 0 ||
	    (c->out_layout = layout_of(root, "output", err, errlen)) < 0)
		goto out;
	if (!c->Kp)
		c->Kp = roundup(c->K, 32);
	if (!c->Np)
		c->Np = roundup(c->N, c->in_prec == NPU_PREC_INT8 ? 32 : 16);
	if (c->Kp < c->K || c->Np < c->N || c->Kp % 32 || c->Np % 16) {
		snprintf(err, errlen, "case.json: K_padded/N_padded inconsistent with K/N");
		goto out;
	}
	if (get_addr(root, "buffers.input_dma", &c->in_dma, NULL, err, errlen) ||
	    get_addr(root, "buffers.weight_dma", &c->w_dma, NULL, err, errlen) ||
	    get_addr(root, "buffers.output_dma", &c->out_dma, NULL, err, errlen) ||
	    get_addr(root, "buffers.regcmd_dma", &c->regcmd_dma, &c->regcmd_dma_given, err, errlen))
		goto out;
	j = json_get(root, "tasks");
	c->ntasks = json_array_len(j);
	if (!c->ntasks || c->ntasks > NPU_CASE_MAX_TASKS) {
		snprintf(err, errlen, "case.json: \"tasks\" must be a non-empty array (<= %d)", NPU_CASE_MAX_TASKS);
		goto out;
	}
	for (size_t i = 0; i < c->ntasks; i++) {
		const struct json *t = json_array_at(j, i);
		const struct json *o = json_get(t, "offset_bytes"), *a = json_get(t, "regcfg_amount");

		if (!o || !a || o->type != JSON_NUMBER || a->type != JSON_NUMBER || o->num < 0 || a->num < 1 ||
		    o->num > 1e9 || a->num > 65535 || o->num != (double)(uint32_t)o->num ||
		    a->num != (double)(uint32_t)a->num) {
			snprintf(err, errlen, "case.json: tasks[%zu] needs integer offset_bytes and regcfg_amount", i);
			goto out;
		}
		c->tasks[i].offset = (uint32_t)o->num;
		c->tasks[i].regcfg_amount = (uint32_t)a->num;
	}

	free(text);
	text = NULL;
	if (read_file(dir, "regcmd.txt", &text, &len, 0, err, errlen) ||
	    parse_regcmd(c, (const char *)text, len, err, errlen))
		goto out;

	/* input image */
	int r = read_file(dir, "input_npu.bin", &c->input, &c->input_len, 1, err, errlen);

	if (r < 0)
		goto out;
	if (r == 1) {
		snprintf(fname, sizeof(fname), "a_rowmajor_%s.bin", tag(c->in_prec));
		if (read_file(dir, fname, &raw, &len, 0, err, errlen))
			goto out;
		if (len != (size_t)c->M * c->K * c->esz) {
			snprintf(err, errlen, "%s: %zu bytes, expected M*K*%u = %zu", fname, len, c->esz,
				 (size_t)c->M * c->K * c->esz);
			goto out;
		}
		c->input = build_image(raw, c->M, c->K, c->esz, c->in_layout, c->Kp, &c->input_len);
		free(raw);
		raw = NULL;
		c->input_built = 1;
		if (!c->input) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	/* weight image */
	r = read_file(dir, "weight_npu.bin", &c->weight, &c->weight_len, 1, err, errlen);
	if (r < 0)
		goto out;
	if (r == 1) {
		uint32_t nb = c->in_prec == NPU_PREC_INT8 ? 32 : 16;

		snprintf(fname, sizeof(fname), "b_rowmajor_%s.bin", tag(c->in_prec));
		if (read_file(dir, fname, &raw, &len, 0, err, errlen))
			goto out;
		if (len != (size_t)c->N * c->K * c->esz || c->Np % nb) {
			snprintf(err, errlen, "%s: size or N_padded does not match the weight blocking", fname);
			goto out;
		}
		c->weight_len = (size_t)c->Np * c->Kp * c->esz;
		c->weight = calloc(1, c->weight_len);
		if (!c->weight) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (uint32_t n = 0; n < c->N; n++)
			for (uint32_t k = 0; k < c->K; k++) {
				size_t wi = (size_t)(n / nb) * nb * c->Kp + (size_t)(k / 32) * nb * 32 +
					    (size_t)(n % nb) * 32 + k % 32;
				memcpy(c->weight + wi * c->esz, raw + ((size_t)n * c->K + k) * c->esz, c->esz);
			}
		free(raw);
		raw = NULL;
		c->weight_built = 1;
	}
	/* expected output image */
	r = read_file(dir, "output_expected_npu.bin", &c->expected, &c->expected_len, 1, err, errlen);
	if (r < 0)
		goto out;
	if (r == 1) {
		snprintf(fname, sizeof(fname), "c_expected_rowmajor_%s.bin", tag(c->out_prec));
		if (read_file(dir, fname, &raw, &len, 0, err, errlen))
			goto out;
		if (len != (size_t)c->M * c->N * c->osz) {
			snprintf(err, errlen, "%s: %zu bytes, expected M*N*%u", fname, len, c->osz);
			goto out;
		}
		c->expected = build_image(raw, c->M, c->N, c->osz, c->out_layout,
					  c->out_layout == NPU_LAYOUT_ROWMAJOR ? c->Np : roundup(c->N, 16 / c->osz),
					  &c->expected_len);
		free(raw);
		raw = NULL;
		c->expected_built = 1;
		if (!c->expected) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (!c->input_len || !c->weight_len || !c->expected_len) {
		snprintf(err, errlen, "empty input/weight/output image");
		goto out;
	}
	c->output = malloc(c->expected_len);
	if (!c->output) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(raw);
	json_free(root);
	if (rc)
		npu_case_free(c);
	return rc;
}

void npu_case_free(struct npu_case *c)
{
	free(c->input);
	free(c->weight);
	free(c->expected);
	free(c->output);
	free(c->regcmd);
	free(c->qwords);
	memset(c, 0, sizeof(*c));
}

int npu_case_setup(struct npu_sim *sim, struct npu_case *c, struct npu_sim_error *err)
{
	int rc;

	free(c->regcmd);
	c->regcmd_len = c->nq * 8;
	c->regcmd = malloc(c->regcmd_len);
	if (!c->regcmd)
		return NPU_SIM_E_NOMEM;
	for (size_t i = 0; i < c->nq; i++)
		for (int b = 0; b < 8; b++)
			c->regcmd[i * 8 + (size_t)b] = (uint8_t)(c->qwords[i] >> (8 * b));
	memset(c->output, 0xcd, c->expected_len);
	if ((rc = npu_sim_map(sim, c->in_dma, c->input_len, c->input, "input", err)) ||
	    (rc = npu_sim_map(sim, c->w_dma, c->weight_len, c->weight, "weight", err)) ||
	    (rc = npu_sim_map(sim, c->out_dma, c->expected_len, c->output, "output", err)))
		return rc;
	if (!c->regcmd_dma_given) {
		c->regcmd_dma = npu_sim_find_free(sim, 0x10000000, c->regcmd_len);
		if (!c->regcmd_dma)
			c->regcmd_dma = npu_sim_find_free(sim, 0x1000, c->regcmd_len);
	}
	return npu_sim_map(sim, c->regcmd_dma, c->regcmd_len, c->regcmd, "regcmd", err);
}

int npu_case_run(struct npu_sim *sim, struct npu_case *c, struct npu_sim_error *err)
{
	uint64_t before = npu_sim_get_stats(sim)->tasks;
	int rc = npu_sim_run_chain(sim, c->regcmd_dma + c->tasks[0].offset, c->tasks[0].regcfg_amount, 0, err);

	if (rc)
		return rc;
	if (npu_sim_get_stats(sim)->tasks - before != c->ntasks) {
		if (err) {
			memset(err, 0, sizeof(*err));
			err->code = NPU_SIM_E_CHAIN;
			err->task = err->qword = err->task_qword = -1;
			snprintf(err->msg, sizeof(err->msg),
				 "case lists %zu tasks but the PC chain from task 0 executed %" PRIu64, c->ntasks,
				 npu_sim_get_stats(sim)->tasks - before);
		}
		return NPU_SIM_E_CHAIN;
	}
	return 0;
}

void npu_case_index_mn(const struct npu_case *c, size_t idx, uint32_t *m, uint32_t *n)
{
	if (c->out_layout == NPU_LAYOUT_ROWMAJOR) {
		size_t cols = c->expected_len / c->osz / c->M;

		*m = (uint32_t)(idx / cols);
		*n = (uint32_t)(idx % cols);
	} else {
		size_t c2 = 16 / c->osz, s = idx / (c->M * c2), r = idx % (c->M * c2);

		*m = (uint32_t)(r / c2);
		*n = (uint32_t)(s * c2 + r % c2);
	}
}

static void fmt_elem(const struct npu_case *c, const uint8_t *p, char *out, size_t len)
{
	if (c->out_prec == NPU_PREC_FP16) {
		uint16_t h = (uint16_t)(p[0] | p[1] << 8);

		snprintf(out, len, "%.9g (0x%04x)", npu_sim_f16_to_double(h), h);
	} else {
		uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

		if (c->out_prec == NPU_PREC_INT32) {
			snprintf(out, len, "%" PRId32 " (0x%08x)", (int32_t)u, u);
		} else {
			float f;

			memcpy(&f, &u, 4);
			snprintf(out, len, "%.9g (0x%08x)", (double)f, u);
		}
	}
}

int npu_case_compare(const struct npu_case *c, char *msg, size_t msglen)
{
	size_t nel = c->expected_len / c->osz, first = (size_t)-1, bad = 0;

	for (size_t i = 0; i < nel; i++)
		if (memcmp(c->output + i * c->osz, c->expected + i * c->osz, c->osz)) {
			if (first == (size_t)-1)
				first = i;
			bad++;
		}
	if (!bad) {
		snprintf(msg, msglen, "exact match: %zu elements", nel);
		return 0;
	}
	char g[64], e[64];
	uint32_t m, n;

	npu_case_index_mn(c, first, &m, &n);
	fmt_elem(c, c->output + first * c->osz, g, sizeof(g));
	fmt_elem(c, c->expected + first * c->osz, e, sizeof(e));
	snprintf(msg, msglen, "first mismatch at element %zu (m=%u, n=%u): got %s, expected %s; %zu of %zu elements differ",
		 first, m, n, g, e, bad, nel);
	return 1;
}

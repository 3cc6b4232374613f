// SPDX-License-Identifier: MIT
/* Least-squares fit of the NPU performance model's unit times; see npu_fit.h. */
#include <math.h>
#include <string.h>

#include "npu_fit.h"

enum { U_CALL, U_TASK, U_MAC, U_BYTE, NU };

static bool mac_bound(const struct npu_fit *f, const struct npu_fit_task *t)
{
	return t->macs * f->s_mac >= t->bytes * f->s_byte;
}

double npu_fit_task_time(const struct npu_fit *f, const struct npu_fit_task *t)
{
	double c = t->macs * f->s_mac, d = t->bytes * f->s_byte;

	return f->t_task + (c > d ? c : d);
}

double npu_fit_predict(const struct npu_fit *f, const struct npu_fit_probe *p)
{
	double t = f->t_call;

	for (unsigned i = 0; i < p->ntasks; i++)
		t += npu_fit_task_time(f, &p->task[i]);
	return t;
}

/* Row of the linear system for probe p, its tasks classed by mac[] (compute-bound). */
static void design_row(const struct npu_fit_probe *p, const bool *mac, double *row)
{
	row[U_CALL] = 1;
	row[U_TASK] = p->ntasks;
	row[U_MAC] = row[U_BYTE] = 0;
	for (unsigned i = 0; i < p->ntasks; i++) {
		if (mac[i])
			row[U_MAC] += p->task[i].macs;
		else
			row[U_BYTE] += p->task[i].bytes;
	}
}

/*
 * Solve the normal equations for the unknowns marked in use[] (the others
 * keep x[]), by Gaussian elimination with partial pivoting. Columns are
 * scaled to unit size first: seconds per MAC and seconds per call differ by
 * ten orders of magnitude. -1 when singular.
 */
static int solve(const double (*rows)[NU], const double *t, unsigned n, const bool *use, double *x)
{
	int idx[NU], m = 0;
	double scale[NU], a[NU][NU + 1];

	for (int u = 0; u < NU; u++) {
		if (!use[u])
			continue;
		scale[m] = 0;
		for (unsigned i = 0; i < n; i++)
			scale[m] = fmax(scale[m], fabs(rows[i][u]));
		if (scale[m] == 0)
			return -1;
		idx[m++] = u;
	}
	if ((unsigned)m > n)
		return -1;
	for (int r = 0; r < m; r++) {
		for (int c = 0; c <= m; c++)
			a[r][c] = 0;
		for (unsigned i = 0; i < n; i++) {
			double rhs = t[i];

			for (int u = 0; u < NU; u++)
				if (!use[u])
					rhs -= rows[i][u] * x[u];
			for (int c = 0; c < m; c++)
				a[r][c] += rows[i][idx[r]] / scale[r] * rows[i][idx[c]] / scale[c];
			a[r][m] += rows[i][idx[r]] / scale[r] * rhs;
		}
	}
	for (int c = 0; c < m; c++) {
		int piv = c;

		for (int r = c + 1; r < m; r++)
			if (fabs(a[r][c]) > fabs(a[piv][c]))
				piv = r;
		if (fabs(a[piv][c]) < 1e-12 * (fabs(a[0][0]) + 1e-300))
			return -1;
		for (int k = 0; k <= m; k++) {
			double tmp = a[c][k];

			a[c][k] = a[piv][k];
			a[piv][k] = tmp;
		}
		for (int r = 0; r < m; r++) {
			double q;

			if (r == c)
				continue;
			q = a[r][c] / a[c][c];
			for (int k = c; k <= m; k++)
				a[r][k] -= q * a[c][k];
		}
	}
	for (int c = 0; c < m; c++)
		x[idx[c]] = a[c][m] / a[c][c] / scale[c];
	return 0;
}

/*
 * solve(), then hold any unknown that came out unphysical at its bound (a
 * negative time at 0, a rate not above 0 at its start value in x) and solve
 * for the others again; use[] says what was fitted in the end.
 */
static int solve_physical(const double (*rows)[NU], const double *t, unsigned n, bool *use,
			  double *x)
{
	double hold[NU] = { x[0], x[1], x[2], x[3] };

	for (int round = 0; round <= NU; round++) {
		bool ok = true;

		memcpy(x, hold, sizeof(hold));
		if (solve(rows, t, n, use, x))
			return -1;
		for (int u = 0; u < NU; u++) {
			if (use[u] && (u <= U_TASK ? x[u] < 0 : !(x[u] > 0))) {
				use[u] = false;
				if (u <= U_TASK)
					hold[u] = 0;
				ok = false;
			}
		}
		if (ok)
			return 0;
	}
	return -1;
}

static double rms(const struct npu_fit *f, const struct npu_fit_probe *p, unsigned n)
{
	double sum = 0;

	for (unsigned i = 0; i < n; i++) {
		double r = npu_fit_predict(f, &p[i]) - p[i].t;

		sum += r * r;
	}
	return sqrt(sum / n);
}

/*
 * The linear fit for fixed classes (cls[i][k]: task k of probe i is
 * compute-bound), from start's values for what it holds. -1 if singular.
 */
static int fit_classes(const struct npu_fit_probe *p, unsigned n,
		       const bool (*cls)[NPU_FIT_MAX_TASKS], const struct npu_fit *start,
		       struct npu_fit *out)
{
	double rows[NPU_FIT_MAX_PROBES][NU], t[NPU_FIT_MAX_PROBES];
	double x[NU] = { start->t_call, start->t_task, start->s_mac, start->s_byte };
	bool use[NU] = { true, true, false, false };

	for (unsigned i = 0; i < n; i++) {
		design_row(&p[i], cls[i], rows[i]);
		t[i] = p[i].t;
		use[U_MAC] |= rows[i][U_MAC] > 0;
		use[U_BYTE] |= rows[i][U_BYTE] > 0;
	}
	if (solve_physical((const double (*)[NU])rows, t, n, use, x))
		return -1;
	*out = *start;
	out->t_call = x[U_CALL];
	out->t_task = x[U_TASK];
	out->s_mac = x[U_MAC];
	out->s_byte = x[U_BYTE];
	out->mac_fitted = use[U_MAC];
	out->byte_fitted = use[U_BYTE];
	out->rms = rms(out, p, n);
	return 0;
}

/* a better than b: smaller misfit; at a tie the one that fits fewer rates */
static bool better(const struct npu_fit *a, const struct npu_fit *b, double tol)
{
	int ua = a->mac_fitted + a->byte_fitted, ub = b->mac_fitted + b->byte_fitted;

	if (fabs(a->rms - b->rms) > tol)
		return a->rms < b->rms;
	return ua < ub;
}

int npu_fit(const struct npu_fit_probe *p, unsigned n, struct npu_fit *f)
{
	bool cls[NPU_FIT_MAX_PROBES][NPU_FIT_MAX_TASKS];
	struct npu_fit best = { .rms = INFINITY }, cand;
	double tmax = 0, tol;

	if (n < 2 || n > NPU_FIT_MAX_PROBES)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (p[i].ntasks < 1 || p[i].ntasks > NPU_FIT_MAX_TASKS || !isfinite(p[i].t))
			return -1;
		for (unsigned k = 0; k < p[i].ntasks; k++)
			if (!isfinite(p[i].task[k].macs) || !isfinite(p[i].task[k].bytes) ||
			    p[i].task[k].macs < 0 || p[i].task[k].bytes < 0)
				return -1;
		tmax = fmax(tmax, fabs(p[i].t));
	}
	if (!(f->s_mac > 0) || !(f->s_byte > 0))
		return -1;
	tol = 1e-9 * tmax;
	/*
	 * Which probes are compute-bound is not known before the rates are: try
	 * every assignment of a class per probe and keep the best fit (2^n
	 * small linear problems), then refine task by task.
	 */
	for (unsigned mask = 0; mask < 1u << n; mask++) {
		for (unsigned i = 0; i < n; i++)
			for (unsigned k = 0; k < NPU_FIT_MAX_TASKS; k++)
				cls[i][k] = mask >> i & 1;
		if (!fit_classes(p, n, (const bool (*)[NPU_FIT_MAX_TASKS])cls, f, &cand) &&
		    better(&cand, &best, tol))
			best = cand;
	}
	if (!isfinite(best.rms))
		return -1;
	best.iterations = 0;
	for (unsigned it = 1; it <= 32; it++) {
		for (unsigned i = 0; i < n; i++)
			for (unsigned k = 0; k < p[i].ntasks; k++)
				cls[i][k] = mac_bound(&best, &p[i].task[k]);
		if (fit_classes(p, n, (const bool (*)[NPU_FIT_MAX_TASKS])cls, f, &cand) ||
		    !better(&cand, &best, tol))
			break;
		best = cand;
		best.iterations = it;
	}
	*f = best;
	return 0;
}

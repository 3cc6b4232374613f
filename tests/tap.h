/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP test helpers. Every test program prints one TAP line per
 * test case ("ok N - name" / "not ok N - name" / "ok N - name # SKIP why");
 * tests/run-tests.sh adds them up into the closing "N passed, N failed" line.
 */
#ifndef ROSENBLATT_TAP_H
#define ROSENBLATT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_case_no;
static int tap_case_failed;
static int tap_case_skipped;
static int tap_any_failed;
static char tap_skip_reason[256];

/* Record a failed expectation; the case goes on so all failures show. */
static inline void tap_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	tap_case_failed = 1;
}

#define CHECK(cond) \
	do { if (!(cond)) tap_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); } while (0)
#define CHECKF(cond, ...) \
	do { if (!(cond)) tap_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_EQ_INT(a, b) \
	do { long long _a = (long long)(a), _b = (long long)(b); \
	     if (_a != _b) tap_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, #b, _b); } while (0)
#define CHECK_STR(a, b) \
	do { const char *_a = (a), *_b = (b); \
	     if (!_a || !_b || strcmp(_a, _b)) tap_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)

/* Mark the current case as skipped (e.g. a reference tool is missing). */
static inline void tap_skip(const char *why)
{
	tap_case_skipped = 1;
	snprintf(tap_skip_reason, sizeof(tap_skip_reason), "%s", why);
}

static inline void tap_run(const char *name, void (*fn)(void))
{
	tap_case_failed = 0;
	tap_case_skipped = 0;
	fn();
	tap_case_no++;
	if (tap_case_failed) {
		printf("not ok %d - %s\n", tap_case_no, name);
		tap_any_failed = 1;
	} else if (tap_case_skipped) {
		printf("ok %d - %s # SKIP %s\n", tap_case_no, name, tap_skip_reason);
	} else {
		printf("ok %d - %s\n", tap_case_no, name);
	}
	fflush(stdout);
}

#define RUN(fn) tap_run(#fn, fn)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_case_no);
	return tap_any_failed ? 1 : 0;
}

/*
 * Programs that print one TAP line per check with its own description
 * (the NPU backend suites): tap_ok() numbers and prints it, tap_ok_done()
 * closes the plan.
 */
static int tap_ok_no, tap_ok_failed;

static inline void tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_ok_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_ok_failed++;
}

static inline int tap_ok_done(void)
{
	printf("1..%d\n", tap_ok_no);
	return tap_ok_failed != 0;
}

#endif

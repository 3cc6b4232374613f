/* SPDX-License-Identifier: MIT */
/*
 * Replay of fuzz inputs in unit tests: call fn for every file (dotfiles
 * skipped) in a target's committed seed corpus and regression folders.
 */
#ifndef ROSENBLATT_TESTS_CORPUS_H
#define ROSENBLATT_TESTS_CORPUS_H

#include <dirent.h>
#include <stdio.h>

/* dir_index is 0 for fuzz/corpus/TARGET, 1 for fuzz/regressions/TARGET. */
typedef void (*corpus_fn)(const char *path, const char *name, int dir_index, void *ctx);

/* Returns the number of files visited. Run from the repository root. */
static inline int corpus_for_each(const char *target, corpus_fn fn, void *ctx)
{
	static const char *const kinds[] = { "corpus", "regressions" };
	int files = 0;

	for (int d = 0; d < 2; d++) {
		char dirpath[256];
		struct dirent *de;
		DIR *dir;

		snprintf(dirpath, sizeof(dirpath), "fuzz/%s/%s", kinds[d], target);
		dir = opendir(dirpath);
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			char path[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
			fn(path, de->d_name, d, ctx);
			files++;
		}
		closedir(dir);
	}
	return files;
}

/* Read a whole corpus file into buf; returns bytes read, or -1 (and a
 * failed check is up to the caller) when it cannot be opened. */
static inline long corpus_read(const char *path, void *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

#endif

// SPDX-License-Identifier: MIT
/*
 * /init for the KUnit initramfs (scripts/kernel/kunit.sh): built-in KUnit
 * suites have already run when this starts. Load the modules listed in
 * /modules/order (one file name per line, dependency order), which runs the
 * suites of test modules, then power off.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	char line[256], path[300];
	FILE *order;

	mount("proc", "/proc", "proc", 0, NULL);
	order = fopen("/modules/order", "r");
	while (order && fgets(line, sizeof(line), order)) {
		int fd;

		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		snprintf(path, sizeof(path), "/modules/%s", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			printf("kunit-init: loading %s failed: %m\n", line);
		else
			printf("kunit-init: loaded %s\n", line);
		if (fd >= 0)
			close(fd);
	}
	fflush(stdout);
	sleep(1);
	reboot(RB_POWER_OFF);
	return 0;
}

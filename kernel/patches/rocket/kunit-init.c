// SPDX-License-Identifier: MIT
/* /init of the KUnit initramfs: load the modules in order, power off. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

static void load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long ret = fd < 0 ? -1 : syscall(SYS_finit_module, fd, "", 0);

	printf("init: finit_module(%s) = %ld\n", path, ret);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	load("/gpu-sched.ko");
	load("/drm_shmem_helper.ko");
	load("/rocket.ko");
	load("/rocket_test.ko");
	fflush(stdout);
	sleep(1);
	reboot(RB_POWER_OFF);
	return 0;
}

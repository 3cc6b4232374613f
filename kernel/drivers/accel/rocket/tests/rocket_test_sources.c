// SPDX-License-Identifier: GPL-2.0-only
/*
 * The code under test is pure C with no exports: build a private copy of it
 * into the test module, so the tests need neither the hardware nor rocket.ko.
 */
#include "../rocket_matmul.c"
#include "../rocket_regcmd.c"

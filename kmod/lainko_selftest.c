// SPDX-License-Identifier: GPL-2.0
/*
 * lainko_selftest.ko: symbols with known contents for the kmem device's
 * tests (module-scoped lookups, read-only and writable module data).  A
 * module of its own, built only with `make LAINKO_SELFTEST=1`, so that
 * lainko.ko carries no test fixtures.
 */
#include <linux/compiler.h>
#include <linux/module.h>

static const char lainko_kmem_banner[] __used = "lainko kmem device";
static char lainko_kmem_scratch[64] __used = "lainko scratch";

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test fixtures for lainko's kmem device");

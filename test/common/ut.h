/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers shared by the CUnit test programs.
 *
 * A test program includes this header, defines its suites with
 * UT_SUITE/UT_TEST tables and calls ut_main().  The runner prints CUnit's
 * own summary and exits non-zero when any assertion failed.
 */
#ifndef UIOMMU_UT_H
#define UIOMMU_UT_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ut_test {
	const char *name;
	void (*fn)(void);
};

struct ut_suite {
	const char *name;
	int (*init)(void);
	int (*fini)(void);
	const struct ut_test *tests; /* NULL-name terminated */
};

/* Run the suites; returns the process exit status. */
static inline int ut_main(const struct ut_suite *suites, int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL; /* optional suite filter */
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (const struct ut_suite *s = suites; s->name; s++) {
		if (only && strcmp(only, s->name) != 0)
			continue;
		CU_pSuite cs = CU_add_suite(s->name, s->init, s->fini);
		if (!cs)
			return 2;
		for (const struct ut_test *t = s->tests; t->name; t++)
			if (!CU_add_test(cs, t->name, t->fn))
				return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed() +
		 CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#endif

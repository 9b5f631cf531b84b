/*
 * t.h: the unit-test harness. Each check prints one line that the runner
 * (tests/run.sh) counts: "PASS: name", "FAIL: name (detail)" or
 * "SKIP: name (reason)". t_done() returns the exit status for main().
 */
#ifndef PST_T_H
#define PST_T_H

#include <stdio.h>
#include <string.h>

static int t_failed;
static const char *t_group = "";

#define T_GROUP(g)	(t_group = (g))

#define T_OK(cond, name) do {						\
	if (cond)							\
		printf("PASS: %s: %s\n", t_group, (name));		\
	else {								\
		printf("FAIL: %s: %s (%s:%d: %s)\n", t_group, (name),	\
		    __FILE__, __LINE__, #cond);				\
		t_failed++;						\
	}								\
} while (0)

#define T_STREQ(got, want, name) do {					\
	const char *t_g_ = (got), *t_w_ = (want);			\
	if (t_g_ != NULL && t_w_ != NULL && strcmp(t_g_, t_w_) == 0)	\
		printf("PASS: %s: %s\n", t_group, (name));		\
	else if (t_g_ == NULL && t_w_ == NULL)				\
		printf("PASS: %s: %s\n", t_group, (name));		\
	else {								\
		printf("FAIL: %s: %s (%s:%d: got [%s], want [%s])\n",	\
		    t_group, (name), __FILE__, __LINE__,		\
		    t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)");	\
		t_failed++;						\
	}								\
} while (0)

#define T_INTEQ(got, want, name) do {					\
	long long t_g_ = (long long)(got), t_w_ = (long long)(want);	\
	if (t_g_ == t_w_)						\
		printf("PASS: %s: %s\n", t_group, (name));		\
	else {								\
		printf("FAIL: %s: %s (%s:%d: got %lld, want %lld)\n",	\
		    t_group, (name), __FILE__, __LINE__, t_g_, t_w_);	\
		t_failed++;						\
	}								\
} while (0)

static inline int
t_done(void)
{
	fflush(stdout);
	return t_failed ? 1 : 0;
}

#endif

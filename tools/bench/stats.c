// SPDX-License-Identifier: GPL-2.0
/* kipc-bench: Order statistics: medians, percentiles, spread. */
#include <math.h>
#include <stdlib.h>

#include "run.h"

/* ------------------------------------------------------- statistics */

static void swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t t = *a;

	*a = *b;
	*b = t;
}

/* The k-th smallest of v[0..n-1] (quickselect; reorders v). */
static uint64_t kth(uint64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint64_t pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_u64(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

void percentiles(uint64_t *v, size_t n, double *p50, double *p99)
{
	if (!n) {
		*p50 = *p99 = NAN;
		return;
	}
	*p99 = kth(v, n, (size_t)(0.99 * (n - 1)));
	*p50 = kth(v, n, (n - 1) / 2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, unsigned int n)
{
	double t[MAX_REPEATS];
	unsigned int i, m = 0;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			t[m++] = v[i];
	if (!m)
		return NAN;
	qsort(t, m, sizeof(t[0]), cmp_double);
	return m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
}

/* How far apart the rounds were: (max - min) / median; 0 for one round. */
double spread(double *v, unsigned int n)
{
	double lo = INFINITY, hi = -INFINITY, mid = median(v, n);
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return isnan(mid) || mid <= 0 || hi < lo ? NAN : (hi - lo) / mid;
}

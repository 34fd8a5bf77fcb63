/* Reads lines that start with a CLOCK_MONOTONIC ns stamp (gen with a RATE)
 * and prints the p50, p99 and max delay between writing and reading, in µs. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  size_t cap = 1 << 20, n = 0;
  long long *d = malloc(cap * sizeof *d);
  char *line = NULL;
  size_t len = 0;
  while (getline(&line, &len, stdin) > 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    long long then = atoll(line);
    if (then <= 0) continue;
    if (n == cap) d = realloc(d, (cap *= 2) * sizeof *d);
    d[n++] = now - then;
  }
  if (n == 0) return 1;
  qsort(d, n, sizeof *d, cmp);
  printf("%zu %.1f %.1f %.1f\n", n, d[n / 2] / 1e3, d[(size_t)(n * 0.99)] / 1e3, d[n - 1] / 1e3);
  return 0;
}

#include <stdio.h>
#include <stdlib.h>

static int* cache_create(int n) { return calloc((size_t)n, sizeof(int)); }

int main(void) {
  int* cache = cache_create(6);
  cache[0] = 1;
  printf("cache ready\n");
  cache = NULL;
  return 0;
}

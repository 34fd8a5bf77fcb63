#include <stdio.h>

static int checksum(const int* v, int n) {
  int sum = 0;
  for (int i = 0; i <= n; ++i) sum += v[i];
  return sum;
}

int main(void) {
  int values[4] = {1, 2, 3, 4};
  printf("%d\n", checksum(values, 4));
  return 0;
}

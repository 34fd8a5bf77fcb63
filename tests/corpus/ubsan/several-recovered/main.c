#include <stdio.h>

static int shift(int v, int by) { return v << by; }
static int divide(int a, int b) { return a / b; }

int main(int argc, char** argv) {
  (void)argv;
  int arr[3] = {1, 2, 3};
  int i = argc + 2;
  printf("%d\n", shift(1, 31 + argc));
  printf("%d\n", arr[i]);
  printf("%d\n", divide(7, argc - 1));
  printf("finished\n");
  return 0;
}

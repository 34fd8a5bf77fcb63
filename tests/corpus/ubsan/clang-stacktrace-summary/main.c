#include <limits.h>
#include <stdio.h>

static int scale(int x) { return x * 2; }

int main(int argc, char** argv) {
  (void)argv;
  int v = INT_MAX - argc;
  printf("scaled %d\n", scale(v));
  printf("done\n");
  return 0;
}

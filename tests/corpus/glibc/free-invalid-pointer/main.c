#include <stdio.h>
#include <stdlib.h>

int main(void) {
  char* big = malloc(1 << 20);
  printf("releasing buffer\n");
  fflush(stdout);
  free(big + 16);
  return 0;
}

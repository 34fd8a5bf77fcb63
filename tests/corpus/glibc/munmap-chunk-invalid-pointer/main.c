#include <stdio.h>
#include <stdlib.h>

int main(void) {
  size_t* big = malloc(1 << 20);
  printf("releasing buffer\n");
  fflush(stdout);
  big[3] = 0x1000 | 2; /* a stray write makes big+32 look like a mapped chunk */
  free(big + 4);
  return 0;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  char dst[16];
  size_t n = 16 + (size_t)argc * 8;
  char* src = calloc(1, 64);
  memset(src, 'x', 63);
  printf("copying %zu bytes\n", n);
  fflush(stdout);
  memcpy(dst, src, n);
  printf("%c\n", dst[0]);
  (void)argv;
  return 0;
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  printf("filling record\n");
  fflush(stdout);
  char* a = malloc(24);
  memset(a, 0xff, 40); /* runs into the size field of the top chunk */
  char* b = malloc(100000);
  printf("%p\n", (void*)b);
  return 0;
}

#include <stdio.h>

struct item { int qty; };

static int quantity(const struct item* it) { return it->qty; }

int main(int argc, char** argv) {
  (void)argv;
  struct item* it = argc > 5 ? (struct item*)argv : NULL;
  printf("reading\n");
  fflush(stdout);
  printf("%d\n", quantity(it));
  return 0;
}

#include <stdio.h>

struct config { int retries; };

static void set_retries(struct config* c, int n) { c->retries = n; }

int main(void) {
  struct config* c = NULL;
  printf("configuring\n");
  fflush(stdout);
  set_retries(c, 3);
  return 0;
}

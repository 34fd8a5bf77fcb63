/* A small service that starts, logs a little and then crashes on a null
 * pointer: the bundled example for `crashwrap -- build/examples/crashy`. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct config {
  const char *name;
  int *limits;
};

static int apply_limits(const struct config *cfg) {
  /* The bug: limits was never allocated. */
  cfg->limits[0] = 42;
  return cfg->limits[0];
}

int main(void) {
  struct config cfg = {"demo", NULL};
  printf("crashy: starting service '%s' (pid %d)\n", cfg.name, (int)getpid());
  printf("crashy: listening on 127.0.0.1:8080\n");
  fflush(stdout);
  fprintf(stderr, "crashy: warning: no limits configured, using defaults\n");
  usleep(200 * 1000);
  printf("crashy: applying limits\n");
  fflush(stdout);
  return apply_limits(&cfg) == 42 ? 0 : 1;
}

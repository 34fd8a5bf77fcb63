#include <stdlib.h>
#include <string.h>

static char* buffer;

static void reset(void) { free(buffer); }

int main(void) {
  buffer = malloc(32);
  strcpy(buffer, "payload");
  reset();
  reset();
  return 0;
}

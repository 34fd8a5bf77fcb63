/* hog: allocates and touches memory until the kernel kills it (OOM tests).
 *   hog [CHUNK_MIB]   default 4; prints "hog N MiB\n" on stdout after each chunk.
 * Every page is written through a volatile pointer and every chunk stays
 * reachable from a global, so the compiler can neither drop the stores nor
 * the allocation. Exits 3 only if 64 GiB were allocated without a kill. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char* volatile g_chunks[16384];

int main(int argc, char** argv) {
  long mib = argc > 1 ? atol(argv[1]) : 4;
  if (mib <= 0 || mib > 1024) mib = 4;
  const size_t n = (size_t)mib << 20;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (long i = 0; i < (long)(sizeof g_chunks / sizeof g_chunks[0]); ++i) {
    if ((i + 1) * mib > 64L * 1024) break;
    char* volatile p = malloc(n);
    if (!p) {
      usleep(1000);
      continue;
    }
    for (size_t k = 0; k < n; k += 4096) p[k] = (char)(k >> 12);
    g_chunks[i] = p;
    printf("hog %ld MiB\n", (i + 1) * mib);
  }
  fprintf(stderr, "hog: never killed\n");
  return 3;
}

/* Writes LINES lines of BYTES bytes (newline included) to stdout, stderr or
 * both (alternating), as fast as possible or at RATE lines/s. With a rate,
 * every line starts with the CLOCK_MONOTONIC time in ns when it was written,
 * for latsink. Its own CPU time goes to the file named by $GEN_RUSAGE. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(1);
    p += w;
    n -= (size_t)w;
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: gen LINES BYTES stdout|stderr|both [RATE]\n");
    return 2;
  }
  long lines = atol(argv[1]);
  size_t bytes = (size_t)atol(argv[2]);
  const char *mode = argv[3];
  double rate = argc > 4 ? atof(argv[4]) : 0;
  if (bytes < 24) bytes = 24;
  char *line = malloc(bytes);
  for (size_t i = 0; i < bytes - 1; ++i) line[i] = (char)('a' + i % 26);
  line[bytes - 1] = '\n';
  /* Batch lines into 64 KiB writes when unpaced, like a buffered logger. */
  size_t per = rate > 0 ? 1 : (65536 / bytes ? 65536 / bytes : 1);
  char *buf = malloc(per * bytes);
  for (size_t i = 0; i < per; ++i) memcpy(buf + i * bytes, line, bytes);
  long long start = now_ns();
  long done = 0;
  int turn = 0;
  while (done < lines) {
    size_t n = (size_t)(lines - done) < per ? (size_t)(lines - done) : per;
    if (rate > 0) {
      long long due = start + (long long)(done * 1e9 / rate);
      while (now_ns() < due) {
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
      }
      char head[21];
      snprintf(head, sizeof head, "%019lld ", now_ns());
      memcpy(buf, head, 20);
    }
    int fd = strcmp(mode, "stdout") == 0 ? 1 : strcmp(mode, "stderr") == 0 ? 2 : (turn ^= 1) ? 1 : 2;
    write_all(fd, buf, n * bytes);
    done += (long)n;
  }
  const char *out = getenv("GEN_RUSAGE");
  if (out) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    FILE *f = fopen(out, "a");
    if (f) {
      fprintf(f, "%.6f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
      fclose(f);
    }
  }
  return 0;
}

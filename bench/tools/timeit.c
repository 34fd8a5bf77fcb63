/* timeit N OUTFILE cmd args…: runs the command N times (stdout/stderr as
 * given) and writes "median_wall_s cpu_s maxrss_kib min_wall max_wall" of the
 * median run to OUTFILE; cpu and maxrss
 * are the command's own plus its waited-for children (wait4). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct { double wall, cpu; long rss; } Run;

static int by_wall(const void *a, const void *b) {
  double x = ((const Run *)a)->wall, y = ((const Run *)b)->wall;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int n = atoi(argv[1]);
  Run *runs = calloc((size_t)n, sizeof *runs);
  for (int i = 0; i < n; ++i) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
      execvp(argv[3], argv + 3);
      _exit(127);
    }
    int st;
    struct rusage ru;
    wait4(pid, &st, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &b);
    runs[i].wall = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    runs[i].cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    runs[i].rss = ru.ru_maxrss;
  }
  qsort(runs, (size_t)n, sizeof *runs, by_wall);
  Run m = runs[n / 2];
  FILE *out = fopen(argv[2], "w");
  if (!out) return 1;
  fprintf(out, "%.6f %.6f %ld %.6f %.6f\n", m.wall, m.cpu, m.rss, runs[0].wall, runs[n - 1].wall);
  fclose(out);
  return 0;
}

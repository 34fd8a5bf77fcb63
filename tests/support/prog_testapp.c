/* testapp: a child for crashwrap's integration tests, driven by argv.
 * Runs its commands left to right, e.g.
 *   testapp catch USR1 ready sleep 5 exit 3
 *
 * Output
 *   out TEXT / err TEXT      TEXT + "\n" to stdout / stderr (escapes: \n \r \t \\ \xHH)
 *   outn TEXT / errn TEXT    TEXT without a newline
 *   outbytes N / errbytes N  N pseudo-random bytes (see gen_fill; seed 1 = stdout, 2 = stderr)
 *   bothbytes N              N bytes on each stream, interleaved in varying chunk sizes
 *   outlines N / errlines N  N lines "<stream> <number, 8 digits>\n"
 *   bothlines N              lines alternating between the streams, numbered per stream
 *   binary                   the 256 byte values 0..255 to stdout
 *   flood                    writes stdout until a write fails, then says so on stderr
 *   echo                     copies stdin to stdout until EOF
 *   ready                    "ready\n" on stdout (a synchronisation point for tests)
 *   pid / pgid               "pid N" / "pgid N" on stdout
 *   env NAME                 "NAME=value" or "NAME unset" on stdout
 *   fds                      "fds 0 1 2 …" (open descriptors) on stdout
 *   sigstate                 "blocked N ignored M" (counts of blocked / ignored signals) on stdout
 *   tty                      "tty in=0|1 out=0|1 err=0|1 fg=0|1" on stdout
 *   closeout                 closes stdout
 * Signals
 *   catch SIG…               print "got SIGxxx\n" on stdout for each delivery (SIG = TERM, SIGTERM or 15)
 *   catchall                 catch TERM INT HUP QUIT USR1 USR2 WINCH CONT
 *   ignore SIG…              SIG_IGN
 *   raise SIG                raise the signal (default disposition first)
 *   segv / abort             a real invalid memory access / abort()
 * Processes
 *   grandchild S             fork a child that keeps stdout/stderr open, sleeps S s, exits 0
 *                            ("grandchild PID" on stdout)
 *   orphan S                 double fork: a grandchild with stdio on /dev/null that outlives
 *                            its parent and exits after S s ("orphan PID" on stdout)
 *   orphans N                N orphans that exit at once (zombies for the reaper)
 *   alloc MB                 allocate and touch MB MiB at a time until killed
 * Time and exit
 *   sleep S                  sleep S seconds (fractions ok), resumed after signals
 *   waitsig                  wait until a caught signal has arrived
 *   exit N                   exit(N)
 * Without an exit command the program exits 0 after the last command.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static const struct { const char* name; int no; } k_signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},   {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

static volatile sig_atomic_t g_caught = 0;

static void die(const char* what) {
  fprintf(stderr, "testapp: %s\n", what);
  exit(100);
}

static int sig_number(const char* s) {
  if (s[0] >= '0' && s[0] <= '9') return atoi(s);
  if (strncmp(s, "SIG", 3) == 0) s += 3;
  for (size_t i = 0; i < sizeof k_signals / sizeof k_signals[0]; ++i)
    if (strcmp(k_signals[i].name, s) == 0) return k_signals[i].no;
  die("unknown signal");
  return 0;
}

static const char* sig_name(int no) {
  for (size_t i = 0; i < sizeof k_signals / sizeof k_signals[0]; ++i)
    if (k_signals[i].no == no) return k_signals[i].name;
  return "UNKNOWN";
}

static int write_all(int fd, const void* data, size_t len) {
  const char* p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void say(int fd, const char* fmt, long a) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, fmt, a);
  write_all(fd, buf, (size_t)n);
}

static void on_signal(int no) {
  char buf[64] = "got SIG";
  const char* name = sig_name(no);
  size_t n = 7;
  while (*name && n < sizeof buf - 2) buf[n++] = *name++;
  buf[n++] = '\n';
  write_all(1, buf, n);
  g_caught = 1;
}

/* The byte generator shared with the tests (tests/integration/passthrough_test.cpp). */
static uint64_t gen_next(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}
static void gen_fill(uint64_t* s, unsigned char* buf, size_t n) {
  for (size_t i = 0; i < n; ++i) buf[i] = (unsigned char)(gen_next(s) >> 24);
}

static void write_bytes(int fd, uint64_t seed, long long total) {
  static unsigned char buf[1 << 16];
  uint64_t s = seed, sizes = seed * 7919;
  while (total > 0) {
    size_t chunk = 1 + (size_t)(gen_next(&sizes) % sizeof buf);
    if ((long long)chunk > total) chunk = (size_t)total;
    gen_fill(&s, buf, chunk);
    if (write_all(fd, buf, chunk) != 0) die("write failed");
    total -= (long long)chunk;
  }
}

static void both_bytes(long long total) {
  static unsigned char buf[1 << 16];
  uint64_t s[3] = {0, 1, 2}, sizes = 12345;
  long long left[3] = {0, total, total};
  while (left[1] > 0 || left[2] > 0) {
    for (int fd = 1; fd <= 2; ++fd) {
      size_t chunk = 1 + (size_t)(gen_next(&sizes) % sizeof buf);
      if ((long long)chunk > left[fd]) chunk = (size_t)left[fd];
      if (chunk == 0) continue;
      gen_fill(&s[fd], buf, chunk);
      if (write_all(fd, buf, chunk) != 0) die("write failed");
      left[fd] -= (long long)chunk;
    }
  }
}

static void write_lines(int fd, long n) {
  char line[64];
  for (long i = 1; i <= n; ++i) {
    int len = snprintf(line, sizeof line, "%s %08ld\n", fd == 1 ? "stdout" : "stderr", i);
    if (write_all(fd, line, (size_t)len) != 0) die("write failed");
  }
}

static void both_lines(long n) {
  char line[64];
  for (long i = 1; i <= n; ++i) {
    for (int fd = 1; fd <= 2; ++fd) {
      int len = snprintf(line, sizeof line, "%s %08ld\n", fd == 1 ? "stdout" : "stderr", i);
      if (write_all(fd, line, (size_t)len) != 0) die("write failed");
    }
  }
}

static size_t unescape(const char* in, char* out) {
  size_t n = 0;
  for (; *in; ++in) {
    if (*in != '\\' || !in[1]) { out[n++] = *in; continue; }
    ++in;
    switch (*in) {
      case 'n': out[n++] = '\n'; break;
      case 'r': out[n++] = '\r'; break;
      case 't': out[n++] = '\t'; break;
      case 'x': {
        char hex[3] = {in[1], in[1] ? in[2] : 0, 0};
        out[n++] = (char)strtol(hex, NULL, 16);
        in += 2;
        break;
      }
      default: out[n++] = *in;
    }
  }
  return n;
}

static void print_text(int fd, const char* text, int newline) {
  size_t cap = strlen(text) + 2;
  char* buf = malloc(cap);
  size_t n = unescape(text, buf);
  if (newline) buf[n++] = '\n';
  write_all(fd, buf, n);
  free(buf);
}

static void sleep_seconds(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void catch_signal(int no) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(no, &sa, NULL);
}

static void list_fds(void) {
  char line[1024] = "fds";
  size_t n = 3;
  DIR* d = opendir("/proc/self/fd");
  if (!d) die("cannot list fds");
  int self = dirfd(d);
  struct dirent* e;
  int fds[256], count = 0;
  while ((e = readdir(d)) && count < 256) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != self) fds[count++] = fd;
  }
  closedir(d);
  for (int i = 0; i < count; ++i)  /* sort: readdir order is not numeric */
    for (int j = i + 1; j < count; ++j)
      if (fds[j] < fds[i]) { int t = fds[i]; fds[i] = fds[j]; fds[j] = t; }
  for (int i = 0; i < count && n < sizeof line - 16; ++i)
    n += (size_t)snprintf(line + n, sizeof line - n, " %d", fds[i]);
  line[n++] = '\n';
  write_all(1, line, n);
}

static void sig_state(void) {
  sigset_t blocked;
  sigprocmask(SIG_BLOCK, NULL, &blocked);
  int nb = 0, ni = 0;
  for (int s = 1; s < 32; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    struct sigaction sa;
    sigaction(s, NULL, &sa);
    if (sigismember(&blocked, s)) ++nb;
    if (sa.sa_handler == SIG_IGN) ++ni;
  }
  char buf[64];
  int n = snprintf(buf, sizeof buf, "blocked %d ignored %d\n", nb, ni);
  write_all(1, buf, (size_t)n);
}

static void tty_state(void) {
  char buf[96];
  int fg = isatty(0) && tcgetpgrp(0) == getpgrp();
  int n = snprintf(buf, sizeof buf, "tty in=%d out=%d err=%d fg=%d\n", isatty(0), isatty(1),
                   isatty(2), fg);
  write_all(1, buf, (size_t)n);
}

static void spawn_orphan(double seconds, int announce) {
  int p[2];
  if (pipe(p) != 0) die("pipe failed");
  pid_t mid = fork();
  if (mid < 0) die("fork failed");
  if (mid == 0) {
    pid_t g = fork();
    if (g == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      close(p[0]);
      close(p[1]);
      sleep_seconds(seconds);
      _exit(0);
    }
    write_all(p[1], &g, sizeof g);
    _exit(0);
  }
  close(p[1]);
  pid_t g = 0;
  if (read(p[0], &g, sizeof g) != sizeof g) die("orphan pid");
  close(p[0]);
  waitpid(mid, NULL, 0);
  if (announce) say(1, "orphan %ld\n", (long)g);
}

static void alloc_forever(long mib) {
  for (;;) {
    size_t n = (size_t)mib << 20;
    char* p = malloc(n);
    if (!p) continue;
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  }
}

static void flood(void) {
  static char buf[65536];
  memset(buf, 'f', sizeof buf);
  signal(SIGPIPE, SIG_IGN);
  long long total = 0;
  for (;;) {
    ssize_t n = write(1, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += n;
  }
  say(2, "flood stopped after %ld bytes\n", (long)total);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* c = argv[i];
    const char* a = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG() (a ? (++i, a) : (die("missing argument"), ""))
    if (!strcmp(c, "out")) print_text(1, ARG(), 1);
    else if (!strcmp(c, "err")) print_text(2, ARG(), 1);
    else if (!strcmp(c, "outn")) print_text(1, ARG(), 0);
    else if (!strcmp(c, "errn")) print_text(2, ARG(), 0);
    else if (!strcmp(c, "outbytes")) write_bytes(1, 1, atoll(ARG()));
    else if (!strcmp(c, "errbytes")) write_bytes(2, 2, atoll(ARG()));
    else if (!strcmp(c, "bothbytes")) both_bytes(atoll(ARG()));
    else if (!strcmp(c, "outlines")) write_lines(1, atol(ARG()));
    else if (!strcmp(c, "errlines")) write_lines(2, atol(ARG()));
    else if (!strcmp(c, "bothlines")) both_lines(atol(ARG()));
    else if (!strcmp(c, "binary")) {
      unsigned char b[256];
      for (int k = 0; k < 256; ++k) b[k] = (unsigned char)k;
      write_all(1, b, sizeof b);
    } else if (!strcmp(c, "flood")) flood();
    else if (!strcmp(c, "echo")) {
      char b[65536];
      ssize_t n;
      while ((n = read(0, b, sizeof b)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && write_all(1, b, (size_t)n) != 0) break;
    } else if (!strcmp(c, "ready")) write_all(1, "ready\n", 6);
    else if (!strcmp(c, "pid")) say(1, "pid %ld\n", (long)getpid());
    else if (!strcmp(c, "pgid")) say(1, "pgid %ld\n", (long)getpgrp());
    else if (!strcmp(c, "env")) {
      const char* name = ARG();
      const char* v = getenv(name);
      char buf[4096];
      int n = v ? snprintf(buf, sizeof buf, "%s=%s\n", name, v)
                : snprintf(buf, sizeof buf, "%s unset\n", name);
      write_all(1, buf, (size_t)n);
    } else if (!strcmp(c, "fds")) list_fds();
    else if (!strcmp(c, "sigstate")) sig_state();
    else if (!strcmp(c, "tty")) tty_state();
    else if (!strcmp(c, "closeout")) close(1);
    else if (!strcmp(c, "catch")) {
      while (i + 1 < argc && (strncmp(argv[i + 1], "SIG", 3) == 0 ||
                              (argv[i + 1][0] >= 'A' && argv[i + 1][0] <= 'Z') ||
                              (argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')))
        catch_signal(sig_number(argv[++i]));
    } else if (!strcmp(c, "catchall")) {
      const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
      for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; ++k) catch_signal(sigs[k]);
    } else if (!strcmp(c, "ignore")) {
      while (i + 1 < argc && ((argv[i + 1][0] >= 'A' && argv[i + 1][0] <= 'Z') ||
                              (argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')))
        signal(sig_number(argv[++i]), SIG_IGN);
    } else if (!strcmp(c, "raise")) {
      int no = sig_number(ARG());
      signal(no, SIG_DFL);
      sigset_t s;
      sigemptyset(&s);
      sigaddset(&s, no);
      sigprocmask(SIG_UNBLOCK, &s, NULL);
      raise(no);
    } else if (!strcmp(c, "segv")) {
      signal(SIGSEGV, SIG_DFL);
      volatile uintptr_t addr = 8;
      *(volatile int*)addr = 1;
    } else if (!strcmp(c, "abort")) abort();
    else if (!strcmp(c, "grandchild")) {
      double s = atof(ARG());
      pid_t g = fork();
      if (g == 0) {
        sleep_seconds(s);
        _exit(0);
      }
      say(1, "grandchild %ld\n", (long)g);
    } else if (!strcmp(c, "orphan")) spawn_orphan(atof(ARG()), 1);
    else if (!strcmp(c, "orphans")) {
      long n = atol(ARG());
      for (long k = 0; k < n; ++k) spawn_orphan(0, 0);
      say(1, "orphans %ld\n", n);
    } else if (!strcmp(c, "alloc")) alloc_forever(atol(ARG()));
    else if (!strcmp(c, "sleep")) sleep_seconds(atof(ARG()));
    else if (!strcmp(c, "waitsig")) {
      while (!g_caught) sleep_seconds(0.005);
      g_caught = 0;
    } else if (!strcmp(c, "exit")) exit(atoi(ARG()));
    else {
      fprintf(stderr, "testapp: unknown command '%s'\n", c);
      return 100;
    }
#undef ARG
  }
  return 0;
}

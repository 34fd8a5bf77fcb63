#include "parsers/signal_names.h"

#include <csignal>
#include <cstdint>

namespace crashwrap::parsers {
namespace {

struct SignalEntry {
  int number;
  std::string_view name;  // without "SIG"
};

// The kernel's macros, not literal numbers: a few architectures (MIPS, SPARC,
// Alpha) number the same signals differently. Canonical names come first so
// signal_name() prefers them over aliases.
constexpr SignalEntry kSignals[] = {
    {SIGHUP, "HUP"},    {SIGINT, "INT"},       {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"},  {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
    {SIGKILL, "KILL"},  {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"},  {SIGALRM, "ALRM"},     {SIGTERM, "TERM"},
#ifdef SIGSTKFLT
    {SIGSTKFLT, "STKFLT"},
#endif
    {SIGCHLD, "CHLD"},  {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"},  {SIGTTOU, "TTOU"},     {SIGURG, "URG"},   {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"},  {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},
#ifdef SIGPWR
    {SIGPWR, "PWR"},
#endif
    {SIGSYS, "SYS"},
    // aliases
    {SIGIOT, "IOT"},    {SIGPOLL, "POLL"},     {SIGCHLD, "CLD"},
};

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (upper(a[i]) != upper(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Decimal without sign, at most 9 digits; nullopt otherwise.
std::optional<int> parse_small_uint(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<int> parse_realtime(std::string_view s) {
  const int lo = SIGRTMIN, hi = SIGRTMAX;
  int base = 0, sign = 1;
  if (istarts_with(s, "RTMIN")) {
    base = lo;
    s.remove_prefix(5);
  } else if (istarts_with(s, "RTMAX")) {
    base = hi;
    sign = -1;
    s.remove_prefix(5);
  } else {
    return std::nullopt;
  }
  if (s.empty()) return base;
  if (s[0] != (sign > 0 ? '+' : '-')) return std::nullopt;
  auto n = parse_small_uint(s.substr(1));
  if (!n) return std::nullopt;
  int v = base + sign * *n;
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace

std::string signal_name(int signo) {
  for (const auto& e : kSignals)
    if (e.number == signo) return "SIG" + std::string(e.name);
  const int lo = SIGRTMIN, hi = SIGRTMAX;
  if (signo >= lo && signo <= hi) {
    if (signo == lo) return "SIGRTMIN";
    if (signo == hi) return "SIGRTMAX";
    // Same split as bash's `kill -l`: the lower half counts up from RTMIN.
    if (signo - lo <= (hi - lo) / 2) return "SIGRTMIN+" + std::to_string(signo - lo);
    return "SIGRTMAX-" + std::to_string(hi - signo);
  }
  return "SIG" + std::to_string(signo);
}

std::optional<int> signal_number(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (auto n = parse_small_uint(text)) {
    if (*n >= 1 && *n <= SIGRTMAX) return n;
    return std::nullopt;
  }
  if (istarts_with(text, "SIG")) text.remove_prefix(3);
  if (text.empty()) return std::nullopt;
  if (auto n = parse_small_uint(text)) {  // "SIG32", as signal_name() spells unnamed ones
    if (*n >= 1 && *n <= SIGRTMAX) return n;
    return std::nullopt;
  }
  for (const auto& e : kSignals)
    if (iequals(text, e.name)) return e.number;
  return parse_realtime(text);
}

}  // namespace crashwrap::parsers

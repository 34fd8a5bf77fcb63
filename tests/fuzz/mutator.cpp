#include "mutator.h"

#include <algorithm>

namespace crashwrap::fuzz {
namespace {

constexpr std::size_t kMaxInput = 2 * 1024 * 1024;

constexpr std::string_view kFragments[] = {
    "panic: ", "fatal error: ", "goroutine 1 [running]:", "\tpanic: ", "created by main.main in goroutine 1",
    "thread 'main' panicked at src/main.rs:1:1:", "stack backtrace:", "   0: app::main", "             at ./src/x.rs:1:1",
    "terminate called after throwing an instance of '", "  what():  ", "free(): double free detected in tcache 2",
    ": Assertion `", "==1==ERROR: AddressSanitizer: ", "    #0 0x1 in f /a.c:1", "SUMMARY: AddressSanitizer: ",
    "WARNING: ThreadSanitizer: data race (pid=1)", "==================", "a.c:1:1: runtime error: ",
    "==1==ERROR: LeakSanitizer: detected memory leaks", "Traceback (most recent call last):", "  File \"a.py\", line 1, in f",
    "Exception in thread \"main\" java.lang.Error: x", "\tat a.B.c(B.java:1)", "Caused by: ", "\t... 3 more",
    "    at f (/a.js:1:1)", "Unhandled exception. System.Exception: x", "   at A.B()", "PHP Fatal error:  Uncaught ",
    "{\"stack\":\"Error: x\\n    at f (/a.js:1:1)\"}", "{\"exc_info\":\"Traceback (most recent call last):\\n\"}",
    "\x1b[31m", "\x1b[0m", "\xff\xfe", "\xc3", "\xe2\x82", "\r", "\t", "(", ")", "[", "]", "'", "\"", "\\n",
};

constexpr std::string_view kPrefixes[] = {
    "2024-05-01 10:00:00.123 ERROR [main] ", "Jan  2 03:04:05 host app[123]: ", "\x1b[34mINFO \x1b[0m | ",
    "{\"log\":\"", "E0501 10:00:00.000001    1 x.go:1] ",
};

}  // namespace

Mutator::Mutator(std::uint64_t seed, std::vector<std::string> pool) : rng_(seed), pool_(std::move(pool)) {
  if (pool_.empty()) pool_.emplace_back("panic: empty pool\n\ngoroutine 1 [running]:\nmain.main()\n\t/a.go:1 +0x1\n");
}

const std::string& Mutator::pick() { return pool_[below(pool_.size())]; }

std::string Mutator::random_bytes() {
  std::string s(below(1 << (4 + below(12))), '\0');
  bool text = below(2) == 0;
  for (char& c : s) {
    c = static_cast<char>(rng_());
    if (text) c = below(12) == 0 ? '\n' : static_cast<char>(' ' + below(95));
  }
  return s;
}

std::vector<std::string> Mutator::lines_of(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find('\n', pos);
    if (end == std::string::npos) end = s.size();
    lines.emplace_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::string Mutator::join(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s.append(l).push_back('\n');
  return s;
}

void Mutator::mutate_lines(std::vector<std::string>& lines, std::string& what) {
  if (lines.empty()) return;
  switch (below(8)) {
    case 0: what += " shuffle"; std::shuffle(lines.begin(), lines.end(), rng_); break;
    case 1: {
      what += " duplicate";
      std::size_t i = below(lines.size());
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), lines[i]);
      break;
    }
    case 2: what += " drop"; lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(below(lines.size()))); break;
    case 3: {
      what += " prefix";
      std::string_view p = kPrefixes[below(std::size(kPrefixes))];
      for (std::string& l : lines) l.insert(0, p);
      break;
    }
    case 4: what += " crlf"; for (std::string& l : lines) l.push_back('\r'); break;
    case 5: {
      what += " huge-line";
      std::string huge(16 * 1024 + below(200 * 1024), 'x');
      for (std::size_t k = 0; k < huge.size(); k += 1 + below(64)) huge[k] = static_cast<char>(' ' + below(95));
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(below(lines.size() + 1)), huge);
      break;
    }
    case 6: {
      what += " interleave";
      for (std::size_t i = 0; i < lines.size(); i += 1 + below(4))
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), "worker " + std::to_string(i) + ": tick");
      break;
    }
    default: {
      what += " repeat";
      std::vector<std::string> copy = lines;
      for (std::size_t k = below(20); k > 0; --k) lines.insert(lines.end(), copy.begin(), copy.end());
      break;
    }
  }
}

void Mutator::mutate(std::string& s, std::string& what) {
  switch (below(7)) {
    case 0:
      what += " bitflip";
      for (std::size_t k = 1 + below(16); k > 0 && !s.empty(); --k) s[below(s.size())] ^= static_cast<char>(1 << below(8));
      break;
    case 1: what += " truncate"; s.resize(below(s.size() + 1)); break;
    case 2: {
      what += " fragment";
      for (std::size_t k = 1 + below(8); k > 0; --k)
        s.insert(below(s.size() + 1), kFragments[below(std::size(kFragments))]);
      break;
    }
    case 3: {
      what += " splice";
      const std::string& other = pick();
      std::size_t cut = below(s.size() + 1);
      s = s.substr(0, cut) + other.substr(below(other.size() + 1));
      break;
    }
    case 4: {
      what += " invalid-utf8";
      for (std::size_t k = 1 + below(8); k > 0; --k) s.insert(below(s.size() + 1), 1, static_cast<char>(0x80 + below(128)));
      break;
    }
    case 5: {
      what += " json-wrap";
      std::string escaped;
      for (char c : s.substr(0, 8192)) {
        if (c == '\n') escaped += "\\n";
        else if (c == '"' || c == '\\') escaped.append(1, '\\').push_back(c);
        else if (static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
      }
      s = "{\"level\":\"error\",\"msg\":\"x\",\"stack\":\"" + escaped + "\"}\n";
      break;
    }
    default: {
      auto lines = lines_of(s);
      mutate_lines(lines, what);
      s = join(lines);
      break;
    }
  }
}

std::string Mutator::next(std::string& what) {
  if (below(8) == 0) {
    what = "random";
    return random_bytes();
  }
  what = "corpus";
  std::string s = pick();
  for (std::size_t rounds = 1 + below(3); rounds > 0; --rounds) mutate(s, what);
  if (s.size() > kMaxInput) s.resize(kMaxInput);
  return s;
}

}  // namespace crashwrap::fuzz

#include "parsers/registry.h"

#include <algorithm>
#include <bit>
#include <cctype>

#include "parsers/detectors.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

struct Entry {
  std::string_view name;
  std::vector<std::string_view> aliases;
  std::unique_ptr<Detector> (*make)();
};

// Every runtime detector, in the order overlaps are broken on a tie.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {"python", {"py", "python3"}, &make_python_detector},
      {"ruby", {"rb"}, &make_ruby_detector},
      {"php", {}, &make_php_detector},
      {"perl", {"pl"}, &make_perl_detector},
      {"go", {"golang"}, &make_go_detector},
      {"rust", {"rs"}, &make_rust_detector},
      {"cpp", {"c++", "libstdc++", "libc++"}, &make_cpp_detector},
      {"glibc", {"libc", "malloc", "assert"}, &make_glibc_detector},
      {"glog", {"absl"}, &make_glog_detector},
      {"asan", {"addresssanitizer", "msan", "hwasan"}, &make_asan_detector},
      {"lsan", {"leaksanitizer"}, &make_lsan_detector},
      {"tsan", {"threadsanitizer"}, &make_tsan_detector},
      {"ubsan", {"undefinedbehaviorsanitizer"}, &make_ubsan_detector},
      {"json", {"jsonlog", "json-log", "json_log", "structured"}, &make_json_log_detector},
      {"java", {"kotlin", "scala"}, &make_java_detector},
      {"jvm-fatal", {"jvm", "hotspot"}, &make_jvm_fatal_detector},
      {"dotnet", {"csharp", "mono", ".net"}, &make_dotnet_detector},
      {"node", {"nodejs", "javascript", "js"}, &make_node_detector},
  };
  return table;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const Entry* find_entry(std::string_view name) {
  std::string n = lower(name);
  for (const Entry& e : entries()) {
    if (e.name == n) return &e;
    for (std::string_view a : e.aliases)
      if (a == n) return &e;
  }
  return nullptr;
}

std::size_t frame_count(const CrashReport& r) {
  std::size_t n = 0;
  for (const Exception& e : r.exceptions) n += e.stacktrace.frames.size();
  for (const Thread& t : r.threads) n += t.stacktrace.frames.size();
  return n;
}

bool richer(const CrashReport& a, const CrashReport& b) {
  auto key = [](const CrashReport& r) {
    return std::tuple(frame_count(r), r.exceptions.size(), r.last_line - r.first_line);
  };
  return key(a) > key(b);
}

bool overlaps(const CrashReport& a, const CrashReport& b) {
  return a.stream == b.stream && a.first_line <= b.last_line && b.first_line <= a.last_line;
}


}  // namespace

std::vector<std::string_view> Registry::names() {
  std::vector<std::string_view> out;
  for (const Entry& e : entries()) out.push_back(e.name);
  return out;
}

std::optional<Registry> Registry::create(const std::vector<std::string>& names, std::string& error) {
  Registry reg;
  if (names.empty()) {
    for (const Entry& e : entries()) reg.add(e.make());
    return reg;
  }
  for (const std::string& n : names) {
    const Entry* e = find_entry(n);
    if (e == nullptr) {
      error = "unknown detector '" + n + "'; valid names:";
      for (const Entry& v : entries()) error += " " + std::string(v.name);
      return std::nullopt;
    }
    reg.add(e->make());
  }
  return reg;
}

Registry Registry::all_except(std::string_view name) {
  Registry reg;
  for (const Entry& e : entries())
    if (e.name != name) reg.add(e.make());
  return reg;
}

void Registry::add(std::unique_ptr<Detector> d) {
  if (!d || detectors_.size() >= 64) return;
  std::uint64_t bit = std::uint64_t{1} << detectors_.size();
  for (std::string_view a : d->anchors()) anchors_.add(a, bit);
  detectors_.push_back(std::move(d));
}

void Registry::set_in_app_rules(std::vector<std::string> include, std::vector<std::string> exclude) {
  in_app_include_ = std::move(include);
  in_app_exclude_ = std::move(exclude);
}

std::uint64_t Registry::prefilter(std::string_view s) const noexcept { return anchors_.scan(s); }

void Registry::refresh_active(std::size_t i) {
  for (Stream s : {Stream::Stdout, Stream::Stderr}) refresh_active(i, s);
}

void Registry::refresh_active(std::size_t i, Stream s) {
  std::uint64_t bit = std::uint64_t{1} << i;
  auto& mask = active_[s == Stream::Stdout ? 0 : 1];
  if (detectors_[i]->active_since(s))
    mask |= bit;
  else
    mask &= ~bit;
}

void Registry::feed(const Line& line, std::vector<CrashReport>& out) {
  std::uint64_t wanted = active_[line.stream == Stream::Stdout ? 0 : 1] | prefilter(line.text);
  if (wanted == 0 && pending_.empty()) return;  // the no-crash fast path
  const std::size_t first_new = pending_.size();
  for (std::uint64_t w = wanted; w != 0; w &= w - 1) {  // the wanted detectors, in registry order
    const auto i = static_cast<std::size_t>(std::countr_zero(w));
    detectors_[i]->feed(line, pending_);
    refresh_active(i, line.stream);  // feeding one stream leaves the other's state alone
  }
  collect(first_new);
  release(out, false);
}

void Registry::flush(Timestamp now, std::chrono::milliseconds quiet, std::vector<CrashReport>& out) {
  if ((active_[0] | active_[1]) == 0 && pending_.empty()) return;
  const std::size_t first_new = pending_.size();
  for (std::size_t i = 0; i < detectors_.size(); ++i) {
    detectors_[i]->flush(now, quiet, pending_);
    refresh_active(i);
  }
  collect(first_new);
  release(out, false);
}

void Registry::finish(std::vector<CrashReport>& out) {
  const std::size_t first_new = pending_.size();
  for (std::size_t i = 0; i < detectors_.size(); ++i) {
    detectors_[i]->finish(pending_);
    refresh_active(i);
  }
  collect(first_new);
  release(out, true);
}

// Detectors append their finished reports to pending_ directly (no copy);
// the ones from `first_new` on are new.
void Registry::collect(std::size_t first_new) {
  for (std::size_t i = first_new; i < pending_.size(); ++i) apply_in_app(pending_[i]);
}

// Hands out the pending reports no detector still at work could overlap,
// keeping only the richest of each group of overlapping reports.
void Registry::release(std::vector<CrashReport>& out, bool all) {
  if (pending_.empty()) return;
  std::optional<std::uint64_t> busy_from[2];
  if (!all) {
    for (int si = 0; si < 2; ++si) {
      Stream s = si == 0 ? Stream::Stdout : Stream::Stderr;
      for (std::uint64_t w = active_[si]; w != 0; w &= w - 1) {
        const auto i = static_cast<std::size_t>(std::countr_zero(w));
        if (auto since = detectors_[i]->active_since(s))
          busy_from[si] = busy_from[si] ? std::min(*busy_from[si], *since) : *since;
      }
    }
    // Most lines of a long report change nothing: skip the sort while every
    // pending report still overlaps a report in progress.
    bool any_ready = std::any_of(pending_.begin(), pending_.end(), [&](const CrashReport& r) {
      const auto& busy = busy_from[r.stream == Stream::Stdout ? 0 : 1];
      return !busy || r.last_line < *busy;
    });
    if (!any_ready) return;
  }
  // Sorting a sorted range changes nothing; checking first saves the sort's buffer.
  auto by_start = [](const CrashReport& a, const CrashReport& b) {
    return std::tuple(a.stream, a.first_line) < std::tuple(b.stream, b.first_line);
  };
  if (!std::is_sorted(pending_.begin(), pending_.end(), by_start))
    std::stable_sort(pending_.begin(), pending_.end(), by_start);
  std::vector<CrashReport> keep;
  std::vector<CrashReport> ready;
  ready.reserve(pending_.size());
  for (CrashReport& r : pending_) {
    const auto& busy = busy_from[r.stream == Stream::Stdout ? 0 : 1];
    if (busy && r.last_line >= *busy) {
      keep.push_back(std::move(r));
      continue;
    }
    if (!ready.empty() && overlaps(ready.back(), r)) {
      if (richer(r, ready.back())) ready.back() = std::move(r);
      continue;
    }
    ready.push_back(std::move(r));
  }
  // A held report may overlap one that is ready: hold the ready one too.
  for (auto it = ready.begin(); it != ready.end();) {
    bool clash = std::any_of(keep.begin(), keep.end(), [&](const CrashReport& k) { return overlaps(k, *it); });
    if (clash) {
      keep.push_back(std::move(*it));
      it = ready.erase(it);
    } else {
      ++it;
    }
  }
  auto by_end = [](const CrashReport& a, const CrashReport& b) { return a.last_time < b.last_time; };
  if (!std::is_sorted(ready.begin(), ready.end(), by_end)) std::stable_sort(ready.begin(), ready.end(), by_end);
  for (CrashReport& r : ready) out.push_back(std::move(r));
  pending_ = std::move(keep);
}

void Registry::apply_in_app(CrashReport& r) const {
  if (in_app_include_.empty() && in_app_exclude_.empty()) return;
  auto matches = [](const Frame& f, const std::vector<std::string>& patterns) {
    for (const std::string& p : patterns) {
      if (p.empty()) continue;
      if (text::starts_with(f.module, p) || text::starts_with(f.function, p) || text::starts_with(f.package, p) ||
          text::contains(f.abs_path, p) || text::contains(f.filename, p))
        return true;
    }
    return false;
  };
  auto fix = [&](std::vector<Frame>& frames) {
    for (Frame& f : frames) {
      if (matches(f, in_app_include_))
        f.in_app = true;
      else if (matches(f, in_app_exclude_))
        f.in_app = false;
    }
  };
  for (Exception& e : r.exceptions) fix(e.stacktrace.frames);
  for (Thread& t : r.threads) fix(t.stacktrace.frames);
}

}  // namespace crashwrap::parsers

#include "agent/cgroup_probe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace crashwrap::agent {
namespace {

// cgroup and proc files are small; one bounded read loop, no streams.
std::optional<std::string> read_small_file(const std::string& path, std::size_t cap = 1 << 20) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < cap) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t next = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != v) return std::nullopt;  // overflow
    v = next;
  }
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount(std::string_view s) {
  auto octal = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

struct Mount {
  std::string root;   // the subtree of the hierarchy mounted there
  std::string point;  // where it is mounted
};

// The first cgroup mount of the wanted kind: v2 = fstype "cgroup2"; v1 = fstype
// "cgroup" whose super options name the "memory" controller.
std::optional<Mount> find_mount(const std::string& mountinfo, bool v1) {
  for (std::string_view line : split(mountinfo, '\n')) {
    std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    if (v1) {
      if (right[0] != "cgroup") continue;
      bool memory = false;
      for (auto opt : split(right[2], ',')) memory = memory || opt == "memory";
      if (!memory) continue;
    } else if (right[0] != "cgroup2") {
      continue;
    }
    return Mount{unescape_mount(left[3]), unescape_mount(left[4])};
  }
  return std::nullopt;
}

// Smallest limit on `dir` or any ancestor up to and including `top`.
std::optional<std::uint64_t> effective_limit(std::string dir, const std::string& top,
                                             const char* file) {
  std::optional<std::uint64_t> best;
  while (true) {
    if (auto text = read_small_file(dir + "/" + file)) {
      auto v = parse_memory_value(*text);
      if (v && (!best || *v < *best)) best = v;
    }
    if (dir.size() <= top.size()) break;
    std::size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash < top.size()) break;
    dir.resize(slash);
  }
  return best;
}

std::string join_path(const std::string& mount_point, std::string_view rel) {
  std::string out = mount_point;
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (!rel.empty() && rel.front() != '/') out.push_back('/');
  out += rel;
  return out.empty() ? "/" : out;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::optional<std::uint64_t> parse_memory_value(std::string_view text) {
  auto v = parse_u64(trim(text));
  // v1 reports "unlimited" as PAGE_COUNTER_MAX pages (≈ 2^63 rounded to a page).
  if (!v || *v >= (std::uint64_t{1} << 62)) return std::nullopt;
  return v;
}

CgroupProbe::CgroupProbe(ProbeRoots roots) : roots_(std::move(roots)) {}

CgroupProbe CgroupProbe::discover(pid_t pid) { return discover(pid, ProbeRoots{}); }

CgroupProbe CgroupProbe::discover(pid_t pid, const ProbeRoots& roots) {
  CgroupProbe p(roots);
  p.locate(pid);
  return p;
}

bool CgroupProbe::locate(pid_t pid) {
  version_ = CgroupVersion::None;
  cgroup_.clear();
  dir_.clear();
  mount_dir_.clear();
  const std::string who = pid == 0 ? "self" : std::to_string(pid);
  auto table = read_small_file(roots_.proc + "/" + who + "/cgroup");
  if (!table) return false;
  std::optional<std::string> v1_path, v2_path;
  for (std::string_view line : split(*table, '\n')) {
    std::size_t a = line.find(':');
    std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view controllers = line.substr(a + 1, b - a - 1);
    std::string path(trim(line.substr(b + 1)));
    if (line.substr(0, a) == "0" && controllers.empty()) {
      v2_path = path;
      continue;
    }
    for (auto c : split(controllers, ','))
      if (c == "memory") v1_path = path;
  }
  // Hybrid systems list both; the memory controller lives where v1 says.
  const bool v1 = v1_path.has_value();
  if (!v1 && !v2_path) return false;
  const std::string& path = v1 ? *v1_path : *v2_path;
  auto mountinfo = read_small_file(roots_.proc + "/self/mountinfo");
  Mount m{"/", v1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup"};
  if (mountinfo)
    if (auto found = find_mount(*mountinfo, v1)) m = *found;
  std::string_view rel = path;
  if (m.root != "/" && rel.substr(0, m.root.size()) == m.root) rel.remove_prefix(m.root.size());
  if (rel.find("/..") != std::string_view::npos) return false;  // outside our cgroup namespace
  mount_dir_ = roots_.fs + m.point;
  dir_ = join_path(mount_dir_, rel);
  if (!is_directory(dir_)) {
    dir_.clear();
    return false;
  }
  cgroup_ = path;
  version_ = v1 ? CgroupVersion::V1 : CgroupVersion::V2;
  return true;
}

std::vector<parsers::OomCounter> CgroupProbe::read() const {
  if (version_ == CgroupVersion::None) return {};
  const bool v1 = version_ == CgroupVersion::V1;
  parsers::OomCounter c;
  c.source = v1 ? "memory.oom_control" : "memory.events";
  c.cgroup = cgroup_;
  auto text = read_small_file(dir_ + "/" + c.source);
  if (!text) return {};
  auto count = v1 ? parsers::parse_oom_kill_v1(*text) : parsers::parse_oom_kill_v2(*text);
  if (!count) return {};
  c.oom_kill = *count;
  c.limit = effective_limit(dir_, mount_dir_, v1 ? "memory.limit_in_bytes" : "memory.max");
  if (auto peak = read_small_file(dir_ + (v1 ? "/memory.max_usage_in_bytes" : "/memory.peak")))
    c.peak = parse_memory_value(*peak);
  return {c};
}

std::vector<parsers::OomCounter> read_oom_counters(pid_t child, const ProbeRoots& roots) {
  std::vector<parsers::OomCounter> out = CgroupProbe::discover(0, roots).read();
  if (child > 0) {
    for (auto& c : CgroupProbe::discover(child, roots).read()) {
      bool seen = false;
      for (const auto& o : out) seen = seen || (o.source == c.source && o.cgroup == c.cgroup);
      if (!seen) out.insert(out.begin(), std::move(c));  // the child's cgroup first
    }
  }
  return out;
}

std::optional<std::uint64_t> read_rss_bytes(pid_t pid, const std::string& proc_root) {
  auto text = read_small_file(proc_root + "/" + (pid == 0 ? std::string("self") : std::to_string(pid)) +
                              "/status");
  if (!text) return std::nullopt;
  constexpr std::string_view key = "VmRSS:";
  for (std::string_view line : split(*text, '\n')) {
    if (line.substr(0, key.size()) != key) continue;
    std::string_view v = trim(line.substr(key.size()));
    std::size_t sp = v.find(' ');
    if (sp == std::string_view::npos || trim(v.substr(sp)) != "kB") return std::nullopt;
    auto kb = parse_u64(v.substr(0, sp));
    if (!kb) return std::nullopt;
    return *kb * 1024;
  }
  return std::nullopt;  // kernel threads and zombies have no VmRSS
}

}  // namespace crashwrap::agent

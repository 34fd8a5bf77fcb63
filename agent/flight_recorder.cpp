#include "agent/flight_recorder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <utility>

#include "agent/diag.h"

namespace crashwrap::agent {
namespace {

// The file never leaves the host, so fields are native-endian. Layout:
//   [0, 4096)            Header, then the argv area and the OOM-counter area
//   [4096, 4096 + ring)  the output ring
constexpr char kMagic[8] = {'C', 'W', 'F', 'L', 'I', 'G', 'H', 'T'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderSize = 4096;
constexpr std::size_t kArgvOffset = 512, kArgvCap = 2560;
constexpr std::size_t kOomOffset = kArgvOffset + kArgvCap, kOomCap = kHeaderSize - kOomOffset;
constexpr std::size_t kMinRing = 4096, kMaxRing = 64u << 20;
constexpr std::size_t kPrefix = 17;  // 'o'|'e' + 16 hex digits of the time in ns

enum class State : std::uint32_t { Starting = 1, Running = 2, Ended = 3 };

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t ring_size;
  std::uint32_t state;
  std::int32_t owner_pid;
  std::uint64_t owner_starttime;  // clock ticks after boot
  std::uint64_t owner_pidns;      // inode of /proc/self/ns/pid
  char boot_id[40];
  std::int32_t child_pid;
  std::uint32_t argv_len;
  std::uint32_t oom_len;
  std::uint32_t reserved;
  std::int64_t created_ns;
  std::int64_t child_start_ns;
  std::int64_t last_update_ns;
  // A line is committed in three steps: ring_reserved moves to the end of the
  // new record, the bytes are copied, ring_written follows. A kill in between
  // leaves bytes in [ring_written, ring_reserved) that recovery ignores, and
  // tells it how much of the oldest data they may have overwritten.
  std::uint64_t ring_written;
  std::uint64_t ring_reserved;
};
static_assert(sizeof(Header) <= kArgvOffset);

// The lifetime's release-health session, between the header and the argv area
// (zeros in records written before it existed: no session).
constexpr std::size_t kSessionOffset = 256;
struct SessionArea {
  char sid[40];
  std::int64_t started_ns;
  std::uint64_t errors;
  char release[136];
  char environment[64];
};
static_assert(sizeof(Header) <= kSessionOffset && kSessionOffset + sizeof(SessionArea) <= kArgvOffset);

std::string c_string(const char* p, std::size_t cap) {
  std::size_t n = 0;
  while (n < cap && p[n] != '\0') ++n;
  return n < cap ? std::string(p, n) : std::string();
}

std::int64_t to_ns(parsers::Timestamp t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
parsers::Timestamp from_ns(std::int64_t ns) {
  return parsers::Timestamp(std::chrono::duration_cast<parsers::Clock::duration>(std::chrono::nanoseconds(ns)));
}

std::string read_text(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < 64 * 1024) out.append(buf, n);
  ::close(fd);
  return out;
}

// Field 22 of /proc/<pid>/stat; 0 when unreadable. The command name (field 2)
// may hold spaces and parentheses, so counting starts after the last ')'.
std::uint64_t process_starttime(const std::string& pid) {
  std::string stat = read_text(("/proc/" + pid + "/stat").c_str());
  std::size_t p = stat.rfind(')');
  if (p == std::string::npos) return 0;
  std::size_t field = 2;
  for (std::size_t i = p + 1; i < stat.size(); ++i) {
    if (stat[i] != ' ') continue;
    if (++field == 22) return std::strtoull(stat.c_str() + i + 1, nullptr, 10);
  }
  return 0;
}

std::uint64_t own_pidns() {
  struct stat st {};
  return ::stat("/proc/self/ns/pid", &st) == 0 ? st.st_ino : 0;
}

std::string boot_id() {
  std::string id = read_text("/proc/sys/kernel/random/boot_id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id.substr(0, 39);
}

const char kHex[] = "0123456789abcdef";

std::string serialize_oom(const std::vector<parsers::OomCounter>& counters) {
  auto opt = [](const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : std::string("-"); };
  std::string out;
  for (const auto& c : counters) {
    std::string line = c.source + '\t' + c.cgroup + '\t' + std::to_string(c.oom_kill) + '\t' + opt(c.limit) +
                       '\t' + opt(c.peak) + '\n';
    if (out.size() + line.size() > kOomCap) break;
    out += line;
  }
  return out;
}

std::optional<std::uint64_t> parse_opt_u64(const std::string& s) {
  if (s == "-" || s.empty()) return std::nullopt;
  return std::strtoull(s.c_str(), nullptr, 10);
}

std::vector<parsers::OomCounter> parse_oom(std::string_view text) {
  std::vector<parsers::OomCounter> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) break;
    std::vector<std::string> f;
    std::size_t start = pos;
    for (std::size_t i = pos; i <= eol; ++i)
      if (i == eol || text[i] == '\t') {
        f.emplace_back(text.substr(start, i - start));
        start = i + 1;
      }
    pos = eol + 1;
    if (f.size() != 5) continue;
    out.push_back({f[0], f[1], std::strtoull(f[2].c_str(), nullptr, 10), parse_opt_u64(f[3]), parse_opt_u64(f[4])});
  }
  return out;
}

void write_header(unsigned char* map, std::size_t ring, std::int64_t now_ns,
                  const std::vector<std::string>& argv) {
  auto* h = reinterpret_cast<Header*>(map);
  std::memcpy(h->magic, kMagic, sizeof kMagic);
  h->version = kVersion;
  h->header_size = kHeaderSize;
  h->ring_size = ring;
  h->state = static_cast<std::uint32_t>(State::Starting);
  h->owner_pid = ::getpid();
  h->owner_starttime = process_starttime("self");
  h->owner_pidns = own_pidns();
  const std::string boot = boot_id();
  std::memcpy(h->boot_id, boot.data(), boot.size());
  h->created_ns = now_ns;
  std::size_t len = 0;
  for (const auto& a : argv) {
    if (len + a.size() + 1 > kArgvCap) break;
    std::memcpy(map + kArgvOffset + len, a.data(), a.size());
    len += a.size() + 1;  // the NUL is already there: fallocate'd bytes read as zero
  }
  h->argv_len = static_cast<std::uint32_t>(len);
}

}  // namespace

// ---------------------------------------------------------------- writing

std::optional<FlightRecorder> FlightRecorder::create(const std::string& spool_dir,
                                                     const std::vector<std::string>& argv,
                                                     std::size_t tail_bytes) {
  const std::string dir = spool_dir + "/runs";
  std::string tmp;
  auto fail = [&](const char* what) {
    const int err = errno;
    if (!tmp.empty()) ::unlink(tmp.c_str());
    diag::flight_recorder_unavailable(dir, std::string(what) + ": " + std::strerror(err));
    return std::nullopt;
  };
  if (::mkdir(spool_dir.c_str(), 0700) != 0 && errno != EEXIST) return fail("cannot create the spool directory");
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail("cannot create the directory");

  const long page = ::sysconf(_SC_PAGESIZE) > 0 ? ::sysconf(_SC_PAGESIZE) : 4096;
  std::size_t ring = std::clamp(tail_bytes, kMinRing, kMaxRing);
  ring = (ring + page - 1) / page * page;
  const std::size_t total = kHeaderSize + ring;

  const auto now_ns = to_ns(parsers::Clock::now());
  char nonce[17];
  for (int i = 0; i < 16; ++i) nonce[i] = kHex[(static_cast<std::uint64_t>(now_ns) >> (60 - 4 * i)) & 0xf];
  nonce[16] = '\0';
  const std::string stem = "run-" + std::to_string(::getpid()) + "-" + nonce;
  const std::string tmp_name = dir + "/." + stem + ".tmp";

  FlightRecorder fr;
  fr.fd_ = ::open(tmp_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fr.fd_ < 0) return fail("cannot create a record");
  tmp = tmp_name;
  // Blocks are reserved up front: a store into a sparse page on a full disk
  // would kill crashwrap with SIGBUS in the middle of the event loop.
  if (int err = ::posix_fallocate(fr.fd_, 0, static_cast<off_t>(total)); err != 0) {
    errno = err;
    return fail("cannot reserve space for a record");
  }
  void* map = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fr.fd_, 0);
  if (map == MAP_FAILED) return fail("cannot map a record");
  fr.map_ = static_cast<unsigned char*>(map);
  fr.map_size_ = total;
  fr.ring_size_ = ring;

  write_header(fr.map_, ring, now_ns, argv);

  // Locked before it becomes visible under its final name, so recovery never
  // sees this live record unlocked.
  if (::flock(fr.fd_, LOCK_EX | LOCK_NB) != 0 && errno != ENOLCK && errno != EOPNOTSUPP)
    return fail("cannot lock a record");
  fr.path_ = dir + "/" + stem + ".rec";
  if (::rename(tmp.c_str(), fr.path_.c_str()) != 0) {
    fr.path_.clear();
    return fail("cannot name a record");
  }
  return std::optional<FlightRecorder>(std::move(fr));
}

FlightRecorder::FlightRecorder(FlightRecorder&& o) noexcept { *this = std::move(o); }

FlightRecorder& FlightRecorder::operator=(FlightRecorder&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    map_ = std::exchange(o.map_, nullptr);
    map_size_ = std::exchange(o.map_size_, 0);
    ring_size_ = std::exchange(o.ring_size_, 0);
    prefix_ns_ = o.prefix_ns_;
    std::memcpy(prefix_, o.prefix_, sizeof prefix_);
  }
  return *this;
}

FlightRecorder::~FlightRecorder() { release(); }

void FlightRecorder::release() noexcept {
  if (map_) ::munmap(map_, map_size_);
  if (fd_ >= 0) ::close(fd_);
  map_ = nullptr;
  fd_ = -1;
}

void FlightRecorder::child_started(int pid, parsers::Timestamp start,
                                   const std::vector<parsers::OomCounter>& oom_before) {
  if (!map_) return;
  auto* h = reinterpret_cast<Header*>(map_);
  h->child_pid = pid;
  h->child_start_ns = to_ns(start);
  h->last_update_ns = h->child_start_ns;
  const std::string oom = serialize_oom(oom_before);
  std::memcpy(map_ + kOomOffset, oom.data(), oom.size());
  h->oom_len = static_cast<std::uint32_t>(oom.size());
  // A kill is observed at an instruction boundary of this thread, so keeping
  // the compiler from sinking earlier stores below the state is enough.
  std::atomic_signal_fence(std::memory_order_release);
  h->state = static_cast<std::uint32_t>(State::Running);
}

void FlightRecorder::set_session(std::string_view sid, parsers::Timestamp started, std::string_view release,
                                 std::string_view environment) {
  if (!map_) return;
  auto* a = reinterpret_cast<SessionArea*>(map_ + kSessionOffset);
  std::memset(a, 0, sizeof *a);
  if (sid.size() >= sizeof a->sid || release.size() >= sizeof a->release ||
      environment.size() >= sizeof a->environment) {
    return;
  }
  std::memcpy(a->release, release.data(), release.size());
  std::memcpy(a->environment, environment.data(), environment.size());
  a->started_ns = to_ns(started);
  std::atomic_signal_fence(std::memory_order_release);
  std::memcpy(a->sid, sid.data(), sid.size());  // last: a sid means the rest is there
}

void FlightRecorder::set_session_errors(std::uint64_t errors) {
  if (map_) reinterpret_cast<SessionArea*>(map_ + kSessionOffset)->errors = errors;
}

void FlightRecorder::on_line(const parsers::Line& line) {
  if (!map_) return;
  auto* h = reinterpret_cast<Header*>(map_);
  unsigned char* ring = map_ + kHeaderSize;
  // A record: stream letter, time as 16 hex digits, the text, '\n'. Lines hold
  // no LF, so '\n' delimits records even after the ring wrapped mid-record.
  static_assert(sizeof prefix_ == kPrefix);
  char* const prefix = prefix_;
  prefix[0] = line.stream == parsers::Stream::Stdout ? 'o' : 'e';
  const auto ns = static_cast<std::uint64_t>(to_ns(line.time));
  if (ns != prefix_ns_) {
    prefix_ns_ = ns;
    for (int i = 0; i < 16; ++i) prefix[1 + i] = kHex[(ns >> (60 - 4 * i)) & 0xf];
  }
  const std::size_t text_len = std::min(line.text.size(), ring_size_ / 4);

  const std::uint64_t start = h->ring_written;
  const std::uint64_t end = start + kPrefix + text_len + 1;
  h->ring_reserved = end;
  std::atomic_signal_fence(std::memory_order_release);
  std::uint64_t pos = start % ring_size_;
  auto put = [&](const void* src, std::size_t n) {
    const auto* s = static_cast<const unsigned char*>(src);
    const std::size_t first = std::min<std::size_t>(n, ring_size_ - pos);
    std::memcpy(ring + pos, s, first);
    if (first < n) std::memcpy(ring, s + first, n - first);
    pos += n;  // n < ring_size_: one subtraction instead of a division per copy
    if (pos >= ring_size_) pos -= ring_size_;
  };
  put(prefix, kPrefix);
  put(line.text.data(), text_len);
  put("\n", 1);
  h->last_update_ns = static_cast<std::int64_t>(ns);
  std::atomic_signal_fence(std::memory_order_release);
  h->ring_written = end;
}

void FlightRecorder::child_ended() {
  if (!map_) return;
  std::atomic_signal_fence(std::memory_order_release);
  reinterpret_cast<Header*>(map_)->state = static_cast<std::uint32_t>(State::Ended);
}

void FlightRecorder::remove() {
  if (path_.empty()) return;
  child_ended();
  ::unlink(path_.c_str());
  release();
  path_.clear();
}

// ---------------------------------------------------------------- recovery
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::optional<std::string> read_record(int fd, std::size_t size) {
  std::string data(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, data.data() + got, size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<std::size_t>(n);
  }
  return data;
}

// nullopt when the header is sound; otherwise what is wrong with it.
std::optional<std::string> check_header(const std::string& data, const Header& h) {
  if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return "not a crashwrap flight record";
  if (data.size() < kHeaderSize) return std::string("corrupt flight record (truncated)");
  if (h.version != kVersion)
    return "flight record format " + std::to_string(h.version) + ", this crashwrap reads " +
           std::to_string(kVersion);
  const bool sound = h.header_size == kHeaderSize && h.ring_size >= kMinRing && h.ring_size <= kMaxRing &&
                     data.size() == kHeaderSize + h.ring_size && h.argv_len <= kArgvCap && h.oom_len <= kOomCap &&
                     h.state >= 1 && h.state <= 3 && h.ring_written <= h.ring_reserved &&
                     h.ring_reserved - h.ring_written <= h.ring_size;
  if (!sound) return std::string("corrupt flight record");
  return std::nullopt;
}

// The owner is dead when the machine rebooted since, when its pid is gone, or
// when the pid now belongs to a process started at another time (pid reuse).
// From another pid namespace the pid means nothing: there the free lock decides.
bool owner_dead(const Header& h, bool lock_taken) {
  const std::string boot(h.boot_id, ::strnlen(h.boot_id, sizeof h.boot_id));
  if (!boot.empty() && boot != boot_id()) return true;
  if (h.owner_pidns != own_pidns()) return lock_taken;
  if (h.owner_pid <= 0) return true;
  if (::kill(h.owner_pid, 0) != 0 && errno == ESRCH) return true;
  const std::uint64_t now = process_starttime(std::to_string(h.owner_pid));
  return now != 0 && now != h.owner_starttime;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::vector<parsers::LogLine> parse_ring(const char* ring, const Header& h) {
  const std::uint64_t size = h.ring_size;
  const std::uint64_t begin = h.ring_reserved > size ? h.ring_reserved - size : 0;
  if (begin >= h.ring_written) return {};
  std::string buf;
  buf.reserve(h.ring_written - begin);
  const std::uint64_t first = begin % size;
  const std::uint64_t n = h.ring_written - begin;
  const std::uint64_t head = std::min(n, size - first);
  buf.append(ring + first, head);
  buf.append(ring, n - head);
  std::size_t pos = 0;
  if (begin > 0) {  // the oldest record was (partly) overwritten
    pos = buf.find('\n');
    pos = pos == std::string::npos ? buf.size() : pos + 1;
  }
  std::vector<parsers::LogLine> out;
  while (pos < buf.size()) {
    std::size_t eol = buf.find('\n', pos);
    if (eol == std::string::npos) break;
    std::string_view rec(buf.data() + pos, eol - pos);
    pos = eol + 1;
    if (rec.size() < kPrefix || (rec[0] != 'o' && rec[0] != 'e')) continue;
    if (!std::all_of(rec.begin() + 1, rec.begin() + kPrefix, is_hex)) continue;
    parsers::LogLine line;
    line.stream = rec[0] == 'o' ? parsers::Stream::Stdout : parsers::Stream::Stderr;
    line.time = from_ns(static_cast<std::int64_t>(std::strtoull(std::string(rec.substr(1, 16)).c_str(), nullptr, 16)));
    line.text.assign(rec.substr(kPrefix));
    out.push_back(std::move(line));
  }
  return out;
}

AbandonedRun parse_run(const std::string& data, const Header& h) {
  AbandonedRun run;
  std::string_view args(data.data() + kArgvOffset, h.argv_len);
  while (!args.empty()) {
    std::size_t nul = args.find('\0');
    if (nul == std::string_view::npos) nul = args.size();
    run.argv.emplace_back(args.substr(0, nul));
    args.remove_prefix(std::min(args.size(), nul + 1));
  }
  run.owner_pid = h.owner_pid;
  run.child_pid = h.child_pid;
  run.started = from_ns(h.child_start_ns);
  run.last_update = from_ns(h.last_update_ns ? h.last_update_ns : h.child_start_ns);
  run.tail = parse_ring(data.data() + kHeaderSize, h);
  run.oom_before = parse_oom(std::string_view(data.data() + kOomOffset, h.oom_len));
  SessionArea area;
  std::memcpy(&area, data.data() + kSessionOffset, sizeof area);
  run.session_sid = c_string(area.sid, sizeof area.sid);
  if (!run.session_sid.empty()) {
    run.session_started = from_ns(area.started_ns);
    run.session_errors = area.errors;
    run.session_release = c_string(area.release, sizeof area.release);
    run.session_environment = c_string(area.environment, sizeof area.environment);
  }
  return run;
}

// One file of runs/: appends the run if it was abandoned and this call claimed it.
void recover_one(const std::string& path, std::vector<AbandonedRun>& out) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;  // claimed or removed meanwhile
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    diag::flight_record_ignored(path, "not a regular file");
    return;
  }
  const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  if (!locked && errno == EWOULDBLOCK) return;  // its owner lives
  const auto size = std::min(static_cast<std::size_t>(st.st_size), kHeaderSize + kMaxRing + 1);
  const std::optional<std::string> data = read_record(fd, size);
  Header h{};
  if (data && data->size() >= kHeaderSize) std::memcpy(&h, data->data(), sizeof h);
  const auto problem = data ? check_header(*data, h) : std::optional<std::string>("unreadable");
  if (problem) {
    diag::flight_record_ignored(path, *problem);
    return;
  }
  if (!owner_dead(h, locked)) return;
  if (static_cast<State>(h.state) != State::Running) {
    ::unlink(path.c_str());  // never started, or its owner reported the end itself
    return;
  }
  // rename() succeeds for exactly one of several crashwraps racing for it.
  const std::string base = path.substr(0, path.find(".rec") + 4);
  const std::string claimed = base + ".claimed-" + std::to_string(::getpid());
  if (claimed != path && ::rename(path.c_str(), claimed.c_str()) != 0) return;
  AbandonedRun run = parse_run(*data, h);
  run.record_path = base;
  ::unlink(claimed.c_str());
  out.push_back(std::move(run));
}

// A record being created lives under a temporary name for microseconds; one
// that is minutes old belongs to a crashwrap killed in create().
void remove_stale_tmp(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  const auto age = std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtime);
  if (age > std::chrono::minutes(10)) ::unlink(path.c_str());
}

}  // namespace

parsers::ExitInfo classify_abandoned_run(const AbandonedRun& run,
                                         const std::vector<parsers::OomCounter>& counters_now) {
  parsers::ExitEvidence ev;
  ev.before = run.oom_before;
  ev.after = counters_now;
  if (run.last_update > run.started)
    ev.duration = std::chrono::duration_cast<std::chrono::milliseconds>(run.last_update - run.started);
  return parsers::classify_abandoned(ev);
}

std::vector<AbandonedRun> FlightRecorder::recover(const std::string& spool_dir) {
  const std::string dir = spool_dir + "/runs";
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<AbandonedRun> out;
  for (const auto& name : names) {
    if (starts_with(name, ".run-")) {
      remove_stale_tmp(dir + "/" + name);
      continue;
    }
    if (name.empty() || name[0] == '.') continue;  // ".", ".."
    const std::string_view n = name;
    const bool ours = starts_with(n, "run-") &&
                      (n.size() > 8 && (n.substr(n.size() - 4) == ".rec" || n.find(".rec.claimed-") != n.npos));
    if (!ours) {
      diag::flight_record_ignored(dir + "/" + name, "not a crashwrap flight record");
      continue;
    }
    recover_one(dir + "/" + name, out);
  }
  std::sort(out.begin(), out.end(),
            [](const AbandonedRun& a, const AbandonedRun& b) { return a.started < b.started; });
  return out;
}

}  // namespace crashwrap::agent

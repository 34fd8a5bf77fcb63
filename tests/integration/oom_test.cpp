// OOM kills in a real memory-limited cgroup. Needs root and a memory cgroup
// in which this process may create a child group (cgroup v1, or v2 with the
// memory controller delegated); skips with a message otherwise. The
// classification logic itself is covered by unit tests on fixture trees.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/cgroup_probe.h"
#include "support/paths.h"
#include "support/process.h"
#include "sinks/envelope.h"
#include "sinks/spool.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kLimit = 64ull << 20;

// A child memory cgroup of this process's own, limited to kLimit, removed on
// destruction once its processes are gone.
class MemoryGroup {
 public:
  static std::optional<MemoryGroup> create(std::string& why) {
    if (::geteuid() != 0) {
      why = "not running as root";
      return std::nullopt;
    }
    agent::CgroupProbe own = agent::CgroupProbe::discover(0);
    if (own.version() == agent::CgroupVersion::None) {
      why = "no memory cgroup found in /proc/self/cgroup";
      return std::nullopt;
    }
    MemoryGroup g;
    g.v1_ = own.version() == agent::CgroupVersion::V1;
    g.name_ = "crashwrap-oom-test-" + std::to_string(::getpid());
    g.cgroup_ = (own.cgroup() == "/" ? "" : own.cgroup()) + "/" + g.name_;
    g.dir_ = own.directory() + "/" + g.name_;
    if (::mkdir(g.dir_.c_str(), 0755) != 0) {
      why = "cannot create " + g.dir_ + ": " + std::strerror(errno);
      return std::nullopt;
    }
    const std::string limit = std::to_string(kLimit);
    const bool limited = g.v1_ ? write_file(g.dir_ + "/memory.limit_in_bytes", limit)
                               : write_file(g.dir_ + "/memory.max", limit);
    if (!limited) {
      why = "cannot set a memory limit in " + g.dir_ + " (memory controller not delegated)";
      return std::optional<MemoryGroup>(std::move(g));  // destructor removes it; caller skips
    }
    // Without swap limits the hog could swap instead of being killed; not all
    // kernels have these files, which is fine when there is no swap.
    if (g.v1_) {
      (void)write_file(g.dir_ + "/memory.memsw.limit_in_bytes", limit);
    } else {
      (void)write_file(g.dir_ + "/memory.swap.max", "0");
    }
    g.usable_ = true;
    return std::optional<MemoryGroup>(std::move(g));
  }

  MemoryGroup(MemoryGroup&& o) noexcept
      : dir_(std::move(o.dir_)), cgroup_(std::move(o.cgroup_)), name_(std::move(o.name_)), v1_(o.v1_),
        usable_(o.usable_) {
    o.dir_.clear();
  }
  ~MemoryGroup() {
    if (dir_.empty()) return;
    wait_until([&] { return read_file(dir_ + "/cgroup.procs").empty(); }, 10s);
    wait_until([&] { return ::rmdir(dir_.c_str()) == 0 || errno == ENOENT; }, 10s);
  }

  bool usable() const { return usable_; }
  bool v1() const { return v1_; }
  const std::string& dir() const { return dir_; }
  const std::string& cgroup() const { return cgroup_; }

  // argv that moves itself into the group, then execs `command`.
  std::vector<std::string> enter_then(const std::vector<std::string>& command) const {
    std::vector<std::string> argv = {"/bin/sh", "-c", "echo $$ > '" + dir_ + "/cgroup.procs' && exec \"$@\"", "sh"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

 private:
  MemoryGroup() = default;
  std::string dir_, cgroup_, name_;
  bool v1_ = true;
  bool usable_ = false;
};

std::vector<nlohmann::json> saved_events(const std::string& spool_dir) {
  std::vector<nlohmann::json> out;
  sinks::SpoolOptions opts;
  opts.dir = spool_dir;
  std::string error;
  auto spool = sinks::Spool::open(opts, error);
  REQUIRE(spool);
  for (const auto& entry : spool->entries()) {
    auto bytes = spool->read_envelope(entry);
    REQUIRE(bytes);
    auto env = sinks::parse_envelope(*bytes, error);
    REQUIRE(env);
    if (const auto* item = env->first("event")) out.push_back(nlohmann::json::parse(item->payload));
  }
  return out;
}

std::vector<std::string> crashwrap_argv(const std::string& spool, std::vector<std::string> child) {
  std::vector<std::string> argv = {crashwrap_bin(), "--spool", spool, "--"};
  argv.insert(argv.end(), child.begin(), child.end());
  return argv;
}

ProcessOptions options(std::vector<std::string> argv) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.env_unset = {"SENTRY_DSN", "CRASHWRAP_DSN", "CRASHWRAP_SPOOL"};
  return o;
}

}  // namespace

TEST_CASE("a child OOM-killed in a memory-limited cgroup is reported as OutOfMemory with evidence",
          "[integration][oom]") {
  std::string why;
  auto group = MemoryGroup::create(why);
  if (!group || !group->usable()) {
    WARN("OOM integration test skipped: " << why);
    return;
  }
  TempDir dir;
  const std::string spool = dir.file("spool");
  RunResult r = run(options(group->enter_then(crashwrap_argv(spool, {test_program("hog"), "4"}))), 60s);
  REQUIRE_FALSE(r.timed_out());
  INFO("stderr: " << r.err);
  CHECK(r.term_signal() == SIGKILL);  // crashwrap re-raises its child's end
  CHECK(r.out.rfind("hog 4 MiB\nhog 8 MiB\n", 0) == 0);
  CHECK(r.err.find("was OOM-killed") != std::string::npos);

  auto events = saved_events(spool);
  REQUIRE(events.size() == 1);
  const auto& ev = events[0];
  INFO(ev.dump(2));
  CHECK(ev.value("level", "") == "fatal");
  REQUIRE(ev.contains("exception"));
  const auto& ex = ev["exception"]["values"].back();
  CHECK(ex.value("type", "") == "OutOfMemory");
  const std::string text = ev.dump();
  CHECK(text.find(group->cgroup()) != std::string::npos);  // which cgroup's counter grew
  CHECK(text.find(std::to_string(kLimit)) != std::string::npos);  // its limit
  CHECK(text.find(group->v1() ? "memory.oom_control" : "memory.events") != std::string::npos);
}

TEST_CASE("a shell exiting 137 after its own child was OOM-killed is exit 137 with the evidence",
          "[integration][oom]") {
  std::string why;
  auto group = MemoryGroup::create(why);
  if (!group || !group->usable()) {
    WARN("OOM integration test skipped: " << why);
    return;
  }
  TempDir dir;
  const std::string spool = dir.file("spool");
  // `; exit $?` keeps the shell from exec'ing the hog: the shell is the child.
  const std::string script = "'" + test_program("hog") + "' 4 >/dev/null; exit $?";
  RunResult r = run(options(group->enter_then(crashwrap_argv(spool, {"/bin/sh", "-c", script}))), 60s);
  REQUIRE_FALSE(r.timed_out());
  INFO("stderr: " << r.err);
  CHECK(r.exit_code() == 137);  // an exit code, not a signal
  CHECK(r.err.find("exited with code 137") != std::string::npos);

  auto events = saved_events(spool);
  REQUIRE(events.size() == 1);
  const auto& ev = events[0];
  INFO(ev.dump(2));
  const std::string text = ev.dump();
  CHECK(text.find("SIGKILL") == std::string::npos);
  CHECK(text.find(group->cgroup()) != std::string::npos);  // the OOM evidence rides along
}

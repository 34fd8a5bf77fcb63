#include "agent/cgroup_probe.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>

#include "support/paths.h"
#include "support/process.h"

using namespace crashwrap;
using agent::CgroupProbe;
using agent::CgroupVersion;
using agent::ProbeRoots;

namespace {

std::string fixture(const std::string& tree) {
  return test::source_dir() + "/tests/unit/fixtures/cgroup/" + tree;
}

ProbeRoots roots_of(const std::string& base) { return ProbeRoots{base + "/proc", base}; }

}  // namespace

TEST_CASE("cgroup v2: own and child cgroup, counters, inherited limit, peak", "[cgroup_probe]") {
  const std::string base = fixture("v2");
  CgroupProbe self = CgroupProbe::discover(0, roots_of(base));
  CHECK(self.version() == CgroupVersion::V2);
  CHECK(self.cgroup() == "/app.slice/svc.service");
  CHECK(self.directory() == base + "/sys/fs/cgroup/app.slice/svc.service");
  auto c = self.read();
  REQUIRE(c.size() == 1);
  CHECK(c[0].source == "memory.events");
  CHECK(c[0].cgroup == "/app.slice/svc.service");
  CHECK(c[0].oom_kill == 2);
  CHECK(c[0].limit == 268435456u);  // its own limit is below its parent's 1 GiB
  CHECK(c[0].peak == 268431360u);

  CgroupProbe child = CgroupProbe::discover(4242, roots_of(base));
  CHECK(child.cgroup() == "/app.slice/svc.service/child");
  auto cc = child.read();
  REQUIRE(cc.size() == 1);
  CHECK(cc[0].oom_kill == 1);
  CHECK(cc[0].limit == 268435456u);  // "max" itself; the parent's limit applies
  CHECK(cc[0].peak == std::nullopt);  // no memory.peak (kernel < 5.19)

  auto both = agent::read_oom_counters(4242, roots_of(base));
  REQUIRE(both.size() == 2);
  CHECK(both[0].cgroup == "/app.slice/svc.service/child");
  CHECK(both[1].cgroup == "/app.slice/svc.service");
  CHECK(agent::read_oom_counters(0, roots_of(base)).size() == 1);
}

TEST_CASE("cgroup v1: memory controller line, mount root of a container", "[cgroup_probe]") {
  const std::string base = fixture("v1");
  CgroupProbe self = CgroupProbe::discover(0, roots_of(base));
  CHECK(self.version() == CgroupVersion::V1);
  CHECK(self.cgroup() == "/docker/3f2a9c");
  // mountinfo mounts /docker/3f2a9c itself at /sys/fs/cgroup/memory.
  CHECK(self.directory() == base + "/sys/fs/cgroup/memory");
  auto c = self.read();
  REQUIRE(c.size() == 1);
  CHECK(c[0].source == "memory.oom_control");
  CHECK(c[0].oom_kill == 4);
  CHECK(c[0].limit == 67108864u);
  CHECK(c[0].peak == 67104768u);

  CgroupProbe sub = CgroupProbe::discover(4243, roots_of(base));
  CHECK(sub.directory() == base + "/sys/fs/cgroup/memory/sub");
  auto s = sub.read();
  REQUIRE(s.size() == 1);
  CHECK(s[0].oom_kill == 1);
  CHECK(s[0].limit == 67108864u);  // own limit is "unlimited"; the ancestor's applies
  CHECK(s[0].peak == 1048576u);
}

TEST_CASE("hybrid hierarchy uses the v1 memory controller; no oom_kill line, no counter",
          "[cgroup_probe]") {
  const std::string base = fixture("hybrid");
  CgroupProbe p = CgroupProbe::discover(0, roots_of(base));
  CHECK(p.version() == CgroupVersion::V1);
  CHECK(p.cgroup() == "/process_api/job1");
  CHECK(p.directory() == base + "/sys/fs/cgroup/memory/process_api/job1");
  CHECK(p.read().empty());  // kernel before 4.13: no evidence possible
}

TEST_CASE("unknown pid or missing cgroup directory: nothing", "[cgroup_probe]") {
  CgroupProbe gone = CgroupProbe::discover(999999, roots_of(fixture("v2")));
  CHECK(gone.version() == CgroupVersion::None);
  CHECK(gone.read().empty());
  CHECK(CgroupProbe().read().empty());

  test::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/proc/self");
  REQUIRE(test::write_file(dir.path() + "/proc/self/cgroup", "0::/nowhere\n"));
  CgroupProbe missing = CgroupProbe::discover(0, roots_of(dir.path()));
  CHECK(missing.version() == CgroupVersion::None);
  REQUIRE(test::write_file(dir.path() + "/proc/self/cgroup", "garbage\n"));
  CHECK(CgroupProbe::discover(0, roots_of(dir.path())).version() == CgroupVersion::None);
}

TEST_CASE("mount points with escaped characters", "[cgroup_probe]") {
  test::TempDir dir;
  const std::string d = dir.path();
  std::filesystem::create_directories(d + "/proc/self");
  std::filesystem::create_directories(d + "/cg roups/x");
  REQUIRE(test::write_file(d + "/proc/self/cgroup", "0::/x\n"));
  REQUIRE(test::write_file(d + "/proc/self/mountinfo",
                           "30 26 0:27 / /cg\\040roups rw - cgroup2 cgroup2 rw\n"));
  REQUIRE(test::write_file(d + "/cg roups/x/memory.events", "oom_kill 6\n"));
  CgroupProbe p = CgroupProbe::discover(0, roots_of(d));
  CHECK(p.directory() == d + "/cg roups/x");
  auto c = p.read();
  REQUIRE(c.size() == 1);
  CHECK(c[0].oom_kill == 6);
  CHECK(c[0].limit == std::nullopt);
}

TEST_CASE("an OOM kill seen through v2 fixture counters", "[cgroup_probe]") {
  test::TempDir dir;
  std::filesystem::copy(fixture("v2"), dir.path(), std::filesystem::copy_options::recursive);
  const std::string events = dir.path() + "/sys/fs/cgroup/app.slice/svc.service/child/memory.events";
  auto before = agent::read_oom_counters(4242, roots_of(dir.path()));
  REQUIRE(test::write_file(events, "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n"));
  auto after = agent::read_oom_counters(4242, roots_of(dir.path()));

  parsers::ExitEvidence e;
  e.wait_status = SIGKILL;
  e.before = before;
  e.after = after;
  e.last_rss = agent::read_rss_bytes(4242, dir.path() + "/proc");
  parsers::ExitInfo info = parsers::classify_exit(e);
  CHECK(info.kind == parsers::ExitKind::OomKilled);
  REQUIRE(info.oom);
  CHECK(info.oom->cgroup == "/app.slice/svc.service/child");
  CHECK(info.oom->oom_kill_before == 1);
  CHECK(info.oom->oom_kill_after == 2);
  CHECK(info.oom->memory_limit == 268435456u);
  CHECK(info.last_rss == 12345u * 1024);
}

TEST_CASE("VmRSS from /proc/<pid>/status", "[cgroup_probe]") {
  CHECK(agent::read_rss_bytes(4242, fixture("v2") + "/proc") == 12345u * 1024);
  CHECK(agent::read_rss_bytes(4243, fixture("v2") + "/proc") == std::nullopt);

  test::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/7");
  REQUIRE(test::write_file(dir.path() + "/7/status", "Name:\tzombie\nState:\tZ (zombie)\n"));
  CHECK(agent::read_rss_bytes(7, dir.path()) == std::nullopt);

  auto own = agent::read_rss_bytes(::getpid());
  REQUIRE(own);
  CHECK(*own > 100u * 1024);
  CHECK(agent::read_rss_bytes(0) > 0u);
}

TEST_CASE("memory size values", "[cgroup_probe]") {
  CHECK(agent::parse_memory_value("67108864\n") == 67108864u);
  CHECK(agent::parse_memory_value("0") == 0u);
  CHECK(agent::parse_memory_value("max\n") == std::nullopt);
  CHECK(agent::parse_memory_value("9223372036854771712\n") == std::nullopt);
  CHECK(agent::parse_memory_value("99999999999999999999999") == std::nullopt);
  CHECK(agent::parse_memory_value("12k") == std::nullopt);
  CHECK(agent::parse_memory_value("") == std::nullopt);
}

TEST_CASE("the live system: a found cgroup is readable", "[cgroup_probe]") {
  CgroupProbe self = CgroupProbe::discover(0);
  if (self.version() == CgroupVersion::None) {
    WARN("no memory cgroup visible on this machine; live check skipped");
    return;
  }
  struct stat st {};
  CHECK(::stat(self.directory().c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  // A forked child shares the cgroup: one counter, not two.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  auto both = agent::read_oom_counters(pid);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  CHECK(both.size() <= 1);
  CHECK(both.size() == self.read().size());
}

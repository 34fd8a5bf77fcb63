#include "sinks/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <set>
#include <string>
#include <thread>

#include "agent/diag.h"
#include "sinks/atomic_file.h"
#include "sinks/compression.h"
#include "sinks/event_builder.h"
#include "support/process.h"

using namespace crashwrap::sinks;
using crashwrap::parsers::Timestamp;
using crashwrap::test::TempDir;
using namespace std::chrono_literals;

namespace {

const Timestamp kT0{std::chrono::seconds(1795420800)};
const std::string kDsnA = "http://keya@127.0.0.1:9000/1";
const std::string kDsnB = "https://keyb:secret@sentry.example:8443/prefix/2";

std::string hex_id(int n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08x%024d", 0xabc00000u + static_cast<unsigned>(n), n);
  return buf;
}

BuiltEvent event(int n, std::string tail = "[stderr] boom\n") {
  BuiltEvent e;
  e.event_id = hex_id(n);
  e.event = {{"event_id", e.event_id},
             {"platform", "native"},
             {"exception", {{"values", {{{"type", "SIGSEGV"}, {"value", "Segmentation fault"}}}}}}};
  e.attachments.push_back({"output-tail.txt", "text/plain", std::move(tail)});
  e.title = "SIGSEGV: crash " + std::to_string(n);
  return e;
}

Spool open_spool(const std::string& dir, std::vector<std::string> dsns = {},
                 std::size_t max_files = 1000, std::uint64_t max_bytes = 1ull << 30) {
  SpoolOptions o;
  o.dir = dir;
  o.dsns = std::move(dsns);
  o.max_files = max_files;
  o.max_bytes = max_bytes;
  std::string error;
  auto s = Spool::open(o, error);
  INFO(error);
  REQUIRE(s);
  return std::move(*s);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> ids(const std::vector<SpoolEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.id);
  return out;
}

// Captures diag output in a file for the test's lifetime.
struct DiagCapture {
  TempDir dir;
  int fd;
  DiagCapture() : fd(::open(dir.file("diag").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    crashwrap::agent::diag::set_output_fd(fd);
  }
  ~DiagCapture() {
    crashwrap::agent::diag::set_output_fd(2);
    ::close(fd);
  }
  std::string text() const { return crashwrap::test::read_file(dir.file("diag")); }
};

}  // namespace

TEST_CASE("save writes one zstd envelope file atomically with private modes", "[spool]") {
  TempDir tmp;
  const std::string dir = tmp.file("spool/nested");
  Spool spool = open_spool(dir);
  CHECK(mode_of(dir) == 0700);
  for (const char* sub : {"new", "pending", "sent", "dropped", "records", "state"})
    CHECK(mode_of(dir + "/" + sub) == 0700);

  auto path = spool.save(event(1), kT0);
  REQUIRE(path);
  CHECK(*path == dir + "/pending/" + hex_id(1) + ".envelope.zst");
  CHECK(mode_of(*path) == 0600);
  CHECK(list_dir(dir + "/new").empty());
  CHECK(list_dir(dir + "/pending") == std::vector<std::string>{hex_id(1) + ".envelope.zst"});

  const std::string file = crashwrap::test::read_file(*path);
  REQUIRE(detect_codec(file) == Codec::Zstd);
  Decoded d = decompress(file, Codec::Zstd, 1 << 20);
  REQUIRE(d.status == DecodeStatus::Ok);
  std::string error;
  auto env = parse_envelope(d.data, error);
  REQUIRE(env);
  CHECK(env->event_id() == hex_id(1));
  CHECK(env->header["sent_at"] == "2026-11-23T08:00:00.000Z");
  CHECK_FALSE(env->header.contains("dsn"));
  REQUIRE(env->items.size() == 2);
  CHECK(env->items[1].payload == "[stderr] boom\n");
  CHECK(spool.stats().saved == 1);
}

TEST_CASE("entries list what was saved, oldest first, with summary and state", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path());
  REQUIRE(spool.save(event(2), kT0 + 2s));
  REQUIRE(spool.save(event(1), kT0 + 1s));
  BuiltEvent untitled = event(3);
  untitled.title.clear();
  untitled.category = "monitor";
  REQUIRE(spool.save(untitled, kT0 + 3s));
  auto all = spool.entries();
  REQUIRE(all.size() == 3);
  CHECK(ids(all) == std::vector<std::string>{hex_id(1), hex_id(2), hex_id(3)});
  CHECK(all[0].saved_at == kT0 + 1s);
  CHECK(all[0].stage == Stage::Pending);
  CHECK(all[0].summary == "SIGSEGV: crash 1");
  CHECK(all[0].category == "error");
  CHECK(all[0].size == crashwrap::test::read_file(all[0].path).size());
  CHECK(all[2].summary == "SIGSEGV: Segmentation fault");  // from the event when untitled
  CHECK(all[2].category == "monitor");
  CHECK(all[0].delivery_for(kDsnA).status == DsnStatus::Pending);
  auto bytes = spool.read_envelope(all[1]);
  REQUIRE(bytes);
  CHECK(bytes->find(hex_id(2)) != std::string::npos);
}

TEST_CASE("an unwritable spool fails to open with the directory and the cause", "[spool]") {
  TempDir tmp;
  REQUIRE(crashwrap::test::write_file(tmp.file("file"), "x"));
  SpoolOptions o;
  o.dir = tmp.file("file/spool");
  std::string error;
  CHECK_FALSE(Spool::open(o, error));
  CHECK(error == "cannot create the spool directory " + o.dir + ": Not a directory");
  o.dir = "";
  CHECK_FALSE(Spool::open(o, error));
  CHECK(error == "no spool directory is set");
}

TEST_CASE("a save that cannot write prints one warning and counts every failure", "[spool]") {
  TempDir tmp;
  DiagCapture diag;
  Spool spool = open_spool(tmp.file("spool"));
  crashwrap::test::remove_tree(tmp.file("spool"));
  REQUIRE(crashwrap::test::write_file(tmp.file("spool"), "now a file"));
  CHECK_FALSE(spool.save(event(1), kT0));
  CHECK_FALSE(spool.save(event(2), kT0));
  CHECK(spool.stats().save_failures == 2);
  CHECK(spool.stats().saved == 0);
  CHECK(diag.text() == "crashwrap: warning: cannot save the event to the spool " +
                           tmp.file("spool") + ": cannot write " + tmp.file("spool") +
                           "/records/" + hex_id(1) +
                           ".json: Not a directory \xe2\x80\x94 make the directory writable or "
                           "point --spool at a writable one\n");
}

TEST_CASE("an event too large even without attachments is refused with one line", "[spool]") {
  TempDir tmp;
  DiagCapture diag;
  SpoolOptions o;
  o.dir = tmp.path();
  o.limits.envelope_max_bytes = 100;
  std::string error;
  auto spool = Spool::open(o, error);
  REQUIRE(spool);
  CHECK_FALSE(spool->save(event(1), kT0));
  CHECK(spool->entries().empty());
  CHECK_THAT(diag.text(), Catch::StartsWith("crashwrap: warning: event abc00001 is "));
  CHECK_THAT(diag.text(), Catch::EndsWith("over the envelope limit of 100; it is not kept \xe2\x80\x94 raise --envelope-max-bytes\n"));
}

TEST_CASE("the file-count bound removes the oldest and counts queue_overflow", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {}, 3);
  for (int i = 1; i <= 5; ++i) REQUIRE(spool.save(event(i), kT0 + std::chrono::seconds(i)));
  CHECK(ids(spool.entries()) == std::vector<std::string>{hex_id(3), hex_id(4), hex_id(5)});
  CHECK(list_dir(tmp.file("records")).size() == 3);
  CHECK(spool.stats().evicted_pending == 2);
  CHECK(spool.stats().evicted_finished == 0);
  auto discarded = spool.take_discarded();
  REQUIRE(discarded.size() == 1);
  CHECK(discarded[0].reason == "queue_overflow");
  CHECK(discarded[0].category == "error");
  CHECK(discarded[0].quantity == 2);
  CHECK(spool.take_discarded().empty());
}

TEST_CASE("the byte bound counts envelope file sizes", "[spool]") {
  TempDir tmp;
  Spool probe = open_spool(tmp.file("probe"));
  auto one = probe.save(event(1, std::string(4000, 'z')), kT0);
  REQUIRE(one);
  const std::uint64_t size = crashwrap::test::read_file(*one).size();
  Spool spool = open_spool(tmp.file("s"), {}, 1000, size * 2 + size / 2);
  for (int i = 1; i <= 4; ++i)
    REQUIRE(spool.save(event(i, std::string(4000, 'z')), kT0 + std::chrono::seconds(i)));
  CHECK(ids(spool.entries()) == std::vector<std::string>{hex_id(3), hex_id(4)});
  CHECK(spool.stats().evicted_pending == 2);
}

TEST_CASE("finished entries are removed before anything still owed", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA}, 3);
  for (int i = 1; i <= 3; ++i) REQUIRE(spool.save(event(i), kT0 + std::chrono::seconds(i)));
  {
    auto c = spool.claim(hex_id(3));  // the newest is sent, the older ones are not
    REQUIRE(c);
    REQUIRE(c->mark_sent(kDsnA, kT0 + 10s));
  }
  REQUIRE(spool.save(event(4), kT0 + 4s));
  CHECK(ids(spool.entries()) == std::vector<std::string>{hex_id(1), hex_id(2), hex_id(4)});
  CHECK(spool.stats().evicted_finished == 1);
  CHECK(spool.stats().evicted_pending == 0);
  CHECK(spool.take_discarded().empty());
}

TEST_CASE("a claimed entry is never evicted", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA}, 2);
  REQUIRE(spool.save(event(1), kT0 + 1s));
  REQUIRE(spool.save(event(2), kT0 + 2s));
  auto c = spool.claim(hex_id(1));
  REQUIRE(c);
  REQUIRE(spool.save(event(3), kT0 + 3s));
  CHECK(ids(spool.entries()) == std::vector<std::string>{hex_id(1), hex_id(3)});
  CHECK(c->envelope());
}

TEST_CASE("each DSN has its own state; the entry leaves pending when all are final", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA, kDsnB});
  REQUIRE(spool.save(event(1), kT0));
  REQUIRE(spool.save(event(2), kT0 + 1s));
  CHECK(spool.deliverable(kDsnA, kT0).size() == 2);
  {
    auto c = spool.claim(hex_id(1));
    REQUIRE(c);
    REQUIRE(c->mark_sent(kDsnA, kT0 + 5s));
    CHECK(c->entry().stage == Stage::Pending);
  }
  CHECK(ids(spool.deliverable(kDsnA, kT0)) == std::vector<std::string>{hex_id(2)});
  CHECK(ids(spool.deliverable(kDsnB, kT0)) == std::vector<std::string>{hex_id(1), hex_id(2)});
  {
    auto c = spool.claim(hex_id(1));
    REQUIRE(c);
    CHECK(c->entry().delivery_for(kDsnA).status == DsnStatus::Sent);
    REQUIRE(c->mark_dropped(kDsnB, "send_error: 413", kT0 + 6s));
    CHECK(c->entry().stage == Stage::Sent);
  }
  {
    auto c = spool.claim(hex_id(2));
    REQUIRE(c);
    REQUIRE(c->mark_dropped(kDsnA, "send_error: 400", kT0 + 7s));
    REQUIRE(c->mark_dropped(kDsnB, "send_error: 400", kT0 + 7s));
    CHECK(c->entry().stage == Stage::Dropped);
  }
  auto all = spool.entries();
  REQUIRE(all.size() == 2);
  CHECK(all[0].stage == Stage::Sent);
  CHECK(all[0].path == tmp.file("sent/" + hex_id(1) + ".envelope.zst"));
  const DsnDelivery b = all[0].delivery_for(kDsnB);
  CHECK(b.status == DsnStatus::Dropped);
  CHECK(b.reason == "send_error: 413");
  CHECK(b.label == "sentry.example:8443/prefix/2");
  CHECK(b.updated == kT0 + 6s);
  CHECK(all[1].stage == Stage::Dropped);
  CHECK(spool.deliverable(kDsnA, kT0).empty());
  CHECK(spool.owed(kDsnB) == 0);
  CHECK_FALSE(spool.claim(hex_id(1)));  // finished entries are not claimable
  // The record never holds the DSN text (it may carry a secret).
  const std::string record = crashwrap::test::read_file(tmp.file("records/" + hex_id(1) + ".json"));
  CHECK(record.find("secret") == std::string::npos);
  CHECK(record.find("keyb") == std::string::npos);
}

TEST_CASE("retry-at hides an entry until its time and counts attempts", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA});
  REQUIRE(spool.save(event(1), kT0));
  {
    auto c = spool.claim(hex_id(1));
    REQUIRE(c);
    REQUIRE(c->mark_retry(kDsnA, kT0 + 30s, kT0));
    REQUIRE(c->mark_retry(kDsnA, kT0 + 60s, kT0 + 30s));
  }
  CHECK(spool.deliverable(kDsnA, kT0 + 59s).empty());
  CHECK(spool.deliverable(kDsnA, kT0 + 60s).size() == 1);
  CHECK(spool.owed(kDsnA) == 1);
  CHECK(spool.next_retry(kDsnA) == kT0 + 60s);
  CHECK_FALSE(spool.next_retry(kDsnB));
  const DsnDelivery d = spool.entries()[0].delivery_for(kDsnA);
  CHECK(d.status == DsnStatus::Retry);
  CHECK(d.attempts == 2);
  CHECK(d.retry_at == kT0 + 60s);
}

TEST_CASE("entries saved without a DSN wait for one and are then delivered", "[spool]") {
  TempDir tmp;
  {
    Spool offline = open_spool(tmp.path());
    REQUIRE(offline.save(event(1), kT0));
    auto c = offline.claim(hex_id(1));  // claimable, but nothing is final without a DSN
    REQUIRE(c);
    REQUIRE(c->mark_sent(kDsnA, kT0));
    CHECK(c->entry().stage == Stage::Pending);
  }
  Spool online = open_spool(tmp.path(), {kDsnB});
  CHECK(ids(online.deliverable(kDsnB, kT0)) == std::vector<std::string>{hex_id(1)});
  auto c = online.claim(hex_id(1));
  REQUIRE(c);
  REQUIRE(c->mark_sent(kDsnB, kT0 + 1s));
  CHECK(c->entry().stage == Stage::Sent);
}

TEST_CASE("a claim is exclusive until released", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA});
  REQUIRE(spool.save(event(1), kT0));
  auto first = spool.claim(hex_id(1));
  REQUIRE(first);
  CHECK_FALSE(spool.claim(hex_id(1)));
  Spool other = open_spool(tmp.path(), {kDsnA});
  CHECK_FALSE(other.claim(hex_id(1)));
  Claim moved = std::move(*first);
  CHECK_FALSE(other.claim(hex_id(1)));
  moved.release();
  CHECK(other.claim(hex_id(1)));
  CHECK_FALSE(spool.claim("../../etc/passwd"));
  CHECK_FALSE(spool.claim(hex_id(99)));
}

TEST_CASE("a claim whose owner was SIGKILLed is free again and nothing is lost", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA});
  REQUIRE(spool.save(event(1), kT0));
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto c = spool.claim(hex_id(1));
    const char ok = c ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    ::pause();  // "mid-send"
    ::_exit(0);
  }
  ::close(ready[1]);
  char got = 0;
  REQUIRE(::read(ready[0], &got, 1) == 1);
  ::close(ready[0]);
  CHECK(got == 'y');
  CHECK_FALSE(spool.claim(hex_id(1)));
  ::kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  auto c = spool.claim(hex_id(1));
  REQUIRE(c);
  auto bytes = c->envelope();
  REQUIRE(bytes);
  CHECK(bytes->find(hex_id(1)) != std::string::npos);
}

TEST_CASE("two processes draining one spool send each entry exactly once", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA});
  for (int i = 0; i < 40; ++i) REQUIRE(spool.save(event(i), kT0 + std::chrono::milliseconds(i)));
  std::vector<pid_t> pids;
  for (int w = 0; w < 2; ++w) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::string sent;
      for (const auto& e : spool.deliverable(kDsnA, kT0)) {
        auto c = spool.claim(e.id);
        if (!c) continue;
        if (c->mark_sent(kDsnA, kT0)) sent += e.id + "\n";
      }
      crashwrap::test::write_file(tmp.file("worker" + std::to_string(w)), sent);
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
  }
  const std::string all = crashwrap::test::read_file(tmp.file("worker0")) +
                          crashwrap::test::read_file(tmp.file("worker1"));
  std::multiset<std::string> sent;
  for (std::size_t p = 0; p < all.size(); p = all.find('\n', p) + 1) sent.insert(all.substr(p, 32));
  CHECK(sent.size() == 40);
  CHECK(std::set<std::string>(sent.begin(), sent.end()).size() == 40);
  CHECK(list_dir(tmp.file("sent")).size() == 40);
  CHECK(list_dir(tmp.file("pending")).empty());
}

TEST_CASE("threads saving at once lose nothing", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {}, 1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) spool.save(event(t * 100 + i), kT0);
    });
  for (auto& th : threads) th.join();
  CHECK(spool.entries().size() == 100);
  CHECK(spool.stats().saved == 100);
  CHECK(list_dir(tmp.file("new")).empty());
}

TEST_CASE("find matches unique id prefixes", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path());
  REQUIRE(spool.save(event(1), kT0));
  REQUIRE(spool.save(event(2), kT0));
  auto one = spool.find(hex_id(2).substr(0, 8));
  CHECK(one.found == Spool::Found::One);
  CHECK(one.entry.id == hex_id(2));
  CHECK(spool.find(hex_id(2).substr(0, 8)).entry.id == hex_id(2));
  auto upper = spool.find("ABC00001");
  CHECK(upper.found == Spool::Found::One);
  auto both = spool.find("abc0000");
  CHECK(both.found == Spool::Found::Ambiguous);
  CHECK(both.candidates == std::vector<std::string>{hex_id(1), hex_id(2)});
  CHECK(spool.find("ffff").found == Spool::Found::None);
  CHECK(spool.find("").found == Spool::Found::None);
  CHECK(spool.find(hex_id(1)).found == Spool::Found::One);
}

TEST_CASE("a damaged envelope file reads as nullopt", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA});
  auto path = spool.save(event(1), kT0);
  REQUIRE(path);
  std::string bytes = crashwrap::test::read_file(*path);
  bytes[bytes.size() / 2] ^= 0x20;
  REQUIRE(crashwrap::test::write_file(*path, bytes));
  CHECK_FALSE(spool.read_envelope(spool.entries()[0]));
  auto c = spool.claim(hex_id(1));
  REQUIRE(c);
  CHECK_FALSE(c->envelope());
}

TEST_CASE("key-value state is replaced atomically and names are checked", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path());
  CHECK_FALSE(spool.read_state("rate_limits.json"));
  CHECK(spool.write_state("rate_limits.json", "{\"a\":1}"));
  CHECK(spool.write_state("rate_limits.json", "{\"a\":2}"));
  CHECK(spool.read_state("rate_limits.json") == std::optional<std::string>("{\"a\":2}"));
  CHECK(mode_of(tmp.file("state/rate_limits.json")) == 0600);
  CHECK(list_dir(tmp.file("state")) == std::vector<std::string>{"rate_limits.json"});
  CHECK_FALSE(spool.write_state("../escape", "x"));
  CHECK_FALSE(spool.write_state(".hidden", "x"));
  CHECK_FALSE(spool.write_state("", "x"));
  CHECK_FALSE(spool.read_state("a/b"));
}

TEST_CASE("discarded counters add up across spool objects and are taken once", "[spool]") {
  TempDir tmp;
  Spool a = open_spool(tmp.path());
  Spool b = open_spool(tmp.path());
  CHECK(a.add_discarded("ratelimit_backoff", "error", 2));
  CHECK(b.add_discarded("ratelimit_backoff", "error", 3));
  CHECK(b.add_discarded("send_error", "attachment", 1));
  CHECK(b.add_discarded("send_error", "session", 0));
  auto taken = a.take_discarded();
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].reason == "ratelimit_backoff");
  CHECK(taken[0].category == "error");
  CHECK(taken[0].quantity == 5);
  CHECK(taken[1].reason == "send_error");
  CHECK(taken[1].category == "attachment");
  CHECK(taken[1].quantity == 1);
  CHECK(b.take_discarded().empty());
}

TEST_CASE("reclaim_stale removes dead writers' leftovers and keeps live ones", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path());
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const std::string old_dead = tmp.file("new/" + hex_id(1) + "." + std::to_string(dead) + ".0.tmp");
  const std::string old_live = tmp.file("new/" + hex_id(2) + "." + std::to_string(::getpid()) + ".0.tmp");
  const std::string fresh_dead = tmp.file("records/." + hex_id(3) + "." + std::to_string(dead) + ".1.tmp");
  const std::string ancient_live = tmp.file("state/.x." + std::to_string(::getpid()) + ".2.tmp");
  for (const auto& p : {old_dead, old_live, fresh_dead, ancient_live}) REQUIRE(crashwrap::test::write_file(p, "x"));
  auto age = [](const std::string& p, std::chrono::seconds by) {
    const timespec t{::time(nullptr) - by.count(), 0};
    const timespec times[2] = {t, t};
    REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
  };
  age(old_dead, 120s);
  age(old_live, 120s);
  age(ancient_live, 2h);
  CHECK(spool.reclaim_stale() == 2);
  CHECK(::access(old_dead.c_str(), F_OK) != 0);
  CHECK(::access(ancient_live.c_str(), F_OK) != 0);
  CHECK(::access(old_live.c_str(), F_OK) == 0);
  CHECK(::access(fresh_dead.c_str(), F_OK) == 0);
}

TEST_CASE("DSN keys and labels never carry the key or secret", "[spool]") {
  CHECK(dsn_key(kDsnA).size() == 16);
  CHECK(dsn_key(kDsnA) != dsn_key(kDsnB));
  CHECK(dsn_key(kDsnA) == dsn_key(std::string(kDsnA)));
  CHECK(dsn_label(kDsnA) == "127.0.0.1:9000/1");
  CHECK(dsn_label(kDsnB) == "sentry.example:8443/prefix/2");
  CHECK(stage_name(Stage::Dropped) == "dropped");
  CHECK(dsn_status_name(DsnStatus::Retry) == "retry");
}

namespace {

std::string log_envelope(int n) {
  Envelope e;
  e.header = envelope_header("", kT0, "");
  e.items.push_back(log_item(nlohmann::json::array(
      {{{"timestamp", 1795420800.5}, {"trace_id", std::string(32, 'a')}, {"level", "info"},
        {"body", "line " + std::to_string(n)}}})));
  return serialize(e);
}

void save_log(Spool& spool, int n, Timestamp at) {
  Spool::SaveInfo info;
  info.id = hex_id(n);
  info.category = "log_item";
  info.durable = false;
  REQUIRE(spool.save_envelope(log_envelope(n), info, at));
}

}  // namespace

TEST_CASE("log entries are evicted before anything else, down to 90% of the bounds", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA}, 10);
  REQUIRE(spool.save(event(1), kT0 + 1s));
  REQUIRE(spool.save(event(2), kT0 + 2s));
  {
    auto c = spool.claim(hex_id(1));  // finished history: still kept before any log
    REQUIRE(c);
    REQUIRE(c->mark_sent(kDsnA, kT0 + 3s));
  }
  for (int i = 3; i <= 12; ++i) save_log(spool, i, kT0 + std::chrono::seconds(i + 1));
  // The 11th entry went over 10 files: logs 3 and 4 made room down to 9.
  std::vector<std::string> expected = {hex_id(1), hex_id(2)};
  for (int i = 5; i <= 12; ++i) expected.push_back(hex_id(i));
  CHECK(ids(spool.entries()) == expected);
  CHECK(spool.stats().evicted_pending == 2);
  CHECK(spool.stats().evicted_finished == 0);
  auto discarded = spool.take_discarded();
  REQUIRE(discarded.size() == 1);
  CHECK(discarded[0].reason == "queue_overflow");
  CHECK(discarded[0].category == "log_item");
  CHECK(discarded[0].quantity == 2);
}

TEST_CASE("deliverable lists every other category before log entries", "[spool]") {
  TempDir tmp;
  Spool spool = open_spool(tmp.path(), {kDsnA});
  save_log(spool, 1, kT0 + 1s);
  REQUIRE(spool.save(event(2), kT0 + 2s));
  save_log(spool, 3, kT0 + 3s);
  REQUIRE(spool.save(event(4), kT0 + 4s));
  CHECK(ids(spool.deliverable(kDsnA, kT0 + 5s)) ==
        std::vector<std::string>{hex_id(2), hex_id(4), hex_id(1), hex_id(3)});
  // A log entry reads back as saved, without fsync or not.
  auto f = spool.find(hex_id(1));
  REQUIRE(f.found == Spool::Found::One);
  CHECK(f.entry.category == "log_item");
  CHECK(spool.read_envelope(f.entry) == log_envelope(1));
}

// crashwrap SIGKILLed in the middle of a send: the event is not lost (it is
// still in the spool, claimable) and delivered later at least once — and the
// claim keeps a second sender off an entry that is being sent.
#include <dirent.h>

#include <algorithm>
#include <csignal>

#include <catch2/catch.hpp>

#include "integration/delivery_helpers.h"

using namespace crashwrap;
using namespace crashwrap::test;
using namespace crashwrap::test::delivery;

namespace {
std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}
}  // namespace

TEST_CASE("SIGKILL mid-send loses nothing and duplicates nothing beyond at-least-once",
          "[kill_during_send][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver rx;
  rx.set_default_reply(Reply::hang());  // holds the request: crashwrap is mid-send
  Process p = Process::start(
      wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "60s", "--http-timeout", "60s"}, failing_child()));
  REQUIRE(rx.wait_for_requests(1, 10s));
  const std::string sent_body = rx.requests()[0].body;
  // Mid-send, crashwrap is two threads: the event loop and the one sender.
  std::vector<std::string> threads;
  for (const std::string& task : list_dir("/proc/" + std::to_string(p.pid()) + "/task")) {
    std::string comm = read_file("/proc/" + std::to_string(p.pid()) + "/task/" + task + "/comm");
    threads.push_back(comm.substr(0, comm.find('\n')));
  }
  std::sort(threads.begin(), threads.end());
  CHECK(threads == std::vector<std::string>{"crashwrap", "cw-sender"});
  REQUIRE(p.send_signal(SIGKILL));
  std::optional<int> status = p.wait(10s);
  REQUIRE(status);
  CHECK(term_signal(*status) == SIGKILL);

  auto entries = spool_entries(spool);
  REQUIRE(entries.size() == 1);
  const std::string id = entries[0].id;
  CHECK(entries[0].stage == sinks::Stage::Pending);
  CHECK(sent_body.find(id) != std::string::npos);

  rx.set_default_reply(Reply::ok());
  rx.release_hung();
  RunResult send = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(send.exit_code() == 0);
  CHECK(send.err == "crashwrap: send: 1 sent, 0 dropped, 0 left in the spool\n");
  REQUIRE(rx.envelope_count() == 1);
  CHECK(rx.envelopes()[0].event_id() == id);
  CHECK(rx.request_count() == 2);
  CHECK(spool_entries(spool)[0].stage == sinks::Stage::Sent);

  // Nothing is left to send twice.
  RunResult again = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(again.exit_code() == 0);
  CHECK(rx.request_count() == 2);
}

TEST_CASE("an entry being sent by one crashwrap is not sent by another", "[kill_during_send][integration]") {
  TempDir dir;
  const std::string spool = dir.file("spool");
  Receiver rx;
  rx.set_default_reply(Reply::hang());
  Process first = Process::start(
      wrap(spool, {"--dsn", rx.dsn(), "--flush-timeout", "60s", "--http-timeout", "60s"}, failing_child()));
  REQUIRE(rx.wait_for_requests(1, 10s));

  // A manual send meanwhile: the entry is claimed, so it is left alone.
  rx.set_default_reply(Reply::ok());
  RunResult meanwhile = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(meanwhile.exit_code() == 1);
  CHECK(meanwhile.err == "crashwrap: send: 0 sent, 0 dropped, 1 left in the spool\n");
  CHECK(rx.request_count() == 1);

  REQUIRE(first.send_signal(SIGKILL));
  REQUIRE(first.wait(10s));
  RunResult after = run(send_command(spool, {"--dsn", rx.dsn()}), 30s);
  CHECK(after.exit_code() == 0);
  CHECK(rx.envelope_count() == 1);
  CHECK(rx.request_count() == 2);
}

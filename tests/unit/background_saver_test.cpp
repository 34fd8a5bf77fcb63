#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "sinks/background_saver.h"

using crashwrap::sinks::BackgroundSaver;

namespace {

// A save that can be held, to fill the queue behind it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  void close() {
    std::lock_guard<std::mutex> l(mu);
    open = false;
  }
  void release() {
    {
      std::lock_guard<std::mutex> l(mu);
      open = true;
    }
    cv.notify_all();
  }
  void pass() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [this] { return open; });
  }
};

}  // namespace

TEST_CASE("envelopes are saved in order, and drain waits for all of them", "[background_saver]") {
  std::mutex mu;
  std::vector<std::string> saved;
  std::size_t items = 0;
  BackgroundSaver saver(
      [&](std::string_view e, std::size_t n) {
        std::lock_guard<std::mutex> l(mu);
        saved.emplace_back(e);
        items += n;
      },
      1 << 20);
  for (int i = 0; i < 200; ++i) REQUIRE(saver.push("envelope " + std::to_string(i), 2));
  saver.drain();
  std::lock_guard<std::mutex> l(mu);
  REQUIRE(saved.size() == 200);
  CHECK(saved.front() == "envelope 0");
  CHECK(saved.back() == "envelope 199");
  CHECK(items == 400);
}

TEST_CASE("a full queue refuses a batch instead of growing; one batch always fits", "[background_saver]") {
  Gate gate;
  std::atomic<int> count{0};
  BackgroundSaver saver(
      [&](std::string_view, std::size_t) {
        gate.pass();
        ++count;
      },
      100);
  gate.close();
  REQUIRE(saver.push(std::string(300, 'x'), 1));  // bigger than the bound, but alone
  // The saver may be holding the first one already: fill until refused.
  int accepted = 1;
  bool refused = false;
  for (int i = 0; i < 10 && !refused; ++i) {
    if (saver.push(std::string(60, 'y'), 1))
      ++accepted;
    else
      refused = true;
  }
  CHECK(refused);
  CHECK(accepted <= 3);
  gate.release();
  saver.drain();
  CHECK(count.load() == accepted);
  CHECK(saver.push("after", 1));  // room again once saved
  saver.drain();
  CHECK(count.load() == accepted + 1);
}

TEST_CASE("the destructor saves what is still queued", "[background_saver]") {
  std::atomic<int> count{0};
  {
    BackgroundSaver saver([&](std::string_view, std::size_t) { ++count; }, 1 << 20);
    for (int i = 0; i < 50; ++i) saver.push("e", 1);
  }
  CHECK(count.load() == 50);
}

TEST_CASE("nothing pushed: no thread, drain returns at once", "[background_saver]") {
  BackgroundSaver saver([](std::string_view, std::size_t) {}, 10);
  saver.drain();
  SUCCEED();
}

// crashwrap-receiver: the tests' loopback Sentry endpoint as a program, for
// benchmarks and manual use.
//
//   crashwrap-receiver [--port N] [--key KEY] [--project ID] [--dir DIR]
//                      [--status CODE] [--retry-after S] [--rate-limits VALUE]
//                      [--delay MS] [--quiet]
//
// Prints "dsn <DSN>" on stdout once listening, then one line per request
// ("<status> <target> <bytes> [problem]") unless --quiet, and
// "total <accepted> <requests>" when SIGINT/SIGTERM ends it.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/receiver.h"

using namespace crashwrap::test;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: crashwrap-receiver [--port N] [--key KEY] [--project ID] [--dir DIR]\n"
               "         [--status CODE] [--retry-after S] [--rate-limits VALUE] [--delay MS] [--quiet]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ReceiverOptions options;
  options.dump_dir.clear();
  Reply reply;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--quiet") {
      quiet = true;
      continue;
    }
    if (!(v = value())) return usage();
    if (a == "--port") options.port = static_cast<std::uint16_t>(std::atoi(v));
    else if (a == "--key") options.public_key = v;
    else if (a == "--project") options.project_id = v;
    else if (a == "--dir") options.dump_dir = v;
    else if (a == "--status") reply.status = std::atoi(v);
    else if (a == "--retry-after") reply.headers.emplace_back("Retry-After", v);
    else if (a == "--rate-limits") reply.headers.emplace_back("X-Sentry-Rate-Limits", v);
    else if (a == "--delay") reply.delay = std::chrono::milliseconds(std::atoi(v));
    else return usage();
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // the receiver's threads inherit the mask

  Receiver receiver(options);
  receiver.set_default_reply(reply);
  std::printf("dsn %s\n", receiver.dsn().c_str());
  std::fflush(stdout);

  std::size_t shown = 0;
  for (;;) {
    timespec tick{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &tick);
    std::vector<ReceivedRequest> requests;
    if (!quiet && receiver.request_count() > shown) requests = receiver.requests();
    for (; shown < requests.size(); ++shown) {
      const ReceivedRequest& r = requests[shown];
      std::printf("%d %s %zu%s%s\n", r.answered, r.target.c_str(), r.wire_bytes,
                  r.problem.empty() ? "" : " ", r.problem.c_str());
    }
    std::fflush(stdout);
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  std::printf("total %zu %zu\n", receiver.envelope_count(), receiver.request_count());
  return 0;
}

#include "sinks/sender.h"

namespace crashwrap::sinks {

// Placeholder until the spool's send side lands: accepts every call, sends nothing.
struct Sender::Impl {
  config::Config config;
  std::string spool_dir;
};

Sender::Sender(const config::Config& config, const std::string& spool_dir)
    : impl_(std::make_unique<Impl>(Impl{config, spool_dir})) {}
Sender::~Sender() { stop(); }
void Sender::start() {}
void Sender::wake() {}
bool Sender::flush(std::chrono::milliseconds) { return true; }
void Sender::stop() {}
SendSummary Sender::send_all(std::chrono::milliseconds, bool) { return SendSummary{}; }

}  // namespace crashwrap::sinks

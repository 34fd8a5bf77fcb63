#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "sinks/atomic_file.h"
#include "sinks/compression.h"
#include "sinks/spool.h"
#include "sinks/spool_layout.h"

namespace crashwrap::sinks {

using namespace layout;
using Json = nlohmann::json;
using parsers::Timestamp;

Claim::Claim(std::shared_ptr<const Shared> shared, SpoolEntry entry, int fd) noexcept
    : shared_(std::move(shared)), entry_(std::move(entry)), fd_(fd) {}

Claim::Claim(Claim&& o) noexcept
    : shared_(std::move(o.shared_)), entry_(std::move(o.entry_)), fd_(std::exchange(o.fd_, -1)) {}

Claim& Claim::operator=(Claim&& o) noexcept {
  if (this != &o) {
    release();
    shared_ = std::move(o.shared_);
    entry_ = std::move(o.entry_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Claim::~Claim() { release(); }

void Claim::release() noexcept {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
  fd_ = -1;
}

std::optional<std::string> Claim::envelope() const {
  if (fd_ < 0) return std::nullopt;
  auto file = read_fd(fd_, kMaxFileBytes);
  if (!file) return std::nullopt;
  Decoded d = decompress(*file, Codec::Zstd, kMaxFileBytes);
  if (d.status != DecodeStatus::Ok) return std::nullopt;
  return std::move(d.data);
}

bool Claim::update(std::string_view dsn, DsnDelivery delivery) {
  if (fd_ < 0 || !shared_) return false;
  const std::string& dir = shared_->options.dir;
  delivery.key = dsn_key(dsn);
  delivery.label = dsn_label(dsn);
  auto& ds = entry_.deliveries;
  auto it = std::find_if(ds.begin(), ds.end(), [&](const auto& d) { return d.key == delivery.key; });
  if (it != ds.end()) {
    *it = std::move(delivery);
  } else {
    ds.push_back(std::move(delivery));
  }
  // A log entry's record is not fsynced (as its envelope was not): after a
  // power loss a log batch may be sent twice, never lost for lack of a record.
  const bool durable = entry_.category != "log_item";
  if (write_file_atomic(tmp_path(dir + "/records", "." + entry_.id), record_path(dir, entry_.id),
                        record_json(entry_).dump(-1, ' ', false, Json::error_handler_t::replace),
                        durable) != 0)
    return false;
  const auto& dsns = shared_->options.dsns;
  if (entry_.stage != Stage::Pending || dsns.empty()) return true;
  for (const auto& d : dsns)
    if (!is_final(entry_.delivery_for(d).status)) return true;
  const bool any_sent = std::any_of(ds.begin(), ds.end(),
                                    [](const auto& d) { return d.status == DsnStatus::Sent; });
  const Stage to = any_sent ? Stage::Sent : Stage::Dropped;
  const std::string path = envelope_path(dir, to, entry_.id);
  // A failed move leaves a finished record in pending/: claim() completes it later.
  if (::rename(entry_.path.c_str(), path.c_str()) == 0) {
    entry_.stage = to;
    entry_.path = path;
  }
  return true;
}

bool Claim::mark_sent(std::string_view dsn, Timestamp now) {
  DsnDelivery d = entry_.delivery_for(dsn);
  d.status = DsnStatus::Sent;
  d.retry_at.reset();
  d.reason.clear();
  d.updated = now;
  return update(dsn, std::move(d));
}

bool Claim::mark_retry(std::string_view dsn, Timestamp retry_at, Timestamp now) {
  DsnDelivery d = entry_.delivery_for(dsn);
  d.status = DsnStatus::Retry;
  d.attempts += 1;
  d.retry_at = retry_at;
  d.updated = now;
  return update(dsn, std::move(d));
}

bool Claim::mark_dropped(std::string_view dsn, std::string_view reason, Timestamp now) {
  DsnDelivery d = entry_.delivery_for(dsn);
  d.status = DsnStatus::Dropped;
  d.retry_at.reset();
  d.reason = std::string(reason);
  d.updated = now;
  return update(dsn, std::move(d));
}

}  // namespace crashwrap::sinks

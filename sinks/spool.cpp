#include "sinks/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include <nlohmann/json.hpp>

#include "agent/diag.h"
#include "config/dsn.h"
#include "sinks/atomic_file.h"
#include "sinks/compression.h"
#include "sinks/event_builder.h"
#include "sinks/spool_layout.h"

namespace crashwrap::sinks {

using namespace layout;
using Json = nlohmann::json;
using parsers::Timestamp;

namespace {

std::string header_event_id(std::string_view envelope) {
  const std::string_view line = envelope.substr(0, envelope.find('\n'));
  const Json h = Json::parse(line.begin(), line.end(), nullptr, false);
  if (!h.is_object() || !h.contains("event_id") || !h["event_id"].is_string()) return {};
  return h["event_id"].get<std::string>();
}

std::string summarize(const Json& event) {
  std::string s;
  if (event.contains("exception") && event["exception"].contains("values") &&
      event["exception"]["values"].is_array() && !event["exception"]["values"].empty()) {
    const Json& ex = event["exception"]["values"].back();
    s = ex.value("type", "");
    if (ex.contains("value") && ex["value"].is_string())
      s += (s.empty() ? "" : ": ") + ex["value"].get<std::string>();
  } else if (event.contains("message") || event.contains("logentry")) {
    const Json& m = event.contains("logentry") ? event["logentry"] : event["message"];
    s = m.is_string() ? m.get<std::string>() : m.value("formatted", "");
  }
  s = s.substr(0, s.find('\n'));
  return s.size() > 200 ? s.substr(0, 200) : s;
}

bool is_log(const SpoolEntry& e) { return e.category == "log_item"; }

constexpr std::uint64_t kLogSavesPerScan = 64;

}  // namespace

Spool::Spool(SpoolOptions options)
    : shared_(std::make_shared<Claim::Shared>(Claim::Shared{std::move(options)})),
      counters_(std::make_shared<Counters>()) {}

std::optional<Spool> Spool::open(const config::Config& config, std::string& error) {
  SpoolOptions o;
  o.dir = config.spool_dir;
  o.max_bytes = config.spool_max_bytes;
  o.max_files = config.spool_max_files;
  o.limits.envelope_max_bytes = config.envelope_max_bytes;
  o.limits.attachment_max_bytes = config.attachment_max_bytes;
  // A malformed DSN can never take an entry; owing entries to it would keep them pending forever.
  for (const auto& raw : config.dsns) {
    std::string why;
    if (auto dsn = config::parse_dsn(raw, why)) o.dsns.push_back(dsn->raw);
  }
  return open(std::move(o), error);
}

std::optional<Spool> Spool::open(SpoolOptions options, std::string& error) {
  while (options.dir.size() > 1 && options.dir.back() == '/') options.dir.pop_back();
  if (options.dir.empty()) {
    error = "no spool directory is set";
    return std::nullopt;
  }
  if (const int err = make_dirs(options.dir, 0700); err != 0) {
    error = "cannot create the spool directory " + options.dir + ": " + std::strerror(err);
    return std::nullopt;
  }
  for (const char* sub : kSubdirs) {
    const std::string path = options.dir + "/" + sub;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      error = "cannot create " + path + ": " + std::strerror(errno);
      return std::nullopt;
    }
  }
  // Root passes access(2) checks even on a read-only mount: try a real file.
  const std::string probe = tmp_path(options.dir + "/new", ".probe");
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "the spool directory " + options.dir + " is not writable: " + std::strerror(errno);
    return std::nullopt;
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Spool(std::move(options));
}

const std::string& Spool::dir() const noexcept { return shared_->options.dir; }
const std::vector<std::string>& Spool::dsns() const noexcept { return shared_->options.dsns; }

SpoolStats Spool::stats() const noexcept {
  const Counters& c = *counters_;
  return {c.saved.load(), c.save_failures.load(), c.evicted_pending.load(),
          c.evicted_finished.load(), c.attachments_dropped.load()};
}

void Spool::save_failed(std::string_view what, int err) {
  counters_->save_failures.fetch_add(1);
  if (counters_->warned.exchange(true)) return;
  agent::diag::spool_save_failed(dir(), std::string(what) + ": " + std::strerror(err),
                                 err == ENOSPC || err == EDQUOT);
}

std::optional<std::string> Spool::save(const BuiltEvent& event, Timestamp now,
                                       std::vector<EnvelopeItem> extra) {
  BuiltEnvelope built = build_event_envelope(event, "", now, shared_->options.limits, std::move(extra));
  counters_->attachments_dropped.fetch_add(built.attachments_dropped);
  if (!built.fits) {
    counters_->save_failures.fetch_add(1);
    agent::diag::event_too_large(event.event_id, built.size,
                                 shared_->options.limits.envelope_max_bytes);
    return std::nullopt;
  }
  SaveInfo info;
  info.id = event.event_id;
  info.category = event.category.empty() ? "error" : event.category;
  info.summary = event.title.empty() ? summarize(event.event) : event.title;
  return save_envelope(built.bytes, info, now);
}

std::optional<std::string> Spool::save_envelope(std::string_view envelope, const SaveInfo& info,
                                                Timestamp now) {
  std::string id = info.id.empty() ? header_event_id(envelope) : info.id;
  if (!valid_name(id)) id = random_id();
  auto compressed = compress(envelope, Codec::Zstd);
  if (!compressed) {
    save_failed("cannot compress the envelope", ENOMEM);
    return std::nullopt;
  }
  auto path = write_entry(id, *compressed, info, now);
  if (!path) return std::nullopt;
  counters_->saved.fetch_add(1);
  enforce_bounds(id, info.category == "log_item", compressed->size());
  return path;
}

std::optional<std::string> Spool::write_entry(const std::string& id, std::string_view compressed,
                                              const SaveInfo& info, Timestamp now) {
  SpoolEntry e;
  e.id = id;
  e.saved_at = now;
  e.category = info.category;
  e.summary = info.summary;
  // The record goes first: once the envelope is in pending/ a sender may claim
  // it and write delivery state, which a later record write would overwrite.
  // It holds no delivery state yet, so it skips the fsyncs (a save costs two,
  // not four): after a power loss an entry without its record still lists and sends.
  const std::string rec = record_path(dir(), id);
  if (int err = write_file_atomic(tmp_path(dir() + "/records", "." + id), rec,
                                  record_json(e).dump(-1, ' ', false, Json::error_handler_t::replace),
                                  /*durable=*/false);
      err != 0) {
    save_failed("cannot write " + rec, err);
    return std::nullopt;
  }
  const std::string path = envelope_path(dir(), Stage::Pending, id);
  if (int err = write_file_atomic(tmp_path(dir() + "/new", id), path, compressed, info.durable); err != 0) {
    ::unlink(rec.c_str());
    save_failed("cannot write " + path, err);
    return std::nullopt;
  }
  return path;
}

std::vector<SpoolEntry> Spool::entries() const {
  std::vector<SpoolEntry> all;
  for (Stage s : kStages) {
    auto v = load_stage(dir(), s);
    std::move(v.begin(), v.end(), std::back_inserter(all));
  }
  oldest_first(all);
  return all;
}

Spool::FindResult Spool::find(std::string_view id_prefix) const {
  FindResult r;
  std::string prefix(id_prefix);
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (prefix.empty()) return r;
  for (auto& e : entries()) {
    if (e.id.compare(0, prefix.size(), prefix) != 0) continue;
    if (e.id == prefix) {  // an exact id wins over longer ids it prefixes
      r.found = Found::One;
      r.entry = std::move(e);
      r.candidates.clear();
      return r;
    }
    r.candidates.push_back(e.id);
    if (r.candidates.size() == 1) r.entry = std::move(e);
  }
  r.found = r.candidates.empty() ? Found::None
            : r.candidates.size() == 1 ? Found::One
                                       : Found::Ambiguous;
  if (r.found == Found::One) r.candidates.clear();
  if (r.found == Found::Ambiguous) r.entry = SpoolEntry{};
  return r;
}

std::optional<std::string> Spool::read_envelope(const SpoolEntry& entry) const {
  auto file = read_file(entry.path, kMaxFileBytes);
  if (!file) return std::nullopt;
  Decoded d = decompress(*file, Codec::Zstd, kMaxFileBytes);
  if (d.status != DecodeStatus::Ok) return std::nullopt;
  return std::move(d.data);
}

std::vector<SpoolEntry> Spool::deliverable(std::string_view dsn, Timestamp now) const {
  std::vector<SpoolEntry> out;
  for (auto& e : load_stage(dir(), Stage::Pending)) {
    const DsnDelivery d = e.delivery_for(dsn);
    if (d.status == DsnStatus::Pending || (d.status == DsnStatus::Retry && d.retry_at <= now))
      out.push_back(std::move(e));
  }
  oldest_first(out);
  std::stable_partition(out.begin(), out.end(), [](const SpoolEntry& e) { return !is_log(e); });
  return out;
}

std::size_t Spool::owed(std::string_view dsn) const {
  const auto pending = load_stage(dir(), Stage::Pending);
  return static_cast<std::size_t>(std::count_if(
      pending.begin(), pending.end(), [&](const SpoolEntry& e) { return owed_to(e, dsn); }));
}

std::optional<Timestamp> Spool::next_retry(std::string_view dsn) const {
  std::optional<Timestamp> next;
  for (const auto& e : load_stage(dir(), Stage::Pending)) {
    const DsnDelivery d = e.delivery_for(dsn);
    if (d.status == DsnStatus::Retry && d.retry_at && (!next || *d.retry_at < *next))
      next = d.retry_at;
  }
  return next;
}

std::optional<Claim> Spool::claim(std::string_view id) {
  if (!valid_name(id)) return std::nullopt;
  const int fd = try_lock_entry(envelope_path(dir(), Stage::Pending, id));
  if (fd < 0) return std::nullopt;
  // Read the record only now: the previous holder may have updated it.
  auto entry = load_entry(dir(), Stage::Pending, id);
  if (!entry) {
    ::close(fd);
    return std::nullopt;
  }
  Claim c(shared_, std::move(*entry), fd);
  const auto& dsns = shared_->options.dsns;
  const bool finished = !dsns.empty() && std::none_of(dsns.begin(), dsns.end(), [&](const auto& d) {
    return owed_to(c.entry(), d);
  });
  if (!finished) return c;
  // Every DSN is done but a crash came before the move out of pending/: finish it.
  c.update(dsns.front(), c.entry().delivery_for(dsns.front()));
  return std::nullopt;
}

std::size_t Spool::reclaim_stale() {
  const Timestamp now = parsers::Clock::now();
  std::size_t removed = 0;
  for (const char* sub : {"new", "records", "state"}) {
    const std::string d = dir() + "/" + sub;
    for (const auto& name : list_dir(d)) {
      const std::string path = d + "/" + name;
      if (stale_tmp(path, name, now) && ::unlink(path.c_str()) == 0) ++removed;
    }
  }
  return removed;
}

void Spool::enforce_bounds(const std::string& keep_id, bool log_entry, std::uint64_t saved_bytes) {
  const SpoolOptions& o = shared_->options;
  Counters& c = *counters_;
  const std::uint64_t est_files = c.est_files.fetch_add(1) + 1;
  const std::uint64_t est_bytes = c.est_bytes.fetch_add(saved_bytes) + saved_bytes;
  if (log_entry && c.unscanned_saves.fetch_add(1) < kLogSavesPerScan && est_files < o.max_files &&
      est_bytes < o.max_bytes)
    return;
  FileLock lock(dir() + "/spool.lock");
  // The common case (within bounds) costs one stat per entry, no record reads.
  const Usage u = usage(dir());
  c.unscanned_saves = 0;
  c.est_files = u.files;
  c.est_bytes = u.bytes;
  if (u.files <= o.max_files && u.bytes <= o.max_bytes) return;
  auto all = entries();
  std::size_t files = all.size();
  std::uint64_t bytes = 0;
  for (const auto& e : all) bytes += e.size;
  // Logs go first (down to the low-water mark), then history (sent/, dropped/),
  // then anything still owed; each oldest first.
  std::stable_partition(all.begin(), all.end(),
                        [](const SpoolEntry& e) { return e.stage != Stage::Pending; });
  std::stable_partition(all.begin(), all.end(), [](const SpoolEntry& e) { return is_log(e); });
  const std::size_t low_files = o.max_files / 10 * 9;
  const std::uint64_t low_bytes = o.max_bytes / 10 * 9;
  std::map<std::string, std::uint64_t> overflow;  // category → entries
  for (const auto& e : all) {
    const bool within = is_log(e) ? files <= low_files && bytes <= low_bytes
                                  : files <= o.max_files && bytes <= o.max_bytes;
    if (within) {
      if (is_log(e)) continue;
      break;
    }
    if (e.id == keep_id) continue;
    if (e.stage == Stage::Pending) {
      const int fd = try_lock_entry(e.path);  // being sent right now: leave it
      if (fd < 0) continue;
      const bool gone = ::unlink(e.path.c_str()) == 0;
      ::close(fd);
      if (!gone) continue;
      ++overflow[e.category];
      counters_->evicted_pending.fetch_add(1);
    } else {
      if (::unlink(e.path.c_str()) != 0) continue;
      counters_->evicted_finished.fetch_add(1);
    }
    ::unlink(record_path(dir(), e.id).c_str());
    --files;
    bytes -= e.size;
  }
  c.est_files = files;
  c.est_bytes = bytes;
  if (!overflow.empty()) add_discarded_locked("queue_overflow", overflow);
}

// state/discarded.json: {"<reason>": {"<category>": quantity, …}, …}
bool Spool::add_discarded_locked(std::string_view reason,
                                 const std::map<std::string, std::uint64_t>& by_category) {
  const std::string path = dir() + "/state/discarded.json";
  Json all = Json::object();
  if (auto text = read_file(path, kMaxRecordBytes)) {
    all = Json::parse(*text, nullptr, false);
    if (!all.is_object()) all = Json::object();
  }
  Json& per = all[std::string(reason)];
  if (!per.is_object()) per = Json::object();
  for (const auto& [category, n] : by_category) {
    const std::uint64_t old = per.contains(category) && per[category].is_number_unsigned()
                                  ? per[category].get<std::uint64_t>()
                                  : 0;
    per[category] = old + n;
  }
  return write_file_atomic(tmp_path(dir() + "/state", ".discarded"), path, all.dump()) == 0;
}

bool Spool::add_discarded(std::string_view reason, std::string_view category, std::uint64_t n) {
  if (n == 0) return true;
  FileLock lock(dir() + "/spool.lock");
  return add_discarded_locked(reason, {{std::string(category), n}});
}

std::vector<Discarded> Spool::take_discarded() {
  std::vector<Discarded> out;
  FileLock lock(dir() + "/spool.lock");
  const std::string path = dir() + "/state/discarded.json";
  auto text = read_file(path, kMaxRecordBytes);
  if (!text) return out;
  const Json all = Json::parse(*text, nullptr, false);
  if (::unlink(path.c_str()) != 0 || !all.is_object()) return out;
  for (const auto& [reason, per] : all.items()) {
    if (!per.is_object()) continue;
    for (const auto& [category, n] : per.items())
      if (n.is_number_unsigned() && n.get<std::uint64_t>() > 0)
        out.push_back({reason, category, n.get<std::uint64_t>()});
  }
  return out;
}

std::optional<std::string> Spool::read_state(std::string_view name) const {
  if (!valid_name(name)) return std::nullopt;
  return read_file(dir() + "/state/" + std::string(name), kMaxFileBytes);
}

bool Spool::write_state(std::string_view name, std::string_view value) {
  if (!valid_name(name)) return false;
  return write_file_atomic(tmp_path(dir() + "/state", "." + std::string(name)),
                           dir() + "/state/" + std::string(name), value) == 0;
}

}  // namespace crashwrap::sinks

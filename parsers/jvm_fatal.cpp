// HotSpot's fatal error banner (printed on stdout unless
// -XX:+DisplayVMOutputToStderr, and at the top of the hs_err file):
//
//   # A fatal error has been detected by the Java Runtime Environment:
//   #
//   #  SIGSEGV (0xb) at pc=0x00007fc4c1ad2f94, pid=16483, tid=16508
//   #
//   # JRE version: OpenJDK Runtime Environment (17.0.15+6) …
//   # Problematic frame:
//   # V  [libjvm.so+0xed2f94]  Unsafe_PutLong+0x124
//   #
//   # An error report file with more information is saved as:
//   # /tmp/app/hs_err_pid16483.log
//
// Also "#  Internal Error (file.cpp:123), pid=…" with its "#  guarantee(…)
// failed: …" detail lines, and the native out-of-memory banner that starts
// with "# There is insufficient memory for the Java Runtime Environment to
// continue." The type is the signal (or "Internal Error", "Out of Memory
// Error" as HotSpot names them), the value the line that says so, the one
// frame the problematic frame, and the hs_err path becomes the attachment.
#include <cctype>
#include <string>

#include "parsers/detectors.h"
#include "parsers/jvm_frames.h"
#include "parsers/text.h"

namespace crashwrap::parsers {
namespace {

using text::starts_with;

enum class S { Start = 0, Banner, Details, ProblematicFrame, ReportPath };

constexpr std::string_view kFatalBanner = "# A fatal error has been detected by the Java Runtime Environment";
constexpr std::string_view kMemoryBanner = "# There is insufficient memory for the Java Runtime Environment";

bool is_banner_line(std::string_view t) { return starts_with(t, "#"); }
std::string_view content(std::string_view t) { return text::trim(t.substr(t.empty() ? 0 : 1)); }

// "#  SIGSEGV (0xb) at pc=0x…, pid=…, tid=…" → "SIGSEGV" and 11.
struct SignalLine {
  std::string_view name;
  std::optional<int> number;
};
std::optional<SignalLine> parse_signal_line(std::string_view c) {
  auto split = text::split_first(c, " (0x");
  if (!split.found || split.left.empty() || split.left.find(' ') != std::string_view::npos) return std::nullopt;
  auto close = split.right.find(')');
  if (close == std::string_view::npos || !starts_with(split.right.substr(close), ") at pc=")) return std::nullopt;
  std::string_view hex = split.right.substr(0, close);
  if (!text::is_hex(hex) || hex.size() > 6) return std::nullopt;
  return SignalLine{split.left, static_cast<int>(std::stoul(std::string(hex), nullptr, 16))};
}

// "#  Internal Error (g1ConcurrentMark.cpp:123), pid=1, tid=2" → "Internal Error".
std::optional<std::string_view> parse_error_line(std::string_view c) {
  auto split = text::split_first(c, " (");
  if (!split.found || split.left.empty() || !text::contains(split.right, "), pid=")) return std::nullopt;
  for (char ch : split.left)
    if (!(std::isalpha(static_cast<unsigned char>(ch)) || ch == ' ')) return std::nullopt;
  return split.left;
}

Exception& exception(Builder& b) {
  if (Exception* e = b.current_exception()) return *e;
  return b.add_exception("", std::nullopt);
}

void on_fatal_banner(Builder& b, std::string_view) { exception(b); }
void on_memory_banner(Builder& b, std::string_view) { exception(b).type = "Out of Memory Error"; }

// A line of the banner body: the signal or error line, the native
// allocation failure, or anything else (kept in raw only).
void on_banner_line(Builder& b, std::string_view t) {
  std::string_view c = content(t);
  Exception& e = exception(b);
  if (auto sig = parse_signal_line(c)) {
    e.type = std::string(sig->name);
    e.value = std::string(c);
    e.mechanism.type = "signalhandler";
    e.mechanism.signal_number = sig->number;
    e.mechanism.signal_name = std::string(sig->name);
  } else if (auto err = parse_error_line(c)) {
    if (e.type.empty()) e.type = std::string(*err);
    if (!e.value) e.value = std::string(c);
  } else if (starts_with(c, "Native memory allocation") && !e.value) {
    e.value = std::string(c);
  }
}

bool is_error_line(std::string_view t) {
  return is_banner_line(t) && !parse_signal_line(content(t)) && parse_error_line(content(t)).has_value();
}
// Details follow the error line, indented by two spaces ("#  fatal error: …").
bool is_detail_line(std::string_view t) { return starts_with(t, "#  ") && !content(t).empty(); }
void on_detail_line(Builder& b, std::string_view t) { b.append_value(content(t)); }

bool is_problematic_frame_header(std::string_view t) { return is_banner_line(t) && content(t) == "Problematic frame:"; }
bool is_report_path_header(std::string_view t) {
  return is_banner_line(t) && starts_with(content(t), "An error report file with more information is saved as:");
}

bool is_jvm_library(std::string_view lib) {
  for (std::string_view l : {"libjvm.so", "libjava.so", "libjli.so", "libzip.so", "libnio.so", "libnet.so",
                             "libc.so", "libpthread.so", "libdl.so", "libm.so", "ld-linux", "jvm.dll", "ntdll.dll"})
    if (starts_with(lib, l)) return true;
  return false;
}

// "V  [libjvm.so+0xed2f94]  Unsafe_PutLong+0x124", "C  [libc.so.6+0x15d2d5]  memcpy+0x105",
// "C  0x0000000000000000", "j  Main.crash()V+0", "J 1234 c2 pkg.Cls.m()V java.base@17 (49 bytes) @ 0x…",
// "v  ~StubRoutines::call_stub".
Frame parse_problematic_frame(std::string_view c) {
  Frame f;
  char kind = c.empty() ? ' ' : c.front();
  std::string_view rest = text::trim_left(c.substr(c.empty() ? 0 : 1));
  if (starts_with(rest, "[")) {
    auto close = rest.find(']');
    std::string_view lib = rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    f.package = std::string(text::split_first(lib, "+0x").left);
    std::string_view sym = close == std::string_view::npos ? std::string_view() : text::trim(rest.substr(close + 1));
    f.function = std::string(text::split_last(sym, "+0x").left);
    f.in_app = kind != 'V' && !is_jvm_library(f.package);
  } else if (starts_with(rest, "0x")) {
    f.instruction_addr = std::string(text::split_first(rest, " ").left);
    f.in_app = false;
  } else if (kind == 'j' || kind == 'J' || kind == 'A') {
    // The method is the first token holding '(': "pkg.Cls.method(Ljava/lang/String;)V+5".
    std::string_view spec = rest;
    while (!spec.empty() && text::split_first(spec, " ").left.find('(') == std::string_view::npos)
      spec = text::split_first(spec, " ").right;
    std::string_view name = spec.substr(0, spec.find('('));
    auto [cls, method] = jvm::split_class(name);
    f.module = std::string(cls);
    f.function = std::string(method);
    f.in_app = jvm::is_in_app_class(cls);
  } else {
    f.function = std::string(text::split_last(rest, "+0x").left);
    f.in_app = false;
  }
  return f;
}

void on_problematic_frame(Builder& b, std::string_view t) {
  exception(b);
  b.add_frame(parse_problematic_frame(content(t)));
}

void on_report_path(Builder& b, std::string_view t) {
  std::string_view c = content(t);
  if (starts_with(c, "/") || (c.size() > 2 && c[1] == ':')) b.report.attachment_path = std::string(c);
}

bool finalize(CrashReport& r) {
  if (r.exceptions.empty()) return false;
  Exception& e = r.exceptions.front();
  if (e.type.empty()) {
    e.type = "FatalError";
    e.mechanism.synthetic = true;
  }
  return true;
}

Spec jvm_fatal_spec() {
  Spec s;
  s.name = "jvm-fatal";
  s.runtime = "jvm-fatal";
  s.platform = "java";
  s.anchors = {kFatalBanner, kMemoryBanner};
  s.rules = {
      {S::Start, [](std::string_view t) { return starts_with(t, kFatalBanner); }, S::Banner, on_fatal_banner},
      {S::Start, [](std::string_view t) { return starts_with(t, kMemoryBanner); }, S::Banner, on_memory_banner},

      {S::Banner, is_problematic_frame_header, S::ProblematicFrame},
      {S::Banner, is_report_path_header, S::ReportPath},
      {S::Banner, is_error_line, S::Details, on_banner_line},
      {S::Banner, is_banner_line, S::Banner, on_banner_line},

      {S::Details, is_detail_line, S::Details, on_detail_line},
      {S::Details, is_problematic_frame_header, S::ProblematicFrame},
      {S::Details, is_report_path_header, S::ReportPath},
      {S::Details, is_banner_line, S::Banner, on_banner_line},

      {S::ProblematicFrame, is_banner_line, S::Banner, on_problematic_frame},
      {S::ReportPath, is_banner_line, S::Banner, on_report_path},
  };
  s.finalize = finalize;
  return s;
}

}  // namespace

std::unique_ptr<Detector> make_jvm_fatal_detector() { return std::make_unique<TableDetector>(jvm_fatal_spec()); }

}  // namespace crashwrap::parsers

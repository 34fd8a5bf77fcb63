// Factories of the runtime detectors, one per file under parsers/. The
// registry (registry.cpp) lists them by name and alias.
#pragma once

#include <memory>

#include "parsers/detector.h"

namespace crashwrap::parsers {

// Add one declaration per runtime detector file.

// Interpreted runtimes.
std::unique_ptr<Detector> make_python_detector();      // parsers/python.cpp
std::unique_ptr<Detector> make_ruby_detector();        // parsers/ruby.cpp
std::unique_ptr<Detector> make_php_detector();         // parsers/php.cpp
std::unique_ptr<Detector> make_perl_detector();        // parsers/perl.cpp

// Go, Rust, native (C++ terminate, glibc aborts), sanitizers, structured logs.
std::unique_ptr<Detector> make_go_detector();          // parsers/go.cpp
std::unique_ptr<Detector> make_rust_detector();        // parsers/rust.cpp
std::unique_ptr<Detector> make_cpp_detector();         // parsers/native.cpp: libstdc++ terminate
std::unique_ptr<Detector> make_glibc_detector();       // parsers/native.cpp: malloc checks, assert, stack smashing
std::unique_ptr<Detector> make_glog_detector();        // parsers/native.cpp: glog/absl fatal messages, failure signal handler
std::unique_ptr<Detector> make_asan_detector();        // parsers/sanitizers.cpp: AddressSanitizer
std::unique_ptr<Detector> make_lsan_detector();        // parsers/sanitizers.cpp: LeakSanitizer
std::unique_ptr<Detector> make_ubsan_detector();       // parsers/sanitizers.cpp: UndefinedBehaviorSanitizer
std::unique_ptr<Detector> make_tsan_detector();        // parsers/sanitizers.cpp: ThreadSanitizer
std::unique_ptr<Detector> make_json_log_detector();    // parsers/json_log.cpp: traces embedded in JSON log lines

// JVM, .NET and Node.js.
std::unique_ptr<Detector> make_java_detector();        // parsers/jvm.cpp: Java exceptions with "at" frames
std::unique_ptr<Detector> make_jvm_fatal_detector();   // parsers/jvm_fatal.cpp: HotSpot fatal error banner
std::unique_ptr<Detector> make_dotnet_detector();      // parsers/dotnet.cpp: .NET Core and Mono unhandled exceptions
std::unique_ptr<Detector> make_node_detector();        // parsers/node.cpp: uncaught errors, rejections, V8 FATAL ERROR

}  // namespace crashwrap::parsers

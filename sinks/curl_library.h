// libcurl, loaded on first use.
//
// crashwrap does not link libcurl: it dlopen()s "libcurl.so.4" the first time
// a request is about to be made, on the sender thread. libcurl pulls in some
// thirty libraries (TLS, Kerberos, LDAP, SSH, IDN, …) whose loading and
// relocation are most of a process start; a run without a DSN never pays for
// them, and a run with one pays after the child has started, off the path of
// its output. The headers still come from libcurl4-openssl-dev, so the
// function types below are libcurl's own.
//
// Threads: curl_library() is safe from any thread (loads once).
#pragma once

#include <curl/curl.h>

#include <string>

namespace crashwrap::sinks {

struct CurlLibrary {
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_perform) multi_perform = nullptr;
  decltype(&::curl_multi_poll) multi_poll = nullptr;
  decltype(&::curl_multi_wakeup) multi_wakeup = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

// The loaded library with curl_global_init done; nullptr when it cannot be
// loaded, with `error` (when given) naming why and the fix.
const CurlLibrary* curl_library(std::string* error = nullptr);

}  // namespace crashwrap::sinks

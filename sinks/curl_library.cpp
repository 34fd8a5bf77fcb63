#include "sinks/curl_library.h"

#include <dlfcn.h>

#include <mutex>

namespace crashwrap::sinks {
namespace {

struct Loaded {
  CurlLibrary lib;
  bool ok = false;
  std::string error;
};

template <typename F>
bool bind(void* handle, const char* name, F& out, std::string& error) {
  void* sym = ::dlsym(handle, name);
  if (sym == nullptr) {
    error = std::string("libcurl.so.4 has no ") + name + " (libcurl older than 7.68?)";
    return false;
  }
  out = reinterpret_cast<F>(sym);
  return true;
}

Loaded load() {
  Loaded l;
  // RTLD_LOCAL: libcurl's symbols never interpose on anything of ours.
  void* h = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = ::dlerror();
    l.error = std::string("cannot load libcurl.so.4 (") + (why ? why : "unknown error") +
              ")";
    return l;
  }
  CurlLibrary& c = l.lib;
  std::string& e = l.error;
  decltype(&::curl_global_init) global_init = nullptr;
  l.ok = bind(h, "curl_global_init", global_init, e) && bind(h, "curl_easy_init", c.easy_init, e) &&
         bind(h, "curl_easy_cleanup", c.easy_cleanup, e) && bind(h, "curl_easy_reset", c.easy_reset, e) &&
         bind(h, "curl_easy_setopt", c.easy_setopt, e) && bind(h, "curl_easy_getinfo", c.easy_getinfo, e) &&
         bind(h, "curl_easy_strerror", c.easy_strerror, e) && bind(h, "curl_multi_init", c.multi_init, e) &&
         bind(h, "curl_multi_cleanup", c.multi_cleanup, e) &&
         bind(h, "curl_multi_add_handle", c.multi_add_handle, e) &&
         bind(h, "curl_multi_remove_handle", c.multi_remove_handle, e) &&
         bind(h, "curl_multi_perform", c.multi_perform, e) && bind(h, "curl_multi_poll", c.multi_poll, e) &&
         bind(h, "curl_multi_wakeup", c.multi_wakeup, e) &&
         bind(h, "curl_multi_info_read", c.multi_info_read, e) &&
         bind(h, "curl_slist_append", c.slist_append, e) && bind(h, "curl_slist_free_all", c.slist_free_all, e);
  if (l.ok && global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    l.ok = false;
    l.error = "libcurl's global initialisation failed";
  }
  return l;  // the handle stays open for the life of the process
}

}  // namespace

const CurlLibrary* curl_library(std::string* error) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = load(); });
  if (!loaded.ok && error != nullptr) *error = loaded.error;
  return loaded.ok ? &loaded.lib : nullptr;
}

}  // namespace crashwrap::sinks

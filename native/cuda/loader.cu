/* loader.cu: finds cuBLAS 13 and cuDNN 9 and opens them by absolute path.
 *
 * Folders are tried in this order, and the first that holds a library that
 * opens (and, for cuDNN, was built for our CUDA major) wins:
 *   1. LITS_CUDA_LIB_DIRS (colon-separated), the user's explicit choice;
 *   2. only when none of those has it: the system's library path
 *      (LD_LIBRARY_PATH, the CUDA toolkit and the usual system folders),
 *      then whatever the dynamic linker itself finds by soname
 *      (ld.so.cache), turned back into a folder with dlinfo; this probe
 *      maps the library (libcublasLt is ~0.5 GB), so it runs last of all
 *      the system folders and never when an explicit folder wins;
 *   3. the nvidia/cu13/lib, nvidia/cublas/lib and nvidia/cudnn/lib folders of
 *      Python wheels (where PyTorch's wheels keep them) under the
 *      site-packages of every python3 on PATH, /usr/bin/python3, a virtual
 *      environment or conda prefix, and ~/.local.
 * libcublasLt is opened before libcublas from the same folder (libcublas
 * needs it). A cuDNN folder is skipped when its cuDNN was built for another
 * CUDA major (an apt libcudnn9-cuda-12 before the cu13 wheel). Then NVRTC
 * (libnvrtc.so.13 and its builtins, optional: cuDNN's runtime-compiled
 * engines open them by soname) is preloaded, and every libcudnn*.so.9 of the
 * chosen folder, graph first and libcudnn.so.9 last: cuDNN opens its
 * sub-libraries by bare name, so a sub-library we did not preload would come
 * from wherever the system has one, and mixing cuDNN builds gives
 * SUBLIBRARY_VERSION_MISMATCH (pytorch/pytorch#185512).
 */
#include <dlfcn.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "loader.h"
#include "vendor.h"

lc_vendor_table lc_vendor;

typedef void (*lc_last_error_fn)(char* message, size_t max_size);
static lc_last_error_fn lc_cudnn_get_last_error = NULL;

void lc_cudnn_last_error(char* buf, size_t cap) {
  if (cap == 0) return;
  buf[0] = '\0';
  if (lc_cudnn_get_last_error) lc_cudnn_get_last_error(buf, cap);
}

/* ---- text helpers ------------------------------------------------------------ */

/* Appends printf-style text to a fixed buffer, truncating with "...". */
static void appendf(std::string& s, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(std::string& s, const char* fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  s += tmp;
}

static void copy_out(char* dst, size_t cap, const std::string& s) {
  if (cap == 0) return;
  snprintf(dst, cap, "%s", s.c_str());
  if (s.size() >= cap && cap > 4) memcpy(dst + cap - 4, "...", 4);
}

static bool is_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static void add_unique(std::vector<std::string>& v, const std::string& d) {
  if (d.empty()) return;
  for (const auto& x : v)
    if (x == d) return;
  v.push_back(d);
}

static void split_into(std::vector<std::string>& v, const char* list) {
  if (list == NULL) return;
  std::string s(list);
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    add_unique(v, s.substr(start, end - start));
    start = end + 1;
  }
}

/* ---- candidate folders --------------------------------------------------------- */

static const char* const SYSTEM_DIRS[] = {
    "/usr/local/cuda/lib64",      "/usr/local/cuda/targets/x86_64-linux/lib",
    "/usr/lib/x86_64-linux-gnu",  "/usr/lib64",
    "/usr/local/lib",             "/usr/lib",
    "/lib/x86_64-linux-gnu",
};

static const char* const WHEEL_SUBDIRS[] = {"nvidia/cu13/lib", "nvidia/cublas/lib",
                                            "nvidia/cudnn/lib"};

static void glob_into(std::vector<std::string>& v, const std::string& pattern) {
  glob_t g;
  if (glob(pattern.c_str(), GLOB_NOSORT, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) add_unique(v, g.gl_pathv[i]);
  }
  globfree(&g);
}

/* site-packages folders of the Pythons this machine has, without running them. */
static std::vector<std::string> site_packages(void) {
  std::vector<std::string> prefixes;
  std::vector<std::string> path_dirs;
  split_into(path_dirs, getenv("PATH"));
  add_unique(path_dirs, "/usr/bin");
  for (const auto& d : path_dirs) {
    std::string py = d + "/python3";
    if (access(py.c_str(), X_OK) != 0) continue;
    /* A virtual environment's bin/python3 links to the base interpreter, so
     * both the unresolved prefix (the venv) and the resolved one count. */
    add_unique(prefixes, d.substr(0, d.find_last_of('/')));
    char real[PATH_MAX];
    if (realpath(py.c_str(), real) != NULL) {
      std::string r(real);
      r = r.substr(0, r.find_last_of('/'));
      add_unique(prefixes, r.substr(0, r.find_last_of('/')));
    }
  }
  if (const char* venv = getenv("VIRTUAL_ENV")) add_unique(prefixes, venv);
  if (const char* conda = getenv("CONDA_PREFIX")) add_unique(prefixes, conda);
  if (const char* home = getenv("HOME")) add_unique(prefixes, std::string(home) + "/.local");
  std::vector<std::string> sites;
  for (const auto& p : prefixes) {
    glob_into(sites, p + "/lib/python3*/site-packages");
    glob_into(sites, p + "/lib/python3*/dist-packages");
    glob_into(sites, p + "/local/lib/python3*/dist-packages");
    glob_into(sites, p + "/lib/python3/dist-packages");
  }
  return sites;
}

/* A folder to try and the group it came from (for messages). */
struct candidate {
  std::string dir;
  const char* source;
};

/* Calls try_dir on each candidate folder, in the order of the file comment,
 * until it returns true. Each later group is worked out only when the earlier
 * ones have failed: the dynamic linker's probe maps the whole library, which
 * must not happen when an explicit folder wins. `searched` gets every folder
 * tried, for messages. probe_soname NULL: no probe. */
template <class F>
static bool search_dirs(const char* probe_soname, std::vector<candidate>& searched, F try_dir) {
  std::vector<std::string> seen;
  auto visit = [&](const std::string& d, const char* source) {
    if (d.empty()) return false;
    for (const auto& s : seen)
      if (s == d) return false;
    seen.push_back(d);
    searched.push_back({d, source});
    return (bool)try_dir(searched.back());
  };
  std::vector<std::string> user;
  split_into(user, getenv("LITS_CUDA_LIB_DIRS"));
  for (const auto& d : user)
    if (visit(d, "LITS_CUDA_LIB_DIRS")) return true;
  std::vector<std::string> sys;
  split_into(sys, getenv("LD_LIBRARY_PATH"));
  for (const char* d : SYSTEM_DIRS) add_unique(sys, d);
  for (const auto& d : sys)
    if (visit(d, "system")) return true;
  /* The dynamic linker's own answer (ld.so.cache, RUNPATHs of the process). */
  if (probe_soname != NULL) {
    void* h = dlopen(probe_soname, RTLD_LAZY | RTLD_LOCAL);
    char origin[PATH_MAX] = "";
    if (h != NULL && dlinfo(h, RTLD_DI_ORIGIN, origin) != 0) origin[0] = '\0';
    if (h != NULL) dlclose(h);
    if (visit(origin, "dynamic linker")) return true;
  }
  for (const auto& site : site_packages()) {
    for (const char* sub : WHEEL_SUBDIRS)
      if (visit(site + "/" + sub, "python wheel")) return true;
  }
  return false;
}

static void describe_search(std::string& s, const std::vector<candidate>& dirs) {
  const char* user = getenv("LITS_CUDA_LIB_DIRS");
  appendf(s, "; LITS_CUDA_LIB_DIRS is %s; searched:", user && user[0] ? "set" : "unset");
  for (const auto& c : dirs) {
    appendf(s, " %s (%s%s)", c.dir.c_str(), c.source, is_dir(c.dir) ? "" : ", no such folder");
  }
}

/* ---- opening ------------------------------------------------------------------ */

static void* open_abs(const std::string& path, std::string& why) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (h == NULL) {
    const char* e = dlerror();
    appendf(why, " [%s: %s]", path.c_str(), e ? e : "dlopen failed");
  }
  return h;
}

static void* sym_in(const std::vector<void*>& handles, const char* name) {
  for (void* h : handles) {
    if (h == NULL) continue;
    void* p = dlsym(h, name);
    if (p != NULL) return p;
  }
  return NULL;
}

/* Resolves every function of one X-macro list; names the missing ones. */
#define LC_RESOLVE(ret, name, params)                                     \
  lc_vendor.name = (ret(*) params)sym_in(handles, #name);                 \
  if (lc_vendor.name == NULL) appendf(missing, " %s", #name);

/* The folder cuBLAS came from: the cu13 wheel keeps NVRTC there too. */
static std::string lc_cublas_dir;

static int load_cublas(std::string& info, std::string& err) {
  std::vector<candidate> dirs;
  std::string tried;
  int status = -1; /* -1: not found yet; 0: loaded; 1: a folder had a bad cuBLAS */
  search_dirs("libcublasLt.so.13", dirs, [&](const candidate& c) {
    std::string lt = c.dir + "/libcublasLt.so.13", blas = c.dir + "/libcublas.so.13";
    if (!is_file(lt) || !is_file(blas)) return false;
    void* hlt = open_abs(lt, tried);
    if (hlt == NULL) return false;
    void* hb = open_abs(blas, tried);
    if (hb == NULL) {
      dlclose(hlt);
      return false;
    }
    std::vector<void*> handles = {hb, hlt};
    std::string missing;
    LC_CUBLAS_FUNCTIONS(LC_RESOLVE)
    if (!missing.empty()) {
      appendf(err, "cuBLAS in %s lacks functions this build needs:%s (need cuBLAS 13)",
              c.dir.c_str(), missing.c_str());
      status = 1;
      return true;
    }
    int major = -1, minor = -1, patch = -1;
    lc_vendor.cublasGetProperty(MAJOR_VERSION, &major);
    lc_vendor.cublasGetProperty(MINOR_VERSION, &minor);
    lc_vendor.cublasGetProperty(PATCH_LEVEL, &patch);
    if (major != 13) {
      appendf(err, "cuBLAS %d.%d.%d found in %s, but this build needs cuBLAS 13", major, minor,
              patch, c.dir.c_str());
      status = 1;
      return true;
    }
    appendf(info, "cuBLAS %d.%d.%d (libcublasLt.so.13 + libcublas.so.13 from %s, %s)", major,
            minor, patch, c.dir.c_str(), c.source);
    lc_cublas_dir = c.dir;
    status = 0;
    return true;
  });
  if (status >= 0) return status;
  appendf(err, "cuBLAS 13 not found (libcublasLt.so.13 and libcublas.so.13 in one folder)");
  if (!tried.empty()) appendf(err, "; could not open:%s", tried.c_str());
  describe_search(err, dirs);
  appendf(err, "; install it (pip install nvidia-cublas, or the CUDA 13 toolkit) or set "
               "LITS_CUDA_LIB_DIRS");
  return 1;
}

/* NVRTC 13 and its builtins, optional: cuDNN's runtime-compiled engines open
 * them by soname when they first compile. They sit beside cuDNN, or in the
 * cu13 wheel's nvidia/cu13/lib (beside cuBLAS), not in nvidia/cudnn/lib. */
static void load_nvrtc(const std::string& cudnn_dir, std::string& info) {
  std::string found;
  std::vector<candidate> first = {{cudnn_dir, "beside cuDNN"}, {lc_cublas_dir, "beside cuBLAS"}};
  const std::string wheel = "/nvidia/cudnn/lib";
  if (cudnn_dir.size() > wheel.size() &&
      cudnn_dir.compare(cudnn_dir.size() - wheel.size(), wheel.size(), wheel) == 0) {
    first.insert(first.begin() + 1, {cudnn_dir.substr(0, cudnn_dir.size() - wheel.size()) +
                                         "/nvidia/cu13/lib",
                                     "cu13 wheel"});
  }
  auto try_dir = [&](const candidate& c) {
    const std::string path = c.dir + "/libnvrtc.so.13";
    std::string why;
    if (c.dir.empty() || !is_file(path) || open_abs(path, why) == NULL) return false;
    glob_t g;
    std::string builtins;
    if (glob((c.dir + "/libnvrtc-builtins.so.13*").c_str(), 0, NULL, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; i++) {
        const char* base = strrchr(g.gl_pathv[i], '/') + 1;
        if (open_abs(g.gl_pathv[i], why) != NULL) appendf(builtins, " + %s", base);
      }
    }
    globfree(&g);
    appendf(found, "NVRTC (libnvrtc.so.13%s from %s, %s)", builtins.c_str(), c.dir.c_str(),
            c.source);
    if (!why.empty()) appendf(found, " (could not open:%s)", why.c_str());
    return true;
  };
  bool ok = false;
  for (const auto& c : first)
    if ((ok = try_dir(c))) break;
  std::vector<candidate> searched;
  if (!ok) ok = search_dirs(NULL, searched, try_dir);
  if (!ok) found = "NVRTC 13 not found (optional: cuDNN's runtime-compiled engines are off)";
  appendf(info, "; %s", found.c_str());
}

/* cuDNN 9's sub-libraries in dependency order, then any other libcudnn*.so.9
 * of the folder (newer releases add some: engines_tensor_ir in 9.20, ext in
 * 9.24) as optional, then the front library. Optional ones add engines. */
static const struct {
  const char* name;
  bool required;
} CUDNN_LIBS[] = {
    {"libcudnn_graph.so.9", true},
    {"libcudnn_engines_precompiled.so.9", true},
    {"libcudnn_engines_runtime_compiled.so.9", false},
    {"libcudnn_engines_tensor_ir.so.9", false},
    {"libcudnn_heuristic.so.9", false},
    {"libcudnn_ops.so.9", true},
    {"libcudnn_cnn.so.9", true},
    {"libcudnn_adv.so.9", false},
    {"libcudnn_ext.so.9", false},
};

struct cudnn_part {
  std::string name;
  bool required;
};

static std::vector<cudnn_part> cudnn_parts(const std::string& dir) {
  std::vector<cudnn_part> parts;
  for (const auto& lib : CUDNN_LIBS) parts.push_back({lib.name, lib.required});
  glob_t g;
  std::vector<std::string> extra;
  if (glob((dir + "/libcudnn*.so.9").c_str(), 0, NULL, &g) == 0) { /* sorted */
    for (size_t i = 0; i < g.gl_pathc; i++) {
      const std::string base = strrchr(g.gl_pathv[i], '/') + 1;
      bool known = base == "libcudnn.so.9";
      for (const auto& lib : CUDNN_LIBS) known = known || base == lib.name;
      if (!known) extra.push_back(base);
    }
  }
  globfree(&g);
  for (const auto& e : extra) parts.push_back({e, false});
  parts.push_back({"libcudnn.so.9", true});
  return parts;
}

/* The CUDA major a cuDNN was built for, asked of its graph library alone
 * (opened RTLD_LOCAL, closed again when the folder is skipped), so that a
 * cuDNN for another CUDA is never loaded as a whole. 0: cannot tell yet. */
static size_t cudnn_cudart_version(const std::string& dir, void** graph) {
  *graph = dlopen((dir + "/libcudnn_graph.so.9").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (*graph == NULL) return 0;
  typedef size_t (*version_fn)(void);
  version_fn f = (version_fn)dlsym(*graph, "cudnnGetCudartVersion");
  return f ? f() : 0;
}

/* Closes a skipped cuDNN; says so when it stays mapped (then cuDNN's own
 * opens by soname would find it, so the search must stop). */
static bool unload_all(std::vector<void*>& handles, const std::string& dir) {
  for (void* h : handles)
    if (h) dlclose(h);
  handles.clear();
  void* still = dlopen((dir + "/libcudnn_graph.so.9").c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (still == NULL) return true;
  dlclose(still);
  return false;
}

static int load_cudnn(std::string& info, std::string& err) {
  std::vector<candidate> dirs;
  std::string tried, skipped;
  const size_t want_major = CUDART_VERSION / 1000;
  int status = -1; /* -1: not found yet; 0: loaded; 1: error */
  search_dirs("libcudnn.so.9", dirs, [&](const candidate& c) {
    if (!is_file(c.dir + "/libcudnn.so.9")) return false;
    std::vector<void*> handles;
    void* graph = NULL;
    const size_t rt0 = cudnn_cudart_version(c.dir, &graph);
    if (graph) handles.push_back(graph);
    auto skip = [&](size_t rt) {
      appendf(skipped, " %s (%s): cuDNN built for CUDA %zu.%zu;", c.dir.c_str(), c.source,
              rt / 1000, rt % 1000 / 10);
      if (!unload_all(handles, c.dir)) {
        appendf(err, "the cuDNN in %s was built for CUDA %zu.%zu, not %zu, and stays loaded, so "
                     "no other cuDNN can be used in this process; set LITS_CUDA_LIB_DIRS to a "
                     "folder with a cuDNN 9 for CUDA %zu",
                c.dir.c_str(), rt / 1000, rt % 1000 / 10, want_major, want_major);
        status = 1;
        return true;
      }
      return false;
    };
    if (rt0 != 0 && rt0 / 1000 != want_major) return skip(rt0);
    /* A folder without the required parts is passed over before NVRTC or
     * anything else of it is loaded. */
    const std::vector<cudnn_part> parts = cudnn_parts(c.dir);
    for (const auto& lib : parts) {
      if (lib.required && !is_file(c.dir + "/" + lib.name)) {
        appendf(tried, " [%s/%s: missing]", c.dir.c_str(), lib.name.c_str());
        unload_all(handles, c.dir);
        return false;
      }
    }
    std::string info_nvrtc;
    load_nvrtc(c.dir, info_nvrtc);
    std::string optional_missing;
    for (const auto& lib : parts) {
      std::string path = c.dir + "/" + lib.name;
      std::string why;
      void* h = is_file(path) ? open_abs(path, why) : NULL;
      if (h == NULL && lib.required) {
        appendf(tried, " [%s: %s]", path.c_str(), why.empty() ? "missing" : why.c_str());
        unload_all(handles, c.dir);
        return false;
      }
      if (h == NULL) appendf(optional_missing, " %s", lib.name.c_str());
      handles.push_back(h);
    }
    /* The front library first: it exports the whole legacy API. */
    std::reverse(handles.begin(), handles.end());
    std::string missing;
    LC_CUDNN_FUNCTIONS(LC_RESOLVE)
    if (!missing.empty()) {
      appendf(err, "cuDNN in %s lacks functions this build needs:%s (need cuDNN 9 with the "
                   "legacy API)",
              c.dir.c_str(), missing.c_str());
      status = 1;
      return true;
    }
    const size_t v = lc_vendor.cudnnGetVersion();
    const size_t rt = lc_vendor.cudnnGetCudartVersion();
    if (rt / 1000 != want_major) return skip(rt);
    /* cuDNN 9 encodes major * 10000 + minor * 100 + patch. */
    if (v / 10000 != 9) {
      appendf(err, "cuDNN version %zu found in %s, but this build needs cuDNN 9", v,
              c.dir.c_str());
      status = 1;
      return true;
    }
    lc_cudnn_get_last_error = (lc_last_error_fn)sym_in(handles, "cudnnGetLastErrorString");
    appendf(info,
            "cuDNN %zu.%zu.%zu for CUDA %zu.%zu (libcudnn.so.9 and sub-libraries from %s, %s%s%s)",
            v / 10000, v / 100 % 100, v % 100, rt / 1000, rt % 1000 / 10, c.dir.c_str(), c.source,
            optional_missing.empty() ? "" : "; optional not loaded:", optional_missing.c_str());
    if (!skipped.empty()) {
      appendf(info, "; skipped, not for CUDA %zu:%s", want_major, skipped.c_str());
    }
    info += info_nvrtc;
    status = 0;
    return true;
  });
  if (status >= 0) return status;
  appendf(err, "cuDNN 9 not found (libcudnn.so.9 with its sub-libraries in one folder, built "
               "for CUDA %zu)",
          want_major);
  if (!skipped.empty()) appendf(err, "; skipped, not for CUDA %zu:%s", want_major, skipped.c_str());
  if (!tried.empty()) appendf(err, "; could not open:%s", tried.c_str());
  describe_search(err, dirs);
  appendf(err, "; install it (pip install nvidia-cudnn-cu13) or set LITS_CUDA_LIB_DIRS");
  return 1;
}

int lc_load_vendor(char* info_out, size_t info_cap, char* err_out, size_t err_cap) {
  /* The search builds strings and lists: out of host memory is a reason not
   * to start, not an exception through lits_init. */
  try {
    std::string info, err;
    /* cuBLAS first: some cuDNN engines call into cuBLASLt, which is then
     * already loaded from the folder we chose. */
    int bad = load_cublas(info, err);
    if (!bad) {
      info += "; ";
      bad = load_cudnn(info, err);
    }
    copy_out(info_out, info_cap, info);
    copy_out(err_out, err_cap, err);
    return bad;
  } catch (const std::exception& e) {
    if (err_cap > 0)
      snprintf(err_out, err_cap, "searching for cuBLAS and cuDNN failed: %s", e.what());
    if (info_cap > 0) info_out[0] = '\0';
    return 1;
  }
}

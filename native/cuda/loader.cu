/* loader.cu: finds cuBLAS 13 and cuDNN 9 and opens them by absolute path.
 *
 * Folders are tried in this order, and the first that holds a library that
 * opens wins:
 *   1. LITS_CUDA_LIB_DIRS (colon-separated), the user's explicit choice;
 *   2. the system's library path: LD_LIBRARY_PATH, the CUDA toolkit and the
 *      usual system folders, then whatever the dynamic linker itself finds
 *      by soname (ld.so.cache), turned back into a folder with dlinfo;
 *   3. the nvidia/cu13/lib, nvidia/cublas/lib and nvidia/cudnn/lib folders of
 *      Python wheels (where PyTorch's wheels keep them) under the
 *      site-packages of every python3 on PATH, /usr/bin/python3, a virtual
 *      environment or conda prefix, and ~/.local.
 * libcublasLt is opened before libcublas from the same folder (libcublas
 * needs it), and cuDNN's sub-libraries before libcudnn, all from the folder
 * of libcudnn.so.9: mixing cuDNN builds gives SUBLIBRARY_VERSION_MISMATCH.
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

/* Folders to try, in order, each with the group it came from (for messages). */
struct candidate {
  std::string dir;
  const char* source;
};

static std::vector<candidate> candidate_dirs(const char* probe_soname) {
  std::vector<candidate> out;
  std::vector<std::string> seen;
  auto add = [&](const std::string& d, const char* source) {
    for (const auto& s : seen)
      if (s == d) return;
    seen.push_back(d);
    out.push_back({d, source});
  };
  std::vector<std::string> user;
  split_into(user, getenv("LITS_CUDA_LIB_DIRS"));
  for (const auto& d : user) add(d, "LITS_CUDA_LIB_DIRS");
  std::vector<std::string> sys;
  split_into(sys, getenv("LD_LIBRARY_PATH"));
  for (const char* d : SYSTEM_DIRS) add_unique(sys, d);
  for (const auto& d : sys) add(d, "system");
  /* The dynamic linker's own answer (ld.so.cache, RUNPATHs of the process). */
  void* h = dlopen(probe_soname, RTLD_LAZY | RTLD_LOCAL);
  if (h != NULL) {
    char origin[PATH_MAX] = "";
    if (dlinfo(h, RTLD_DI_ORIGIN, origin) == 0 && origin[0]) add(origin, "dynamic linker");
    dlclose(h);
  }
  for (const auto& site : site_packages()) {
    for (const char* sub : WHEEL_SUBDIRS) add(site + "/" + sub, "python wheel");
  }
  return out;
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

static int load_cublas(std::string& info, std::string& err) {
  std::vector<candidate> dirs = candidate_dirs("libcublasLt.so.13");
  std::string tried;
  for (const auto& c : dirs) {
    std::string lt = c.dir + "/libcublasLt.so.13", blas = c.dir + "/libcublas.so.13";
    if (!is_file(lt) || !is_file(blas)) continue;
    void* hlt = open_abs(lt, tried);
    if (hlt == NULL) continue;
    void* hb = open_abs(blas, tried);
    if (hb == NULL) {
      dlclose(hlt);
      continue;
    }
    std::vector<void*> handles = {hb, hlt};
    std::string missing;
    LC_CUBLAS_FUNCTIONS(LC_RESOLVE)
    if (!missing.empty()) {
      appendf(err, "cuBLAS in %s lacks functions this build needs:%s (need cuBLAS 13)",
              c.dir.c_str(), missing.c_str());
      return 1;
    }
    int major = -1, minor = -1, patch = -1;
    lc_vendor.cublasGetProperty(MAJOR_VERSION, &major);
    lc_vendor.cublasGetProperty(MINOR_VERSION, &minor);
    lc_vendor.cublasGetProperty(PATCH_LEVEL, &patch);
    if (major != 13) {
      appendf(err, "cuBLAS %d.%d.%d found in %s, but this build needs cuBLAS 13", major, minor,
              patch, c.dir.c_str());
      return 1;
    }
    appendf(info, "cuBLAS %d.%d.%d (libcublasLt.so.13 + libcublas.so.13 from %s, %s)", major,
            minor, patch, c.dir.c_str(), c.source);
    return 0;
  }
  appendf(err, "cuBLAS 13 not found (libcublasLt.so.13 and libcublas.so.13 in one folder)");
  if (!tried.empty()) appendf(err, "; could not open:%s", tried.c_str());
  describe_search(err, dirs);
  appendf(err, "; install it (pip install nvidia-cublas, or the CUDA 13 toolkit) or set "
               "LITS_CUDA_LIB_DIRS");
  return 1;
}

/* cuDNN 9's sub-libraries in dependency order; the last is the front library.
 * Optional ones add engines (runtime-compiled kernels need NVRTC). */
static const struct {
  const char* name;
  bool required;
} CUDNN_LIBS[] = {
    {"libcudnn_graph.so.9", true},
    {"libcudnn_engines_precompiled.so.9", true},
    {"libcudnn_engines_runtime_compiled.so.9", false},
    {"libcudnn_heuristic.so.9", false},
    {"libcudnn_ops.so.9", true},
    {"libcudnn_cnn.so.9", true},
    {"libcudnn_adv.so.9", false},
    {"libcudnn.so.9", true},
};

static int load_cudnn(std::string& info, std::string& err) {
  std::vector<candidate> dirs = candidate_dirs("libcudnn.so.9");
  std::string tried;
  for (const auto& c : dirs) {
    if (!is_file(c.dir + "/libcudnn.so.9")) continue;
    std::vector<void*> handles;
    std::string optional_missing;
    bool ok = true;
    for (const auto& lib : CUDNN_LIBS) {
      std::string path = c.dir + "/" + lib.name;
      std::string why;
      void* h = is_file(path) ? open_abs(path, why) : NULL;
      if (h == NULL && lib.required) {
        appendf(tried, " [%s: %s]", path.c_str(), why.empty() ? "missing" : why.c_str());
        ok = false;
        break;
      }
      if (h == NULL) appendf(optional_missing, " %s", lib.name);
      handles.push_back(h);
    }
    if (!ok) {
      for (void* h : handles)
        if (h) dlclose(h);
      continue;
    }
    /* The front library first: it exports the whole legacy API. */
    std::reverse(handles.begin(), handles.end());
    std::string missing;
    LC_CUDNN_FUNCTIONS(LC_RESOLVE)
    if (!missing.empty()) {
      appendf(err, "cuDNN in %s lacks functions this build needs:%s (need cuDNN 9 with the "
                   "legacy API)",
              c.dir.c_str(), missing.c_str());
      return 1;
    }
    lc_cudnn_get_last_error = (lc_last_error_fn)sym_in(handles, "cudnnGetLastErrorString");
    const size_t v = lc_vendor.cudnnGetVersion();
    const size_t rt = lc_vendor.cudnnGetCudartVersion();
    /* cuDNN 9 encodes major * 10000 + minor * 100 + patch. */
    if (v / 10000 != 9) {
      appendf(err, "cuDNN version %zu found in %s, but this build needs cuDNN 9", v,
              c.dir.c_str());
      return 1;
    }
    appendf(info, "cuDNN %zu.%zu.%zu for CUDA %zu.%zu (libcudnn.so.9 and sub-libraries from %s, %s%s%s)",
            v / 10000, v / 100 % 100, v % 100, rt / 1000, rt % 1000 / 10, c.dir.c_str(), c.source,
            optional_missing.empty() ? "" : "; optional not loaded:", optional_missing.c_str());
    return 0;
  }
  appendf(err, "cuDNN 9 not found (libcudnn.so.9 with its sub-libraries in one folder)");
  if (!tried.empty()) appendf(err, "; could not open:%s", tried.c_str());
  describe_search(err, dirs);
  appendf(err, "; install it (pip install nvidia-cudnn-cu13) or set LITS_CUDA_LIB_DIRS");
  return 1;
}

int lc_load_vendor(char* info_out, size_t info_cap, char* err_out, size_t err_cap) {
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
}

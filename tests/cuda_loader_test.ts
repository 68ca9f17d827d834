/**
 * The CUDA backend's vendor loader (native/cuda/loader.cu) against stand-in
 * cuBLAS, cuDNN and NVRTC libraries (native/cuda/check/fake_vendor.cpp) laid
 * out in folders the way apt, the CUDA toolkit and PyTorch's cu13 wheels lay
 * them out. Each case runs native/cuda/check/loader_check in a fresh process
 * (what a process has dlopen'ed stays loaded) and reads what the loader
 * reports (the text backendInfo("cuda") shows) and, through
 * LITS_FAKE_LOAD_LOG, which stand-ins were mapped and in what order.
 *
 * Built once for the whole file (eight small nvcc runs, two at a time);
 * skipped, with a note, where nvcc is missing. What only a GPU machine can
 * show: that the real cuDNN's sub-libraries, NVRTC and its builtins load in
 * this order and its runtime-compiled engines then run.
 */
import assert from "node:assert/strict";
import { findNvcc } from "../src/ffi/build_cuda.ts";

const nvcc = findNvcc();
if (nvcc === null) {
  console.warn("cuda_loader_test: nvcc not found: skipping the loader checks");
}
const ignore = nvcc === null;
const cudaDir = new URL("../native/cuda/", import.meta.url).pathname;
const includeDir = new URL("../native/include/", import.meta.url).pathname;

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  }
}

/** The stand-in builds, by the -D flags of fake_vendor.cpp. */
const VARIANTS: Record<string, string[]> = {
  empty: [],
  cublas: ["-DFAKE_CUBLAS"],
  cudnn13: ["-DFAKE_CUDNN"],
  graph13: ["-DFAKE_CUDNN_GRAPH"],
  cudnn12: ["-DFAKE_CUDNN", "-DFAKE_CUDART=12080"],
  graph12: ["-DFAKE_CUDNN_GRAPH", "-DFAKE_CUDART=12080"],
  // A graph library that dlclose cannot unmap (as one with STB_GNU_UNIQUE
  // symbols, or linked -z nodelete, behaves).
  graph12sticky: [
    "-DFAKE_CUDNN_GRAPH",
    "-DFAKE_CUDART=12080",
    "-Xlinker",
    "-z",
    "-Xlinker",
    "nodelete",
  ],
};

let built: Promise<string> | null = null;
/** Builds the stand-ins and loader_check into a temporary folder, once. */
function build(): Promise<string> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "lits_loader_test_" });
    const jobs: (() => Promise<void>)[] = Object.entries(VARIANTS).map(([name, defs]) => () =>
      run(nvcc!, [
        "-std=c++17",
        "-shared",
        "-Xcompiler",
        "-fPIC",
        `-I${includeDir}`,
        ...defs,
        `${cudaDir}check/fake_vendor.cpp`,
        "-o",
        `${dir}/${name}.so`,
      ])
    );
    jobs.push(() =>
      run(nvcc!, [
        "-std=c++17",
        "-O1",
        `-I${includeDir}`,
        `${cudaDir}check/loader_check.cu`,
        `${cudaDir}loader.cu`,
        // A RUNPATH, so that one case can find libraries only the way the
        // dynamic linker does (the loader's probe).
        "-Xlinker",
        "-rpath=$ORIGIN/linker",
        "-o",
        `${dir}/loader_check`,
        "-ldl",
      ])
    );
    // Two at a time: the machine is shared.
    for (let i = 0; i < jobs.length; i += 2) {
      await Promise.all(jobs.slice(i, i + 2).map((j) => j()));
    }
    return dir;
  })();
  return built;
}

/** Copies stand-ins into `folder` under the given names. Copies, not links:
 * the dynamic linker treats two links to one file as one library. */
async function place(bin: string, folder: string, libs: Record<string, string>) {
  await Deno.mkdir(folder, { recursive: true });
  for (const [name, variant] of Object.entries(libs)) {
    await Deno.copyFile(`${bin}/${variant}.so`, `${folder}/${name}`);
  }
}

const CUBLAS = { "libcublas.so.13": "cublas", "libcublasLt.so.13": "empty" };
const CUDNN_CORE = ["engines_precompiled", "ops", "cnn"].map((s) => `libcudnn_${s}.so.9`);
function cudnn(major: 12 | 13, extra: string[] = []): Record<string, string> {
  const libs: Record<string, string> = {
    "libcudnn.so.9": `cudnn${major}`,
    "libcudnn_graph.so.9": `graph${major}`,
  };
  for (const n of [...CUDNN_CORE, ...extra]) libs[n] = "empty";
  return libs;
}
const NVRTC = { "libnvrtc.so.13": "empty", "libnvrtc-builtins.so.13.0": "empty" };

interface Result {
  ok: boolean;
  text: string;
  /** "load PATH" / "unload PATH" lines of the stand-ins, in order, while
   * the loader ran (the unloads at process exit left out). */
  log: string[];
}

/** Runs loader_check (from `exe`) with `env` added; HOME and the Pythons of
 * PATH point into the case's folder unless `env` says otherwise. */
async function load(exe: string, caseDir: string, env: Record<string, string>): Promise<Result> {
  const log = `${caseDir}/load.log`;
  const out = await new Deno.Command(exe, {
    env: { HOME: caseDir, PATH: "/nonexistent", LITS_FAKE_LOAD_LOG: log, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  // loader_check writes "returned" (and creates the log) whatever happened.
  const lines = Deno.readTextFileSync(log).trim().split("\n");
  const end = lines.indexOf("returned");
  assert.ok(end >= 0, `loader_check did not return:\n${text}`);
  return { ok: out.success, text, log: lines.slice(0, end) };
}

/** Where the real libraries would be found first on this machine (then the
 * system cases cannot be checked here). */
const SYSTEM_DIRS = [
  "/usr/local/cuda/lib64",
  "/usr/local/cuda/targets/x86_64-linux/lib",
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib64",
  "/usr/local/lib",
  "/usr/lib",
  "/lib/x86_64-linux-gnu",
];
function systemHas(name: string): boolean {
  return SYSTEM_DIRS.some((d) => {
    try {
      return Deno.statSync(`${d}/${name}`).isFile;
    } catch {
      return false;
    }
  });
}

async function caseDir(bin: string, name: string): Promise<string> {
  const d = `${bin}/${name}`;
  await Deno.mkdir(d, { recursive: true });
  return d;
}

const loaded = (r: Result) => r.log.filter((l) => l.startsWith("load ")).map((l) => l.slice(5));
const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

Deno.test({
  name: "loader: every libcudnn*.so.9 of the folder, graph first, libcudnn.so.9 last",
  ignore,
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "sublibs");
    const extras = [
      "libcudnn_engines_runtime_compiled.so.9",
      "libcudnn_engines_tensor_ir.so.9", // cuDNN 9.20
      "libcudnn_heuristic.so.9",
      "libcudnn_adv.so.9",
      "libcudnn_ext.so.9", // cuDNN 9.24
      "libcudnn_zz_future.so.9", // a name this loader has never heard of
    ];
    await place(bin, `${dir}/lib`, { ...CUBLAS, ...cudnn(13, extras) });
    // An unknown part that does not open is optional: reported, not fatal.
    await Deno.writeTextFile(`${dir}/lib/libcudnn_broken.so.9`, "not a library\n");
    const r = await load(`${bin}/loader_check`, dir, { LITS_CUDA_LIB_DIRS: `${dir}/lib` });
    assert.ok(r.ok, r.text);
    const order = loaded(r).filter((p) => base(p).startsWith("libcudnn")).map(base);
    assert.deepEqual(order, [
      "libcudnn_graph.so.9",
      "libcudnn_engines_precompiled.so.9",
      "libcudnn_engines_runtime_compiled.so.9",
      "libcudnn_engines_tensor_ir.so.9",
      "libcudnn_heuristic.so.9",
      "libcudnn_ops.so.9",
      "libcudnn_cnn.so.9",
      "libcudnn_adv.so.9",
      "libcudnn_ext.so.9",
      "libcudnn_zz_future.so.9",
      "libcudnn.so.9",
    ]);
    for (const p of loaded(r)) assert.ok(p.startsWith(`${dir}/lib/`), `${p} is outside the folder`);
    assert.match(r.text, /cuDNN 9\.13\.2 for CUDA 13\.0 \(libcudnn\.so\.9 and sub-libraries from /);
    assert.match(r.text, /optional not loaded: libcudnn_broken\.so\.9/);
    assert.doesNotMatch(r.text, /optional not loaded:[^;]*libcudnn_ext/);
    if (!systemHas("libnvrtc.so.13")) assert.match(r.text, /NVRTC 13 not found \(optional/);
  },
});

Deno.test({
  name: "loader: a cuDNN built for CUDA 12 is skipped, said so, and unloaded",
  ignore,
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "cuda12");
    await place(bin, `${dir}/blas`, CUBLAS);
    await place(bin, `${dir}/apt12`, cudnn(12));
    await place(bin, `${dir}/wheel13`, cudnn(13));
    const r = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/blas:${dir}/apt12:${dir}/wheel13`,
    });
    assert.ok(r.ok, r.text);
    assert.match(r.text, new RegExp(`sub-libraries from ${dir}/wheel13, LITS_CUDA_LIB_DIRS`));
    assert.ok(
      r.text.includes(
        `skipped, not for CUDA 13: ${dir}/apt12 (LITS_CUDA_LIB_DIRS): cuDNN built for CUDA 12.8`,
      ),
      r.text,
    );
    // Only its graph library was opened, to ask; then it was closed again.
    const apt = r.log.filter((l) => l.includes(`${dir}/apt12/`));
    assert.deepEqual(apt, [
      `load ${dir}/apt12/libcudnn_graph.so.9`,
      `unload ${dir}/apt12/libcudnn_graph.so.9`,
    ]);
    assert.equal(base(loaded(r).at(-1)!), "libcudnn.so.9");

    // With no other cuDNN the error says why the one found was not used.
    const only = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/blas:${dir}/apt12`,
    });
    if (!systemHas("libcudnn.so.9")) {
      assert.ok(!only.ok, only.text);
      assert.match(only.text, /^unavailable: cuDNN 9 not found \(.*built for CUDA 13\)/);
      assert.match(only.text, /skipped, not for CUDA 13: .*apt12 .*CUDA 12\.8/);
    }
  },
});

Deno.test({
  name: "loader: a CUDA 12 cuDNN that cannot be unloaded stops the search with the reason",
  ignore,
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "sticky");
    await place(bin, `${dir}/blas`, CUBLAS);
    await place(bin, `${dir}/apt12`, { ...cudnn(12), "libcudnn_graph.so.9": "graph12sticky" });
    await place(bin, `${dir}/wheel13`, cudnn(13));
    const r = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/blas:${dir}/apt12:${dir}/wheel13`,
    });
    // cuDNN opens its parts by soname, which would find the CUDA 12 graph
    // library still mapped: refusing is the only safe answer.
    assert.ok(!r.ok, r.text);
    assert.ok(
      r.text.includes(
        `the cuDNN in ${dir}/apt12 was built for CUDA 12.8, not 13, and stays loaded`,
      ),
      r.text,
    );
    assert.match(r.text, /set LITS_CUDA_LIB_DIRS to a folder with a cuDNN 9 for CUDA 13/);
    assert.deepEqual(r.log.filter((l) => l.includes(`${dir}/wheel13/`)), []);
  },
});

Deno.test({
  name: "loader: an apt cuDNN for CUDA 12 on the system path does not win over the cu13 wheel",
  ignore: ignore || systemHas("libcudnn.so.9") || systemHas("libcublasLt.so.13"),
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "apt_vs_wheel");
    const site = `${dir}/venv/lib/python3.12/site-packages`;
    await place(bin, `${dir}/apt12`, cudnn(12));
    await place(bin, `${site}/nvidia/cu13/lib`, { ...CUBLAS, ...NVRTC });
    await place(bin, `${site}/nvidia/cudnn/lib`, cudnn(13));
    await Deno.mkdir(`${dir}/venv/bin`, { recursive: true });
    await Deno.writeTextFile(`${dir}/venv/bin/python3`, "");
    await Deno.chmod(`${dir}/venv/bin/python3`, 0o755);
    const r = await load(`${bin}/loader_check`, dir, {
      LD_LIBRARY_PATH: `${dir}/apt12`,
      PATH: `${dir}/venv/bin`,
    });
    assert.ok(r.ok, r.text);
    assert.ok(r.text.includes(`from ${site}/nvidia/cu13/lib, python wheel`), r.text);
    assert.ok(r.text.includes(`sub-libraries from ${site}/nvidia/cudnn/lib, python wheel`), r.text);
    assert.ok(r.text.includes(`${dir}/apt12 (system): cuDNN built for CUDA 12.8`), r.text);
  },
});

Deno.test({
  name: "loader: an explicit folder that wins stops the search before the linker probe",
  ignore,
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "probe");
    await place(bin, `${dir}/chosen`, { ...CUBLAS, ...cudnn(13) });
    // What the dynamic linker would find by soname: must never be mapped.
    await place(bin, `${dir}/elsewhere`, { ...CUBLAS, ...cudnn(13) });
    const r = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/chosen`,
      LD_LIBRARY_PATH: `${dir}/elsewhere`,
    });
    assert.ok(r.ok, r.text);
    assert.deepEqual(r.log.filter((l) => !l.includes(`${dir}/chosen/`)), []);
    assert.equal(loaded(r).length, 2 + 5);
  },
});

Deno.test({
  name: "loader: when the explicit folders fail, the dynamic linker's folder is found",
  ignore: ignore || systemHas("libcudnn.so.9") || systemHas("libcublasLt.so.13"),
  async fn() {
    const bin = await build();
    // loader_check's RUNPATH is $ORIGIN/linker: only dlopen by soname finds it.
    const dir = await caseDir(bin, "linker_case");
    await Deno.copyFile(`${bin}/loader_check`, `${dir}/loader_check`);
    await Deno.chmod(`${dir}/loader_check`, 0o755);
    await place(bin, `${dir}/linker`, { ...CUBLAS, ...cudnn(13) });
    await Deno.mkdir(`${dir}/empty`);
    const r = await load(`${dir}/loader_check`, dir, { LITS_CUDA_LIB_DIRS: `${dir}/empty` });
    assert.ok(r.ok, r.text);
    assert.ok(r.text.includes(`libcublas.so.13 from ${dir}/linker, dynamic linker)`), r.text);
    assert.ok(r.text.includes(`sub-libraries from ${dir}/linker, dynamic linker`), r.text);
  },
});

Deno.test({
  name: "loader: NVRTC and its builtins from the cu13 wheel folder, before cuDNN",
  ignore,
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "nvrtc");
    const site = `${dir}/site-packages`;
    await place(bin, `${dir}/blas`, CUBLAS);
    await place(bin, `${site}/nvidia/cu13/lib`, NVRTC);
    await place(bin, `${site}/nvidia/cudnn/lib`, cudnn(13));
    const r = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/blas:${site}/nvidia/cudnn/lib`,
    });
    assert.ok(r.ok, r.text);
    assert.ok(
      r.text.includes(
        `NVRTC (libnvrtc.so.13 + libnvrtc-builtins.so.13.0 from ${site}/nvidia/cu13/lib, cu13 wheel)`,
      ),
      r.text,
    );
    const order = loaded(r).map(base);
    const nvrtc = order.indexOf("libnvrtc.so.13");
    assert.ok(nvrtc >= 0 && order.indexOf("libnvrtc-builtins.so.13.0") >= 0, order.join(" "));
    // Only the graph library (asked for its CUDA version) comes before NVRTC.
    for (const n of [...CUDNN_CORE, "libcudnn.so.9"]) {
      assert.ok(order.indexOf(n) > nvrtc, `${n} before NVRTC: ${order.join(" ")}`);
    }
  },
});

Deno.test({
  name: "loader: a cuDNN folder that lacks a required part is passed over, NVRTC included",
  ignore,
  async fn() {
    const bin = await build();
    const dir = await caseDir(bin, "partial");
    const partial = cudnn(13);
    delete partial["libcudnn_cnn.so.9"];
    await place(bin, `${dir}/blas`, CUBLAS);
    await place(bin, `${dir}/partial`, { ...partial, ...NVRTC });
    await place(bin, `${dir}/good`, { ...cudnn(13), ...NVRTC });
    const r = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/blas:${dir}/partial:${dir}/good`,
    });
    assert.ok(r.ok, r.text);
    assert.ok(r.text.includes(`sub-libraries from ${dir}/good, LITS_CUDA_LIB_DIRS`), r.text);
    assert.ok(r.text.includes(`from ${dir}/good, beside cuDNN)`), r.text);
    assert.deepEqual(r.log.filter((l) => l.includes(`${dir}/partial/`)), [
      `load ${dir}/partial/libcudnn_graph.so.9`,
      `unload ${dir}/partial/libcudnn_graph.so.9`,
    ]);

    const only = await load(`${bin}/loader_check`, dir, {
      LITS_CUDA_LIB_DIRS: `${dir}/blas:${dir}/partial`,
    });
    if (!systemHas("libcudnn.so.9")) {
      assert.ok(!only.ok, only.text);
      assert.ok(only.text.includes(`could not open: [${dir}/partial/libcudnn_cnn.so.9: missing]`));
    }
  },
});

Deno.test({
  name: "loader: cleanup",
  ignore,
  sanitizeResources: false,
  async fn() {
    if (built !== null) await Deno.remove(await built, { recursive: true });
  },
});

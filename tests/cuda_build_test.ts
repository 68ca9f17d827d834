/**
 * The CUDA library builds with nvcc, loads on a machine without a GPU and
 * says why it cannot run there, exports exactly the functions of lits.h, and
 * its kernels' arithmetic matches the CPU backend (native/cuda/check).
 *
 * The nvcc tests are skipped, with a note, where nvcc is missing; CI runs
 * them wherever the CUDA toolkit is installed (no GPU needed).
 */
import assert from "node:assert/strict";
import { buildCuda, CUDA_SOURCES, findNvcc } from "../src/ffi/build_cuda.ts";
import { ABI_VERSION, cpuLibraryPath } from "../src/ffi/native.ts";
import { type NativeSymbols, symbols } from "../src/ffi/symbols.ts";

const nvcc = findNvcc();
const noNvcc = nvcc === null;
if (noNvcc) {
  console.warn(
    "cuda_build_test: nvcc not found (PATH, /usr/local/cuda/bin, NVCC): skipping the CUDA " +
      "build checks; install the CUDA 13 toolkit to run them",
  );
}

const cudaDir = new URL("../native/cuda/", import.meta.url).pathname;
const includeDir = new URL("../native/include/", import.meta.url).pathname;
const header = Deno.readTextFileSync(`${includeDir}lits.h`);
const headerNames = [...header.matchAll(/^(?:int|const char\*) (lits_\w+)\(/gm)].map((m) => m[1]);
/** lits.h marks some sections optional (the table says `optional: true`): a
 * backend may leave them out and callers fall back. */
const optionalNames = new Set(
  Object.entries(symbols).filter(([, d]) => "optional" in d && d.optional).map(([n]) => n),
);
const requiredNames = headerNames.filter((n) => !optionalNames.has(n));

Deno.test("the CUDA build's source list equals native/cuda", () => {
  const files = [...Deno.readDirSync(cudaDir)]
    .filter((e) => e.isFile && /\.(cu|cuh|h|map)$/.test(e.name))
    .map((e) => e.name)
    .sort();
  assert.deepEqual([...CUDA_SOURCES].sort(), files);
});

Deno.test("every required lits.h function has one CUDA definition, and nothing else", () => {
  const defined = new Map<string, number>();
  for (const f of CUDA_SOURCES.filter((s) => s.endsWith(".cu"))) {
    const text = Deno.readTextFileSync(`${cudaDir}${f}`);
    for (const m of text.matchAll(/^extern "C" (?:int|const char\*) (lits_\w+)\(/gm)) {
      defined.set(m[1], (defined.get(m[1]) ?? 0) + 1);
    }
  }
  const names = [...defined.keys()];
  assert.deepEqual(names.filter((n) => !optionalNames.has(n)).sort(), [...requiredNames].sort());
  for (const n of names) assert.ok(headerNames.includes(n), `${n} is not in lits.h`);
  for (const [name, count] of defined) assert.equal(count, 1, `${name} is defined ${count} times`);
});

Deno.test("native/cpu and native/cuda define each lits.h function in files of the same name", () => {
  const cpuDir = new URL("../native/cpu/", import.meta.url).pathname;
  const where = (dir: string, ext: string, re: RegExp) => {
    const out = new Map<string, string>();
    for (const f of [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(ext))) {
      for (const m of Deno.readTextFileSync(`${dir}${f}`).matchAll(re)) {
        out.set(m[1], f.slice(0, -ext.length));
      }
    }
    return out;
  };
  const cpu = where(cpuDir, ".c", /^(?:int|const char\*) (lits_\w+)\([^;{]*\)\s*\{/gm);
  const cuda = where(cudaDir, ".cu", /^extern "C" (?:int|const char\*) (lits_\w+)\(/gm);
  for (const name of requiredNames) {
    assert.ok(cpu.has(name), `${name} has no definition in native/cpu`);
    assert.equal(`${cpu.get(name)}.c`, `${cuda.get(name)}.c`, `${name}: cpu vs cuda file`);
  }
});

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

Deno.test({
  name: "nvcc builds liblits_cuda.so, which loads without a GPU and says why it cannot run",
  ignore: noNvcc,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const lib = await buildCuda({ out: `${dir}/liblits_cuda.so`, force: true });
      // Deno.dlopen fails if a function of the table that is not optional is missing.
      const dl = Deno.dlopen(lib, symbols);
      const syms = dl.symbols as unknown as NativeSymbols;
      const version = new Int32Array(1);
      assert.equal(syms.lits_abi_version(version), 0);
      assert.equal(version[0], ABI_VERSION);
      const status = syms.lits_init();
      if (status !== 0) {
        assert.equal(status, 3, "lits_init fails with LITS_ERR_UNAVAILABLE");
        const p = syms.lits_last_error();
        const why = p === null ? "" : Deno.UnsafePointerView.getCString(p);
        assert.match(
          why,
          /lits_init: the CUDA backend is unavailable: .*(driver|device|cuBLAS|cuDNN)/,
        );
        const buf = new Uint8Array(4096);
        assert.equal(syms.lits_backend_info(buf, buf.length), 0);
        assert.match(new TextDecoder().decode(buf), /^cuda: unavailable: /);
        assert.equal(syms.lits_alloc(16, new BigUint64Array(1)), 3, "alloc needs the GPU");
      }
      // No leaked C++ or CUDA runtime symbols: exactly the lits.h API.
      try {
        const nm = await run("nm", ["-D", "--defined-only", lib]);
        const exported = nm.trim().split("\n").map((l) => l.split(" ").pop()!);
        assert.deepEqual(
          exported.filter((n) => !optionalNames.has(n)).sort(),
          [...requiredNames].sort(),
        );
        for (const n of exported) {
          assert.ok(headerNames.includes(n), `${n} is exported, not in lits.h`);
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e; // no binutils: skip this part
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "host_check: the CUDA kernels' per-element math matches the CPU backend",
  ignore: noNvcc,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const check = `${cudaDir}check/`;
      const fake = `${dir}/vendor`;
      await Deno.mkdir(fake);
      const cxx = ["-std=c++17", "-shared", "-Xcompiler", "-fPIC", `-I${includeDir}`];
      const fakeLib = (define: string[], name: string) =>
        run(nvcc!, [...cxx, ...define, `${check}fake_vendor.cpp`, "-o", `${fake}/${name}`]);
      await Promise.all([
        fakeLib(["-DFAKE_CUBLAS"], "libcublas.so.13"),
        fakeLib([], "libcublasLt.so.13"),
        fakeLib(["-DFAKE_CUDNN"], "libcudnn.so.9"),
        ...["graph", "engines_precompiled", "ops", "cnn"].map((s) =>
          fakeLib([], `libcudnn_${s}.so.9`)
        ),
        run(nvcc!, [
          "-std=c++17",
          "-O1",
          `-I${includeDir}`,
          `${check}host_check.cu`,
          `${cudaDir}loader.cu`,
          "-o",
          `${dir}/host_check`,
          "-ldl",
        ]),
      ]);
      const out = await run(`${dir}/host_check`, [cpuLibraryPath(), fake]);
      assert.match(out, /host_check: ok/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

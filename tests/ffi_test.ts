import assert from "node:assert/strict";
import { symbols } from "../src/ffi/symbols.ts";
import { CPU_SOURCES } from "../src/ffi/build.ts";
import { ABI_VERSION } from "../src/ffi/native.ts";

const header = Deno.readTextFileSync(new URL("../native/include/lits.h", import.meta.url));

/** Maps a C parameter declaration to the FFI type the table must use. */
function ffiType(decl: string): string {
  const d = decl.replace(/\s+/g, " ").trim();
  if (d.includes("*")) return /_host$/.test(d) ? "buffer" : "pointer";
  if (/^u?int64_t /.test(d)) return d.startsWith("u") ? "u64" : "i64";
  if (/^int32_t /.test(d)) return "i32";
  if (/^float /.test(d)) return "f32";
  throw new Error(`unmapped C parameter '${d}'`);
}

function prototypes(): Map<string, { params: string[]; result: string }> {
  const out = new Map<string, { params: string[]; result: string }>();
  const re = /^(int|const char\*) (lits_\w+)\(([^)]*)\);/gm;
  const flat = header.replace(/\/\*[\s\S]*?\*\//g, "").replace(/,\s*\n\s*/g, ", ");
  for (const m of flat.matchAll(re)) {
    const params = m[3].trim() === "void" ? [] : m[3].split(",").map(ffiType);
    out.set(m[2], { params, result: m[1] === "int" ? "i32" : "pointer" });
  }
  return out;
}

Deno.test("the symbol table equals lits.h, name by name and parameter by parameter", () => {
  const fromHeader = prototypes();
  assert.ok(fromHeader.size > 40, `parsed only ${fromHeader.size} prototypes`);
  assert.deepEqual(Object.keys(symbols), [...fromHeader.keys()]);
  for (const [name, proto] of fromHeader) {
    const entry = symbols[name as keyof typeof symbols];
    assert.deepEqual([...entry.parameters], proto.params, `parameters of ${name}`);
    assert.equal(entry.result, proto.result, `result of ${name}`);
  }
});

Deno.test("the ABI version in TypeScript equals LITS_ABI_VERSION", () => {
  const m = header.match(/#define LITS_ABI_VERSION (\d+)/);
  assert.equal(Number(m?.[1]), ABI_VERSION);
});

Deno.test("the build's source list equals native/cpu", () => {
  const dir = new URL("../native/cpu/", import.meta.url);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /\.[ch]$/.test(n))
    .sort();
  assert.deepEqual([...CPU_SOURCES].sort(), files);
});

Deno.test("LITS_NATIVE_LIB pointing nowhere gives an error with the build command", async () => {
  const code = `import { zeros } from "${new URL("../mod.ts", import.meta.url).href}";
try { zeros([1]); console.log("no error"); } catch (e) { console.log(e.message); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { LITS_NATIVE_LIB: "/nonexistent/liblits_cpu.so" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /LITS_NATIVE_LIB points to \/nonexistent\/liblits_cpu\.so.*deno task build/);
});

import assert from "node:assert/strict";
import { symbols } from "../src/ffi/symbols.ts";
import * as codes from "../src/ffi/codes.ts";
import { CPU_SOURCES } from "../src/ffi/build.ts";
import { ABI_VERSION } from "../src/ffi/native.ts";
import { enums, ffiType, generate, OUTPUTS, prototypes } from "../scripts/gen_ffi.ts";

const header = Deno.readTextFileSync(new URL("../native/include/lits.h", import.meta.url));

Deno.test("the symbol tables and codes.ts are what scripts/gen_ffi.ts makes of lits.h and lits_dist.h", async () => {
  const fresh = await generate();
  for (const key of Object.keys(OUTPUTS) as (keyof typeof OUTPUTS)[]) {
    const committed = Deno.readTextFileSync(OUTPUTS[key]);
    assert.equal(committed, fresh[key], `${key}: run deno task gen:ffi`);
  }
});

Deno.test("the symbol table equals lits.h, name by name and parameter by parameter", () => {
  const fromHeader = prototypes(header);
  assert.ok(fromHeader.length > 40, `parsed only ${fromHeader.length} prototypes`);
  assert.deepEqual(Object.keys(symbols), fromHeader.map((p) => p.name));
  for (const proto of fromHeader) {
    const entry = symbols[proto.name as keyof typeof symbols];
    assert.deepEqual([...entry.parameters], proto.params, `parameters of ${proto.name}`);
    assert.equal(entry.result, proto.result, `result of ${proto.name}`);
    const optional = "optional" in entry && entry.optional === true;
    assert.equal(optional, proto.optional, `LITS_OPTIONAL of ${proto.name}`);
  }
});

Deno.test("the generator maps host pointers to buffers and rejects unknown C types", () => {
  assert.equal(ffiType("const int64_t* shape_host"), "buffer");
  assert.equal(ffiType("float* y"), "pointer");
  assert.equal(ffiType("uint64_t seed"), "u64");
  assert.equal(ffiType("double timeout_s"), "f64");
  assert.throws(() => ffiType("size_t x"), /unmapped C parameter 'size_t x'/);
  assert.throws(() => enums("enum lits_x { LITS_A, LITS_B = 1 };"), /needs an explicit value/);
  const [opt, req] = prototypes("LITS_OPTIONAL\nint lits_a(float* y);\nint lits_b(void);");
  assert.deepEqual([opt.optional, req.optional, req.params], [true, false, []]);
});

Deno.test("every enum code of lits.h is in codes.ts with its value", () => {
  const table = codes as unknown as Record<string, Record<string, number>>;
  const parsed = enums(header);
  assert.deepEqual(
    parsed.map((e) => e.name),
    ["lits_status", "lits_unary_op", "lits_binary_op", "lits_reduce_op", "lits_reduction"],
  );
  for (const e of parsed) {
    const ts = table[e.name.replace(/^lits_/, "").toUpperCase()];
    assert.deepEqual(Object.values(ts), e.members.map(([, v]) => v), e.name);
  }
  // Spot checks against the header's text, so a parser slip cannot pass unseen.
  assert.equal(codes.UNARY_OP.leakyRelu, 16);
  assert.equal(codes.BINARY_OP.ne, 12);
  assert.equal(codes.REDUCE_OP.min, 3);
  assert.equal(codes.REDUCTION.sum, 2);
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

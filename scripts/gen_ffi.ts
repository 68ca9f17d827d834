/**
 * Generates `src/ffi/symbols.ts` (the `Deno.dlopen` table) and
 * `src/ffi/codes.ts` (the enum codes and ABI version) from
 * `native/include/lits.h`, and `src/dist/symbols.ts` (table and codes) from
 * `native/include/lits_dist.h`, so the C headers are the only place a native
 * signature or code is written. `deno task gen:ffi` rewrites
 * all three; `--check` exits 1 when the committed files differ
 * (tests/ffi_test.ts runs the same comparison).
 *
 * Type rules: a pointer named `*_host` is host memory (`"buffer"`, so typed
 * arrays pass as they are); any other pointer is device memory (`"pointer"`).
 *
 * @module
 */

const HEADERS = {
  lits: new URL("../native/include/lits.h", import.meta.url),
  dist: new URL("../native/include/lits_dist.h", import.meta.url),
} as const;
/** Where each generated text is written. */
export const OUTPUTS = {
  symbols: new URL("../src/ffi/symbols.ts", import.meta.url),
  codes: new URL("../src/ffi/codes.ts", import.meta.url),
  distSymbols: new URL("../src/dist/symbols.ts", import.meta.url),
} as const;

/** One prototype of lits.h as FFI types. */
export interface Prototype {
  name: string;
  params: string[];
  result: "i32" | "pointer";
  /** Declared `LITS_OPTIONAL`: a backend may leave it out (the table says `optional: true`). */
  optional: boolean;
}

/** Maps a C parameter declaration to its FFI type; throws on anything unmapped. */
export function ffiType(decl: string): string {
  const d = decl.replace(/\s+/g, " ").trim();
  if (d.includes("*")) return /_host$/.test(d) ? "buffer" : "pointer";
  if (/^uint64_t /.test(d)) return "u64";
  if (/^int64_t /.test(d)) return "i64";
  if (/^int32_t /.test(d)) return "i32";
  if (/^float /.test(d)) return "f32";
  if (/^double /.test(d)) return "f64";
  throw new Error(`gen_ffi: unmapped C parameter '${d}' (add a rule to scripts/gen_ffi.ts)`);
}

function stripComments(header: string): string {
  return header.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

/** The header's functions, in its order. */
export function prototypes(header: string): Prototype[] {
  const flat = stripComments(header).replace(/,\s*\n\s*/g, ", ");
  const out: Prototype[] = [];
  const re = /^(LITS_OPTIONAL\s+)?(int|const char\*) (lits_\w+)\(([^)]*)\);/gm;
  for (const m of flat.matchAll(re)) {
    const params = m[4].trim() === "void" ? [] : m[4].split(",").map(ffiType);
    const result = m[2] === "int" ? "i32" : "pointer";
    out.push({ name: m[3], params, result, optional: m[1] !== undefined });
  }
  return out;
}

/** One `enum lits_x { LITS_A = 0, ... }` of the header. */
export interface EnumDecl {
  name: string;
  members: [string, number][];
}

/** The header's enums, with explicit values (the ABI fixes each code). */
export function enums(header: string): EnumDecl[] {
  const out: EnumDecl[] = [];
  for (const m of stripComments(header).matchAll(/enum (lits_\w+) \{([^}]*)\}/g)) {
    const members: [string, number][] = [];
    for (const item of m[2].split(",").map((s) => s.trim()).filter((s) => s)) {
      const kv = item.match(/^(LITS_\w+) = (\d+)$/);
      if (!kv) throw new Error(`gen_ffi: enum ${m[1]}: '${item}' needs an explicit value`);
      members.push([kv[1], Number(kv[2])]);
    }
    out.push({ name: m[1], members });
  }
  return out;
}

/** `LITS_POW_SCALAR` -> `powScalar`, after dropping the prefix all members share. */
function memberKey(name: string, common: string): string {
  const words = name.slice(common.length).toLowerCase().split("_");
  return words[0] + words.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

function commonPrefix(names: string[]): string {
  let p = names[0];
  for (const n of names) {
    while (!n.startsWith(p)) p = p.slice(0, p.lastIndexOf("_", p.length - 2) + 1);
  }
  return names.length > 1 ? p : "LITS_";
}

function banner(header: string): string {
  return `// Generated from native/include/${header} by scripts/gen_ffi.ts: do not edit.\n` +
    "// Change the header, then run `deno task gen:ffi`.\n";
}

/**
 * The ABI version (from `#define <macro> N`) and one object per enum (those
 * `keep` accepts), as declarations.
 */
function codeDecls(
  header: string,
  macro: string,
  name: string,
  keep: (e: EnumDecl) => boolean = () => true,
): string[] {
  const version = header.match(new RegExp(`#define ${macro} (\\d+)`));
  if (!version) throw new Error(`gen_ffi: the header has no ${macro}`);
  const parts = [
    `/** \`${macro}\`: the library must report this one. */`,
    `export const ${name} = ${version[1]};\n`,
  ];
  for (const e of enums(header).filter(keep)) {
    const prefix = commonPrefix(e.members.map(([n]) => n));
    const id = e.name.replace(/^lits_/, "").toUpperCase();
    const body = e.members.map(([n, v]) => `  ${memberKey(n, prefix)}: ${v},`).join("\n");
    parts.push(
      `/** Codes of \`enum ${e.name}\`. */\nexport const ${id} = {\n${body}\n} as const;\n`,
    );
  }
  return parts;
}

/** The text of src/ffi/codes.ts. */
export function codesSource(header: string): string {
  return [
    banner("lits.h"),
    "/**\n * The codes of lits.h's enums and its ABI version.\n *\n * @module\n */\n",
    ...codeDecls(header, "LITS_ABI_VERSION", "ABI_VERSION"),
  ].join("\n");
}

/** The type names of src/ffi/table.ts that a generated table uses. */
const SHORT: Record<string, string> = { pointer: "ptr", buffer: "buf" };

/**
 * The table `name` of the header's functions, and `type`, its opened
 * library's callable functions; `table` is the import path of
 * src/ffi/table.ts.
 */
function tableDecls(header: string, file: string, name: string, type: string, table: string) {
  const used = new Set<string>();
  const entries = prototypes(header).map((p) => {
    const params = p.params.map((t) => SHORT[t] ?? t);
    params.forEach((t) => used.add(t));
    if (p.result === "i32") used.add("status");
    else used.add(SHORT[p.result]);
    const result = p.result === "i32" ? "...status" : `result: ${SHORT[p.result]}`;
    return `  ${p.name}: { parameters: [${params.join(", ")}], ${result}${
      p.optional ? ", optional: true" : ""
    } },`;
  });
  return [
    `import { ${[...used].sort().join(", ")}, type Callable } from "${table}";\n`,
    `/** The symbols of \`${file}\` as Deno FFI declarations. */`,
    `export const ${name} = {\n${entries.join("\n")}\n} as const;\n`,
    `/** The opened library's callable symbols. */`,
    `export type ${type} = Callable<typeof ${name}>;\n`,
  ];
}

/** The text of src/ffi/symbols.ts. */
export function symbolsSource(header: string): string {
  return [
    banner("lits.h"),
    `/**
 * The one \`Deno.dlopen\` symbol table: one entry per function of
 * \`native/include/lits.h\`, in the header's order.
 *
 * Device memory travels as \`"pointer"\`; host memory (shapes, strides, output
 * scalars) as \`"buffer"\` so typed arrays pass without conversion.
 *
 * @module
 */
`,
    ...tableDecls(header, "lits.h", "symbols", "NativeSymbols", "./table.ts"),
  ].join("\n");
}

/** The text of src/dist/symbols.ts. */
export function distSymbolsSource(header: string): string {
  return [
    banner("lits_dist.h"),
    `/**
 * The \`Deno.dlopen\` table of \`native/include/lits_dist.h\`, in the header's
 * order, and its codes.
 *
 * @module
 */
`,
    ...tableDecls(header, "lits_dist.h", "distSymbols", "DistSymbols", "../ffi/table.ts"),
    // src/dist tests a status only against 0 and reads lits_dist_last_error's
    // text, so the status codes are left out (the ops are what it passes).
    ...codeDecls(
      header,
      "LITS_DIST_ABI_VERSION",
      "DIST_ABI_VERSION",
      (e) => e.name !== "lits_dist_status",
    ),
  ].join("\n");
}

/** Formats TypeScript text as `deno fmt` would (the committed files are formatted). */
async function fmt(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--line-width", "100", "--ext", "ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`gen_ffi: deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The generated files' texts, formatted, keyed as OUTPUTS. */
export async function generate(): Promise<Record<keyof typeof OUTPUTS, string>> {
  const lits = await Deno.readTextFile(HEADERS.lits);
  const dist = await Deno.readTextFile(HEADERS.dist);
  return {
    symbols: await fmt(symbolsSource(lits)),
    codes: await fmt(codesSource(lits)),
    distSymbols: await fmt(distSymbolsSource(dist)),
  };
}

if (import.meta.main) {
  const checkOnly = Deno.args.includes("--check");
  const texts = await generate();
  let stale = false;
  for (const key of Object.keys(OUTPUTS) as (keyof typeof OUTPUTS)[]) {
    const path = OUTPUTS[key];
    const old = await Deno.readTextFile(path).catch(() => "");
    if (old === texts[key]) continue;
    if (checkOnly) {
      console.error(`${path.pathname} is stale: run deno task gen:ffi`);
      stale = true;
    } else {
      await Deno.writeTextFile(path, texts[key]);
      console.log(`wrote ${path.pathname}`);
    }
  }
  if (stale) Deno.exit(1);
}

/**
 * `deno task doc [NAME]`: the documentation of one public symbol, by the name
 * a user writes (`nn.Conv2d`, `optim.AdamW`, `data.DataLoader`,
 * `models.resnet50`, `tensor`). `deno doc --filter nn.Conv2d mod.ts` cannot
 * find it, because `nn` is a namespace re-export (`export * as nn`); this
 * looks the namespace up in mod.ts and asks `deno doc` about its module.
 * Without a name it lists the namespaces and what each exports.
 *
 * @module
 */

const root = new URL("../", import.meta.url);

/** A module's `export * as X from "..."` namespaces and its `export * from "..."` modules. */
function exportsOf(file: URL): { spaces: Map<string, URL>; wildcards: URL[] } {
  const text = Deno.readTextFileSync(file);
  const spaces = new Map<string, URL>();
  for (const m of text.matchAll(/^export \* as (\w+) from "([^"]+)";/gm)) {
    spaces.set(m[1], new URL(m[2], file));
  }
  const wildcards = [...text.matchAll(/^export \* from "([^"]+)";/gm)].map((m) =>
    new URL(m[1], file)
  );
  return { spaces, wildcards };
}

/**
 * The module and the rest of the name to filter on: `nn.functional.relu`
 * follows `nn` in mod.ts, then `functional` in src/layers/mod.ts, and asks
 * about `relu` there; `functional` alone arrives through mod.ts's
 * `export * from`. Null when a namespace part is found nowhere.
 */
function resolve(file: URL, parts: string[], depth = 0): [URL, string] | null {
  if (parts.length === 1 || depth > 8) return [file, parts.join(".")];
  const { spaces, wildcards } = exportsOf(file);
  const next = spaces.get(parts[0]);
  if (next) return resolve(next, parts.slice(1), depth + 1);
  for (const w of wildcards) {
    const found = resolve(w, parts, depth + 1);
    if (found && found[0].href !== w.href) return found;
  }
  return null;
}

async function denoDoc(args: string[]): Promise<number> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["doc", ...args],
    cwd: root.pathname,
    stderr: "null",
  });
  return (await cmd.spawn().status).code;
}

async function main(args: string[]): Promise<number> {
  const spaces = exportsOf(new URL("mod.ts", root)).spaces;
  const name = args[0];
  if (!name || name === "--help") {
    console.log(
      "usage: deno task doc NAME   (e.g. nn.Conv2d, optim.AdamW, data.DataLoader, tensor)",
    );
    console.log("namespaces: " + [...spaces.keys()].join(", "));
    console.log("a whole namespace: deno task doc nn");
    return name ? 0 : 2;
  }
  const mod = new URL("mod.ts", root);
  const whole = spaces.get(name) ?? resolve(mod, [name, ""])?.[0];
  const found = whole && whole.href !== mod.href
    ? [whole, ""] as const
    : resolve(mod, name.split("."));
  const code = found === null ? 1 : await denoDoc(
    found[1] === "" ? [found[0].pathname] : ["--filter", found[1], found[0].pathname],
  );
  if (code !== 0) {
    console.error(
      `doc: no public symbol '${name}'; names are written as in code (nn.Conv2d, ` +
        `functional.relu, nn.init.kaimingNormal_); deno task doc lists the namespaces`,
    );
  }
  return code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

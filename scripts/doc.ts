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

/** `nn` -> `./src/layers/mod.ts`, read from mod.ts's `export * as X from "..."` lines. */
function namespaces(): Map<string, string> {
  const text = Deno.readTextFileSync(new URL("mod.ts", root));
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^export \* as (\w+) from "([^"]+)";/gm)) out.set(m[1], m[2]);
  return out;
}

async function denoDoc(args: string[]): Promise<number> {
  const cmd = new Deno.Command(Deno.execPath(), { args: ["doc", ...args], cwd: root.pathname });
  return (await cmd.spawn().status).code;
}

async function main(args: string[]): Promise<number> {
  const spaces = namespaces();
  const name = args[0];
  if (!name || name === "--help") {
    console.log(
      "usage: deno task doc NAME   (e.g. nn.Conv2d, optim.AdamW, data.DataLoader, tensor)",
    );
    console.log("namespaces: " + [...spaces.keys()].join(", "));
    console.log("a whole namespace: deno task doc nn");
    return name ? 0 : 2;
  }
  const dot = name.indexOf(".");
  const space = dot < 0 ? name : name.slice(0, dot);
  const file = spaces.get(space);
  if (!file) return await denoDoc(["--filter", name, "mod.ts"]);
  return await denoDoc(dot < 0 ? [file] : ["--filter", name.slice(dot + 1), file]);
}

if (import.meta.main) Deno.exit(await main(Deno.args));

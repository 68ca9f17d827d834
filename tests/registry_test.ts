import assert from "node:assert/strict";

// A registry copy of the package: served over HTTP from this checkout, it
// must build the native library from the shipped C sources into a cache
// folder on `init()`, and ask for it (with the command) before that.
Deno.test({
  name: "a registry copy builds the native library into the cache on init()",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = new URL("../", import.meta.url);
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      try {
        return new Response(await Deno.readFile(new URL(`.${path}`, root)));
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
    const cache = await Deno.makeTempDir();
    try {
      const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
      const code = `import { init, zeros } from "${url}";
try { zeros([1]); console.log("unexpected: built"); } catch (e) { console.log("before:", e.message); }
const lib = await init();
console.log("lib:", lib);
console.log("sum:", zeros([3]).add(2).sum().item());`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-lock", code],
        env: { XDG_CACHE_HOME: cache, DENO_DIR: `${cache}/deno` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const err = new TextDecoder().decode(out.stderr);
      assert.match(
        text,
        /before: the native library is not built yet .*build it with: deno run -A http/,
        err,
      );
      assert.match(text, new RegExp(`lib: ${cache}/lits-vision/.*/liblits_cpu\\.so`), err);
      assert.match(text, /sum: 6/, err);
    } finally {
      await server.shutdown();
      await Deno.remove(cache, { recursive: true });
    }
  },
});

/**
 * `LITS_LEAK_CHECK=1`: where tensors that nobody disposed were made. The
 * collector (collector.ts) reports here; with the variable set, each watched
 * tensor remembers the stack of the call that made it, the first collection
 * of an undisposed tensor from each place is printed, and at exit a table
 * lists every place with its count and bytes (collected, and still alive).
 *
 * @module
 */
import type { Lease } from "./collector.ts";

let enabled: boolean | undefined;

/** Whether `LITS_LEAK_CHECK=1` is set (read once; no prompt without env permission). */
export function leakCheckEnabled(): boolean {
  if (enabled === undefined) {
    enabled = false;
    try {
      const perm = Deno.permissions.querySync({ name: "env", variable: "LITS_LEAK_CHECK" });
      enabled = perm.state === "granted" && Deno.env.get("LITS_LEAK_CHECK") === "1";
    } catch {
      enabled = false;
    }
    if (enabled) globalThis.addEventListener("unload", printReport);
  }
  return enabled;
}

interface Site {
  collected: number;
  collectedBytes: number;
}

const sites = new Map<string, Site>();
/** Leases alive now, by the place that made them. */
const alive = new Map<Lease, string>();

/** The caller's stack, without this library's own frames. */
function creationSite(): string {
  const lines = (new Error().stack ?? "").split("\n").slice(1);
  const own = /\/src\/(tensor|layers|optim|data|train|models|eval|io)\//;
  const user = lines.filter((l) => !own.test(l));
  return (user.length > 0 ? user : lines).slice(0, 4).map((l) => l.trim()).join("\n    ");
}

/** @internal a tensor is watched from now on. */
export function noteCreated(lease: Lease): void {
  alive.set(lease, creationSite());
}

/** @internal its owner disposed it (or took it back): not a leak. */
export function noteDisposed(lease: Lease): void {
  alive.delete(lease);
}

/** @internal the collector freed it: nobody disposed it. */
export function noteCollected(lease: Lease): void {
  const where = alive.get(lease) ?? "(unknown)";
  alive.delete(lease);
  let site = sites.get(where);
  if (site === undefined) {
    site = { collected: 0, collectedBytes: 0 };
    sites.set(where, site);
    console.error(
      `lits leak check: the collector freed tensor ${lease.what} (${lease.bytes} bytes) ` +
        `that nobody disposed, made at\n    ${where}`,
    );
  }
  site.collected++;
  site.collectedBytes += lease.bytes;
}

/** @internal the table printed at exit. */
export function leakReport(): string {
  const still = new Map<string, { n: number; bytes: number }>();
  for (const [lease, where] of alive) {
    const s = still.get(where) ?? { n: 0, bytes: 0 };
    s.n++;
    s.bytes += lease.bytes;
    still.set(where, s);
  }
  const out = ["lits leak check: tensors never disposed, by the place that made them"];
  for (const [where, s] of sites) {
    out.push(
      `  ${s.collected} freed by the collector (${s.collectedBytes} bytes), made at\n    ${where}`,
    );
  }
  for (const [where, s] of still) {
    out.push(`  ${s.n} still alive at exit (${s.bytes} bytes), made at\n    ${where}`);
  }
  if (out.length === 1) out.push("  none");
  return out.join("\n");
}

function printReport(): void {
  console.error(leakReport());
}

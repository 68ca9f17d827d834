/**
 * One rank of the killed-rank test: after a first all-reduce, rank 1 kills
 * itself with SIGKILL. Rank 0 then waits in an all-reduce (`wait`) or is
 * busy computing (`busy`) when it happens; either way it must end with an
 * error naming rank 1, not hang.
 */
import { distributed, tensor } from "../mod.ts";

const mode = Deno.args[0] ?? "wait";
distributed.initProcessGroup({ timeout: 600_000 }); // the peer check must act, not the timeout
const rank = distributed.getRank();
distributed.allReduce(tensor([1, 2, 3]));
console.log(`RESULT ${JSON.stringify({ rank, started: true })}`);
if (rank === 1) Deno.kill(Deno.pid, "SIGKILL");
if (mode === "busy") {
  const until = Date.now() + 5000;
  while (Date.now() < until) { /* compute while rank 1 dies */ }
}
distributed.allReduce(tensor([1, 2, 3]));
console.log(`RESULT ${JSON.stringify({ rank, finished: true })}`);

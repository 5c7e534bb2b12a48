/**
 * Verification worker: checks one slice [from, to] of an org's chain on its own read-only
 * connection and reports its first and last links, so the parent can stitch the slices.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteReadonly } from '../../storage/sqlite/readonly.ts';
import { AUDIT_COLS } from '../../storage/repos/audit.ts';
import { ChainChecker } from './chain.ts';

export interface SliceJob {
  file: string;
  orgId: string;
  from: number;
  to: number;
  checkpointSeqs: number[];
}
export interface SliceResult {
  from: number;
  count: number;
  firstPrev: string | null;
  lastHash: string;
  lastSeq: number;
  bad: { seq: number; reason: string } | null;
  checkpointHashes: [number, string][];
}

const job = workerData as SliceJob;
const db = openSqliteReadonly(job.file);
const checker = new ChainChecker(job.from, null);
const want = new Set(job.checkpointSeqs);
const checkpointHashes: [number, string][] = [];
let bad: SliceResult['bad'] = null;
for (const row of db.iterate(`SELECT ${AUDIT_COLS} FROM audit_events WHERE org_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`, [job.orgId, job.from, job.to])) {
  const why = checker.check(row);
  if (why) {
    bad = { seq: checker.expected, reason: why };
    break;
  }
  if (want.has(Number(row[1]))) checkpointHashes.push([Number(row[1]), checker.prev]);
}
if (!bad && checker.expected !== job.to + 1) bad = { seq: checker.expected, reason: `event ${checker.expected} is missing` };
db.close();
parentPort!.postMessage({ from: job.from, count: checker.count, firstPrev: checker.firstPrev, lastHash: checker.prev, lastSeq: checker.expected - 1, bad, checkpointHashes } satisfies SliceResult);

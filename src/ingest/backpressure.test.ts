/** The ingest gate: a bound on deliveries in flight, freed only when every hold is released. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestGate } from './backpressure.ts';

test('refuses beyond the bound and admits again once a slot is free', () => {
  const seen: number[] = [];
  const gate = new IngestGate(2, (n) => seen.push(n));
  const a = gate.tryAcquire();
  const b = gate.tryAcquire();
  assert.ok(a && b);
  assert.equal(gate.tryAcquire(), undefined);
  a.release();
  assert.equal(gate.inFlight, 1);
  assert.ok(gate.tryAcquire());
  assert.deepEqual(seen, [1, 2, 1, 2]);
});

test('a slot held by a running handler stays taken after its answer closed (client hung up mid-pipeline)', () => {
  const gate = new IngestGate(1);
  const slot = gate.tryAcquire()!;
  slot.hold(); // the handler starts
  slot.release(); // the connection closes
  assert.equal(gate.inFlight, 1);
  assert.equal(gate.tryAcquire(), undefined);
  slot.release(); // the handler returns
  assert.equal(gate.inFlight, 0);
  slot.release(); // a stray release changes nothing
  slot.hold();
  assert.equal(gate.inFlight, 0);
  assert.ok(gate.tryAcquire());
});

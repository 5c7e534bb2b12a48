import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  INGEST_LIMITS,
  MQTT_MAX_PAYLOAD_BYTES,
  NATIVE_MAX_BATCH,
  parseEncounterBatch,
  parseMerakiScanning,
  parseMistWebhook,
  parseMqttMessage,
  parseNativeBatch,
  parseSyslogAssociation,
  receiveMistWebhook,
  type RawObservation,
} from '../ingest/index.ts';
import { emitEncounters, emitMeraki, emitMist, emitMqtt, emitNative, emitSyslog, type SimPayload } from './emit/index.ts';
import { Simulation, type SimTick } from './simulation.ts';

const HOUR = 3_600_000;
const sim = new Simulation({ seed: 23, people: 30, encounters: true });
// 8:30–9:30: arrivals (associations), desks, the first meetings.
const ticks: SimTick[] = [...sim.ticks({ fromMs: sim.options.startMs + 8.5 * HOUR, toMs: sim.options.startMs + 9.5 * HOUR })];
const sightings = ticks.flatMap((t) => t.sightings);
const byKind = (k: string) => sightings.filter((s) => s.kind === k);
const strict = { strict: true } as const;

function noSkips(): { onSkip: (reason: string) => never } {
  return {
    onSkip: (reason: string) => {
      throw new Error(`skipped: ${reason}`);
    },
  };
}

function fits(p: SimPayload, maxBytes: number): void {
  assert.ok(Buffer.byteLength(p.body) <= maxBytes, `${p.format} payload of ${Buffer.byteLength(p.body)} bytes`);
}

test('the stream has every kind of device in it', () => {
  for (const k of ['ble-badge', 'wifi-connected', 'wifi-unconnected', 'sdk']) assert.ok(byKind(k).length > 50, `${k}: ${byKind(k).length}`);
  assert.ok(ticks.some((t) => t.associations.length > 0) && ticks.some((t) => t.encounters.length > 0));
});

test('native batches parse with the native adapter and carry every sighting with its readings', () => {
  const out: RawObservation[] = [];
  for (const p of emitNative(sim, ticks)) {
    fits(p, 1_048_576);
    const obs = parseNativeBatch(p.body);
    assert.ok(obs.length <= NATIVE_MAX_BATCH && obs.length === p.records);
    out.push(...obs);
  }
  assert.equal(out.length, sightings.length);
  out.forEach((o, i) => {
    const s = sightings[i]!;
    assert.equal(o.kind, s.kind);
    assert.equal(o.deviceId, s.deviceId);
    assert.equal(o.atMs, s.atMs);
    assert.equal(o.randomized, s.randomized);
    if (s.kind === 'sdk') assert.deepEqual([o.vendorX, o.vendorY, o.vendorFloorId], [s.estX, s.estY, sim.campus.floors[s.floor]!.key]);
    else assert.deepEqual(o.readings!.map((r) => [r.sensorId, r.rssiDbm]), s.readings.map((r) => [sim.campus.sensors[r.sensor]!.mac, r.rssiDbm]));
    if (s.ap >= 0) assert.equal(o.apMac, sim.campus.sensors[s.ap]!.mac);
  });
  assert.equal(new Set(out.map((o) => o.sourceRecordId)).size, out.length, 'source record ids are unique');
});

test('Mist webhooks verify against their signature and parse into the same devices and positions', () => {
  const secret = 'sim-secret-not-real';
  const counts = new Map<string, number>();
  const assets: RawObservation[] = [];
  const raw: RawObservation[] = [];
  for (const p of emitMist(sim, ticks, { secret })) {
    fits(p, INGEST_LIMITS.maxBodyBytes);
    const r = receiveMistWebhook(p.body, p.headers, { secret, bleKind: 'ble-badge', ...strict, ...noSkips() });
    assert.equal(r.topic, p.topic);
    counts.set(r.topic, (counts.get(r.topic) ?? 0) + r.observations.length);
    if (r.topic === 'location_asset') assets.push(...r.observations);
    if (r.topic === 'discovered-raw-rssi') raw.push(...r.observations);
  }
  assert.equal(counts.get('location_client'), byKind('wifi-connected').length);
  assert.equal(counts.get('location_unclient'), byKind('wifi-unconnected').length);
  assert.equal(counts.get('location_sdk'), byKind('sdk').length);
  assert.equal(counts.get('location_asset'), byKind('ble-badge').length);
  assert.equal(raw.length, byKind('ble-badge').reduce((n, s) => n + s.readings.length, 0));
  const badges = byKind('ble-badge');
  assets.forEach((o, i) => {
    assert.equal(o.kind, 'ble-badge');
    assert.equal(o.deviceId, badges[i]!.deviceId, 'the badge is known by its iBeacon identity');
    assert.deepEqual([o.vendorX, o.vendorY, o.vendorFloorId], [badges[i]!.estX, badges[i]!.estY, sim.campus.floors[badges[i]!.floor]!.vendorFloorId]);
  });
  const sensorIds = new Set(sim.campus.sensors.map((s) => s.vendorId));
  assert.ok(raw.every((o) => sensorIds.has(o.sensorId!)));
  // A tampered body fails the signature check.
  const first = emitMist(sim, ticks, { secret }).next().value as SimPayload;
  assert.throws(() => receiveMistWebhook(first.body.replace('"x":', '"x": '), first.headers, { secret }), { code: 'CAIRN_ERR_SIGNATURE' });
  assert.equal(parseMistWebhook(emitMist(sim, ticks).next().value!.body).observations.length > 0, true);
});

test('Meraki posts pass the secret check and give one observation per location, WiFi and BLE', () => {
  const secret = 'meraki-secret-not-real';
  let wifi = 0, ble = 0, connected = 0;
  for (const p of emitMeraki(sim, ticks, { secret })) {
    fits(p, INGEST_LIMITS.maxBodyBytes);
    const obs = parseMerakiScanning(p.body, { secret, bleKind: 'ble-badge', collect: ['ssid'], ...strict, ...noSkips() });
    for (const o of obs) {
      assert.ok(o.readings && o.readings.length > 0 && o.vendorX !== undefined && o.lat !== undefined);
      if (o.kind === 'ble-badge') {
        ble++;
        assert.ok(o.deviceId.startsWith('ibeacon:'));
      } else {
        wifi++;
        if (o.kind === 'wifi-connected') {
          connected++;
          assert.equal(o.ssid, 'cairn-corp');
        }
      }
    }
  }
  assert.equal(ble, byKind('ble-badge').length);
  assert.equal(wifi, byKind('wifi-connected').length + byKind('wifi-unconnected').length);
  assert.equal(connected, byKind('wifi-connected').length);
  assert.throws(() => parseMerakiScanning(emitMeraki(sim, ticks, { secret }).next().value!.body, { secret: 'other' }), { code: 'CAIRN_ERR_SIGNATURE' });
});

test('syslog lines (Aruba, hostapd) parse into the association events, AP and client intact', () => {
  const events = ticks.flatMap((t) => t.associations);
  assert.ok(events.length > 20);
  for (const flavor of ['aruba', 'hostapd', 'mixed'] as const) {
    const lines = [...emitSyslog(sim, ticks, { flavor })];
    assert.equal(lines.length, events.length);
    lines.forEach((p, i) => {
      const e = events[i]!;
      const a = parseSyslogAssociation(p.body, { referenceMs: e.atMs })!;
      assert.ok(a, p.body);
      assert.equal(a.type, e.type);
      assert.equal(a.deviceId, e.deviceId);
      assert.equal(a.atMs, e.atMs);
      assert.equal(a.apKey, sim.campus.sensors[e.ap]!.vendorId, 'the AP name is the sensor vendor id');
      assert.equal(a.randomized, sim.devices[e.device]!.type === 'phone');
    });
  }
  const noPri = emitSyslog(sim, ticks, { pri: false }).next().value!.body;
  assert.ok(!noPri.startsWith('<') && parseSyslogAssociation(noPri, { referenceMs: events[0]!.atMs }));
});

test('MQTT messages parse on their topic, one report per sensor reading', () => {
  let reports = 0;
  for (const p of emitMqtt(sim, ticks, { org: 'acme' })) {
    fits(p, MQTT_MAX_PAYLOAD_BYTES);
    const obs = parseMqttMessage(p.topic!, p.body, { expectOrg: 'acme', ...strict, ...noSkips() });
    assert.equal(obs.length, p.records);
    reports += obs.length;
    for (const o of obs) assert.ok(o.kind === 'ble-badge' ? o.idType === 'badge' : o.idType === 'mac');
  }
  assert.equal(reports, sightings.reduce((n, s) => n + s.readings.length, 0));
});

test('encounter uploads parse with the encounter adapter, pairs ordered and timed', () => {
  const all = ticks.flatMap((t) => t.encounters);
  let n = 0;
  for (const p of emitEncounters(sim, ticks)) {
    const es = parseEncounterBatch(p.body, strict);
    for (const e of es) {
      assert.ok(e.a < e.b && e.rssiDbm! >= -75 && e.durationMs === 20_000);
      assert.deepEqual(e, all[n]);
      n++;
    }
  }
  assert.equal(n, all.length);
  assert.ok(n > 50, `${n} encounters`);
});

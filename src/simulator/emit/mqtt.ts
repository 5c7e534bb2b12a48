/**
 * Cairn's MQTT sensor format: at each tick, every sensor that heard something publishes on
 * `cairn/<org>/<site>/<sensor>` what it heard, `{sensorId, atMs, reports: [{id, rssi, kind,
 * band}]}`: BLE sensors report badges (by badge id), APs report Wi-Fi clients (by the MAC in
 * use). SDK phones position themselves and are not reported by sensors.
 */
import type { SimBuilding } from '../campus.ts';
import type { Simulation, SimTick } from '../simulation.ts';
import { JSON_HEADERS, type SimPayload } from './types.ts';

export interface MqttEmitOptions {
  /** The org segment of the topic; default `demo`. */
  org?: string;
  /** The site segment for a building; default its key (`b1`). */
  siteOf?: (b: SimBuilding) => string;
  /** Most reports per message; default 1 000 (the adapter's cap). */
  maxReports?: number;
}

interface Report {
  id: string;
  rssi: number;
  kind: string;
  band?: string;
}

/**
 * MQTT messages (topic + payload) for the ticks.
 *
 * @example for (const p of emitMqtt(sim, sim.ticks(), { org: 'acme' })) client.publish(p.topic!, p.body)
 */
export function* emitMqtt(sim: Simulation, ticks: Iterable<SimTick>, opts: MqttEmitOptions = {}): Generator<SimPayload> {
  const org = opts.org ?? 'demo';
  const max = opts.maxReports ?? 1_000;
  for (const tick of ticks) {
    const bySensor = new Map<number, Report[]>();
    for (const s of tick.sightings) {
      for (const r of s.readings) {
        let list = bySensor.get(r.sensor);
        if (!list) bySensor.set(r.sensor, (list = []));
        const rep: Report = { id: s.deviceId, rssi: r.rssiDbm, kind: s.kind };
        if (s.band) rep.band = s.band;
        list.push(rep);
      }
    }
    for (const si of [...bySensor.keys()].sort((a, b) => a - b)) {
      const sensor = sim.campus.sensors[si]!;
      const b = sim.campus.buildings[sensor.building]!;
      const topic = `cairn/${org}/${opts.siteOf ? opts.siteOf(b) : b.key}/${sensor.id}`;
      const reports = bySensor.get(si)!;
      for (let i = 0; i < reports.length; i += max) {
        const part = reports.slice(i, i + max);
        yield { format: 'mqtt', topic, body: JSON.stringify({ sensorId: sensor.id, atMs: tick.atMs, reports: part }), headers: JSON_HEADERS, firstMs: tick.atMs, lastMs: tick.atMs, records: part.length };
      }
    }
  }
}

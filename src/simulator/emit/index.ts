/**
 * The emitters: the same simulated stream rendered in each format Cairn ingests. `emit()` picks
 * one by name; each is also exported for direct use.
 */
import type { Simulation, SimTick } from '../simulation.ts';
import { emitEncounters, type EncounterEmitOptions } from './encounters.ts';
import { emitMeraki, type MerakiEmitOptions } from './meraki.ts';
import { emitMist, type MistEmitOptions } from './mist.ts';
import { emitMqtt, type MqttEmitOptions } from './mqtt.ts';
import { emitNative, type NativeEmitOptions } from './native.ts';
import { emitSyslog, type SyslogEmitOptions } from './syslog.ts';
import type { SimFormat, SimPayload } from './types.ts';

export { SIM_FORMATS, JsonBatcher, type SimFormat, type SimPayload } from './types.ts';
export { emitEncounters, type EncounterEmitOptions } from './encounters.ts';
export { emitMeraki, type MerakiEmitOptions } from './meraki.ts';
export { MIST_SIM_TOPICS, emitMist, type MistEmitOptions, type MistSimTopic } from './mist.ts';
export { emitMqtt, type MqttEmitOptions } from './mqtt.ts';
export { emitNative, nativeObservation, type NativeEmitOptions } from './native.ts';
export { emitSyslog, syslogLine, type SyslogEmitOptions, type SyslogFlavor } from './syslog.ts';

/** Options of every emitter, by format. */
export interface EmitOptions {
  mist?: MistEmitOptions;
  meraki?: MerakiEmitOptions;
  syslog?: SyslogEmitOptions;
  mqtt?: MqttEmitOptions;
  native?: NativeEmitOptions;
  encounters?: EncounterEmitOptions;
}

/**
 * The payloads of one format for the ticks. `encounters` needs a simulation with
 * `encounters: true`.
 *
 * @example for (const p of emit(sim, 'meraki', sim.ticks(), { meraki: { secret } })) …
 */
export function emit(sim: Simulation, format: SimFormat, ticks: Iterable<SimTick>, opts: EmitOptions = {}): Generator<SimPayload> {
  switch (format) {
    case 'mist':
      return emitMist(sim, ticks, opts.mist);
    case 'meraki':
      return emitMeraki(sim, ticks, opts.meraki);
    case 'syslog':
      return emitSyslog(sim, ticks, opts.syslog);
    case 'mqtt':
      return emitMqtt(sim, ticks, opts.mqtt);
    case 'native':
      return emitNative(sim, ticks, opts.native);
    case 'encounters':
      return emitEncounters(sim, ticks, opts.encounters);
  }
}

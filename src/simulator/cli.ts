/**
 * `cairn simulate`: run the simulator and either write its output to a directory (the campus,
 * who carries which device, the payloads of one format as NDJSON or syslog lines per day, and
 * the ground truth: sampled true positions and exact contacts), or POST the payloads to a
 * running Cairn on this machine (native batches, Mist webhooks, Meraki posts, encounter
 * uploads), at a bounded rate and count. Loopback only: simulated data has no business crossing
 * a network. Prints a summary (JSON with --json).
 */
import { Option, type Command } from 'commander';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, utimesSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { out } from '../cli-kit.ts';
import { DAY_MS, toIso } from '../kernel/clock.ts';
import { CairnError } from '../kernel/errors.ts';
import { campusPlan } from './campus.ts';
import { emit, MIST_SIM_TOPICS, SIM_FORMATS, type MistSimTopic, type SimFormat, type SimPayload } from './emit/index.ts';
import type { SyslogFlavor } from './emit/syslog.ts';
import { DEFAULT_START_MS, Simulation, type SimTick } from './simulation.ts';
import { contactJson, deviceRegistry, trueContacts, truePositions, truthSampleJson } from './truth.ts';

/** What `runSimulate` needs; the CLI flags map onto it one to one. */
export interface SimulateRunOptions {
  seed: number;
  people: number;
  days: number;
  buildings?: number;
  floorsPerBuilding?: number;
  format: SimFormat;
  /** Midnight (UTC) of the first day; default 2024-03-04 for files, for --url the weekday at or before `days` days ago. */
  startMs?: number;
  tickMs?: number;
  /** Write here… */
  outDir?: string;
  /** …or POST here (loopback only). */
  url?: string;
  /** Bearer token for the POSTs (a sensor token). */
  token?: string;
  /** Mist webhook secret (signs deliveries) or Meraki shared secret. */
  secret?: string;
  /** Mist topics to emit; default all (`discovered-raw-rssi`, one event per sensor reading, is most of the volume). */
  mistTopics?: MistSimTopic[];
  /** Org segment of MQTT topics. */
  org?: string;
  syslogFlavor?: SyslogFlavor;
  /** POSTs per second at most; default 20. */
  rate?: number;
  /** POSTs at most; default 1 000. */
  maxRequests?: number;
  /** People whose true positions are sampled into truth/positions.ndjson; default 100. */
  truthPeople?: number;
  sampleSeconds?: number;
  contactRadiusM?: number;
  contactMinutes?: number;
}

export interface SimulateSummary {
  seed: number;
  people: number;
  days: number;
  format: SimFormat;
  start: string;
  end: string;
  campus: { buildings: number; floors: number; zones: number; aps: number; bleSensors: number; desks: number };
  devices: Record<string, number>;
  ticks: number;
  sightings: number;
  associations: number;
  encounters: number;
  payloads: number;
  records: number;
  bytes: number;
  contacts?: number;
  truthSamples?: number;
  files?: string[];
  http?: { url: string; sent: number; statuses: Record<string, number>; errors: number; stoppedAtLimit: boolean };
  seconds: number;
}

const HTTP_FORMATS: readonly SimFormat[] = ['native', 'mist', 'meraki', 'encounters'];

function bad(message: string): never {
  throw new CairnError('CAIRN_ERR_VALIDATION', message);
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

/** Writes lines to a file, waiting when the stream is full. */
class LineFile {
  private readonly stream: WriteStream;
  lines = 0;
  /** When set, the file's modification time on close (epoch ms). */
  mtimeMs: number | undefined;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
  }

  async write(line: string): Promise<void> {
    this.lines++;
    if (!this.stream.write(line + '\n')) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
    if (this.mtimeMs !== undefined) utimesSync(this.path, this.mtimeMs / 1000, this.mtimeMs / 1000);
  }
}

function* counted(ticks: Iterable<SimTick>, c: { ticks: number; sightings: number; associations: number; encounters: number }): Generator<SimTick> {
  for (const t of ticks) {
    c.ticks++;
    c.sightings += t.sightings.length;
    c.associations += t.associations.length;
    c.encounters += t.encounters.length;
    yield t;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function writeFiles(sim: Simulation, payloads: Iterable<SimPayload>, o: SimulateRunOptions, dir: string, s: SimulateSummary): Promise<void> {
  mkdirSync(join(dir, 'payloads'), { recursive: true });
  mkdirSync(join(dir, 'truth'), { recursive: true });
  const files: string[] = [];
  const writeJson = async (rel: string, value: unknown) => {
    const f = new LineFile(join(dir, rel));
    await f.write(JSON.stringify(value, null, 1));
    await f.close();
    files.push(rel);
  };
  await writeJson('campus.json', campusPlan(sim.campus));
  await writeJson('devices.json', deviceRegistry(sim));

  let current: LineFile | undefined;
  let currentDay = '';
  for (const p of payloads) {
    const day = toIso(p.firstMs).slice(0, 10);
    if (day !== currentDay) {
      await current?.close();
      const rel = join('payloads', `${o.format}-${day}.${o.format === 'syslog' ? 'log' : 'ndjson'}`);
      current = new LineFile(join(dir, rel));
      files.push(rel);
      currentDay = day;
    }
    s.payloads++;
    s.records += p.records;
    s.bytes += Buffer.byteLength(p.body);
    // RFC 3164 lines carry no year: readers (`cairn ingest`) anchor it on the file's mtime.
    current!.mtimeMs = p.lastMs;
    await current!.write(o.format === 'mqtt' ? JSON.stringify({ topic: p.topic, payload: p.body }) : p.body);
  }
  await current?.close();

  const positions = new LineFile(join(dir, 'truth', 'positions.ndjson'));
  const who = sim.people.slice(0, o.truthPeople ?? 100).map((p) => p.index);
  for (const t of truePositions(sim, { stepMs: (o.sampleSeconds ?? 60) * 1000, people: who })) await positions.write(JSON.stringify(truthSampleJson(sim, t)));
  await positions.close();
  files.push(join('truth', 'positions.ndjson'));
  s.truthSamples = positions.lines;

  // A JSON document, streamed: one contact per line inside the array.
  const contacts = new LineFile(join(dir, 'truth', 'contacts.json'));
  const radiusM = o.contactRadiusM ?? 2;
  const minMinutes = o.contactMinutes ?? 15;
  await contacts.write(`{"radiusM":${radiusM},"minMinutes":${minMinutes},"contacts":[`);
  let n = 0;
  for (const c of trueContacts(sim, { radiusM, minMinutes })) await contacts.write((n++ > 0 ? ',' : '') + JSON.stringify(contactJson(sim, c)));
  await contacts.write(']}');
  await contacts.close();
  files.push(join('truth', 'contacts.json'));
  s.contacts = n;
  s.files = files;
}

async function postAll(payloads: Iterable<SimPayload>, o: SimulateRunOptions, url: URL, s: SimulateSummary): Promise<void> {
  const rate = o.rate ?? 20;
  const max = o.maxRequests ?? 1_000;
  const gapMs = 1000 / rate;
  const http = { url: `${url.origin}${url.pathname}`, sent: 0, statuses: {} as Record<string, number>, errors: 0, stoppedAtLimit: false };
  s.http = http;
  let next = 0;
  let failures = 0;
  for (const p of payloads) {
    if (http.sent >= max) {
      http.stoppedAtLimit = true;
      break;
    }
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    next = Math.max(next, performance.now()) + gapMs;
    const headers: Record<string, string> = { ...p.headers };
    if (o.token) headers['authorization'] = `Bearer ${o.token}`;
    http.sent++;
    s.payloads++;
    s.records += p.records;
    s.bytes += Buffer.byteLength(p.body);
    // Cairn pushes back with 429/503 and Retry-After when it is busy: wait and send the same batch again.
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(url, { method: 'POST', headers, body: p.body, signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        failures = 0;
        if ((res.status === 429 || res.status === 503) && attempt < 5) {
          const after = Number(res.headers.get('retry-after'));
          await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 1000);
          continue;
        }
        http.statuses[res.status] = (http.statuses[res.status] ?? 0) + 1;
      } catch {
        http.errors++;
        if (++failures >= 5) throw new CairnError('CAIRN_ERR_NOT_READY', `Five requests in a row to ${http.url} failed; is Cairn running there?`);
      }
      break;
    }
  }
}

/**
 * Runs a simulation to files or to a local Cairn and returns the summary.
 *
 * @example await runSimulate({ seed: 1, people: 50, days: 1, format: 'mist', outDir: '/tmp/sim' })
 */
export async function runSimulate(o: SimulateRunOptions): Promise<SimulateSummary> {
  const started = performance.now();
  if (!(SIM_FORMATS as readonly string[]).includes(o.format)) bad(`--format must be one of ${SIM_FORMATS.join(', ')}.`);
  if ((o.outDir === undefined) === (o.url === undefined)) bad('Give exactly one of --out DIR and --url URL.');
  let url: URL | undefined;
  if (o.url !== undefined) {
    try {
      url = new URL(o.url);
    } catch {
      bad('--url is not a URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') bad('--url must be http or https.');
    if (!isLoopbackHost(url.hostname)) bad('--url must point at this machine (localhost, 127.0.0.1 or ::1): simulated data stays local.');
    if (!HTTP_FORMATS.includes(o.format)) bad(`--url takes ${HTTP_FORMATS.join(', ')}; write ${o.format} to files with --out.`);
    if (url.pathname === '/' && o.format === 'native') url.pathname = '/api/v1/ingest/observations';
    if (url.pathname === '/' && o.format === 'encounters') url.pathname = '/api/v1/ingest/encounters';
    if (!(Number.isFinite(o.rate ?? 20) && (o.rate ?? 20) > 0 && (o.rate ?? 20) <= 10_000)) bad('--rate must be 1 to 10 000 requests per second.');
    if (!(Number.isInteger(o.maxRequests ?? 1_000) && (o.maxRequests ?? 1_000) >= 1)) bad('--max-requests must be a positive whole number.');
  }
  // Over HTTP the data should be recent: by default the last `days` days before today, moved back
  // to a weekday start (a simulated Sunday is an empty office).
  let startMs = o.startMs ?? DEFAULT_START_MS;
  if (o.startMs === undefined && url) {
    startMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - o.days * DAY_MS;
    while ([0, 6].includes(new Date(startMs).getUTCDay())) startMs -= DAY_MS;
  }
  const sim = new Simulation({
    seed: o.seed,
    people: o.people,
    days: o.days,
    startMs,
    ...(o.buildings !== undefined ? { buildings: o.buildings } : {}),
    ...(o.floorsPerBuilding !== undefined ? { floorsPerBuilding: o.floorsPerBuilding } : {}),
    ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    encounters: o.format === 'encounters',
  });
  const devices: Record<string, number> = { total: sim.devices.length };
  for (const d of sim.devices) devices[d.type] = (devices[d.type] ?? 0) + 1;
  const s: SimulateSummary = {
    seed: sim.options.seed,
    people: o.people,
    days: o.days,
    format: o.format,
    start: toIso(startMs),
    end: toIso(sim.endMs),
    campus: {
      buildings: sim.campus.buildings.length,
      floors: sim.campus.floors.length,
      zones: sim.campus.floors.reduce((n, f) => n + f.zones.length, 0),
      aps: sim.campus.sensors.filter((x) => x.kind === 'ap').length,
      bleSensors: sim.campus.sensors.filter((x) => x.kind === 'ble-sensor').length,
      desks: sim.campus.deskCount,
    },
    devices,
    ticks: 0,
    sightings: 0,
    associations: 0,
    encounters: 0,
    payloads: 0,
    records: 0,
    bytes: 0,
    seconds: 0,
  };
  const payloads = emit(sim, o.format, counted(sim.ticks(), s), {
    mist: { ...(o.secret ? { secret: o.secret } : {}), ...(o.mistTopics ? { topics: o.mistTopics } : {}) },
    meraki: o.secret ? { secret: o.secret } : {},
    // Fuller batches (up to 1 000 observations a minute): fewer requests for the same data.
    native: { windowMs: 60_000 },
    mqtt: { org: o.org ?? 'demo' },
    syslog: { flavor: o.syslogFlavor ?? 'aruba' },
  });
  if (url) await postAll(payloads, o, url, s);
  else await writeFiles(sim, payloads, o, o.outDir!, s);
  s.seconds = Math.round((performance.now() - started) / 100) / 10;
  if (o.outDir) {
    const f = new LineFile(join(o.outDir, 'summary.json'));
    await f.write(JSON.stringify(s, null, 2));
    await f.close();
  }
  return s;
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) bad(`${name} must be a whole number from ${min} to ${max}.`);
  return n;
}

function num(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) bad(`${name} must be a number from ${min} to ${max}.`);
  return n;
}

function dateMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) bad('--start must be a date, YYYY-MM-DD (UTC).');
  return ms;
}

interface Flags {
  seed: string;
  people: string;
  days: string;
  buildings?: string;
  floors?: string;
  format: SimFormat;
  out?: string;
  url?: string;
  token?: string;
  tokenFile?: string;
  secret?: string;
  mistTopics?: string;
  start?: string;
  tickSeconds?: string;
  org: string;
  syslogFlavor: SyslogFlavor;
  rate: string;
  maxRequests: string;
  truthPeople: string;
  sampleSeconds: string;
  contactRadius: string;
  contactMinutes: string;
  json?: boolean;
}

/** Adds `cairn simulate` to the program. */
export function registerSimulateCli(program: Command): Command {
  program
    .command('simulate')
    .description('Simulate a campus (people, badges, phones, laptops, APs, BLE sensors) and write one ingest format plus ground truth to a directory, or POST it to a local Cairn.')
    .option('--seed <n>', 'seed: the same seed gives the same data', '1')
    .option('--people <n>', 'head count', '100')
    .option('--days <n>', 'simulated days', '1')
    .option('--buildings <n>', 'buildings (default: as many as the head count needs)')
    .option('--floors <n>', 'floors per building', '3')
    .addOption(new Option('--format <format>', 'payload format').choices([...SIM_FORMATS]).default('native'))
    .option('--out <dir>', 'write campus.json, devices.json, payloads/, truth/ and summary.json here')
    .option('--url <url>', 'POST to a Cairn on this machine (native, mist, meraki, encounters)')
    .option('--token <token>', 'bearer token for --url (a sensor token)')
    .option('--token-file <file>', 'read the bearer token from a file')
    .option('--secret <secret>', 'Mist webhook secret (signs what --url sends) or Meraki shared secret (in the body)')
    .option('--mist-topics <list>', `Mist topics, comma-separated (default all: ${MIST_SIM_TOPICS.join(', ')})`)
    .option('--start <date>', 'first day, YYYY-MM-DD (default 2024-03-04; with --url, the last days up to today, from a weekday)')
    .option('--tick-seconds <n>', 'simulation step, seconds', '5')
    .option('--org <name>', 'org segment of MQTT topics', 'demo')
    .addOption(new Option('--syslog-flavor <flavor>', 'syslog lines as').choices(['aruba', 'hostapd', 'mixed']).default('aruba'))
    .option('--rate <n>', 'with --url: requests per second at most', '20')
    .option('--max-requests <n>', 'with --url: requests at most', '1000')
    .option('--truth-people <n>', 'people whose true positions are sampled', '100')
    .option('--sample-seconds <n>', 'true-position sampling step, seconds', '60')
    .option('--contact-radius <m>', 'true contacts: distance, metres', '2')
    .option('--contact-minutes <n>', 'true contacts: cumulative minutes per day', '15')
    .option('--json', 'print the summary as JSON')
    .action(async (f: Flags) => {
      const tickSeconds = num('--tick-seconds', f.tickSeconds, 1, 60)!;
      const o: SimulateRunOptions = {
        seed: int('--seed', f.seed, 0, 4_294_967_295)!,
        people: int('--people', f.people, 1, 200_000)!,
        days: int('--days', f.days, 1, 3_660)!,
        format: f.format,
        org: f.org,
        syslogFlavor: f.syslogFlavor,
        rate: num('--rate', f.rate, 0.01, 10_000)!,
        maxRequests: int('--max-requests', f.maxRequests, 1, 100_000_000)!,
        truthPeople: int('--truth-people', f.truthPeople, 0, 200_000)!,
        sampleSeconds: int('--sample-seconds', f.sampleSeconds, 1, 86_400)!,
        contactRadiusM: num('--contact-radius', f.contactRadius, 0.1, 100)!,
        contactMinutes: num('--contact-minutes', f.contactMinutes, 0, 1_440)!,
        tickMs: Math.round(tickSeconds * 1000),
      };
      const buildings = int('--buildings', f.buildings, 1, 200);
      if (buildings !== undefined) o.buildings = buildings;
      const floors = int('--floors', f.floors, 1, 30);
      if (floors !== undefined) o.floorsPerBuilding = floors;
      const start = dateMs(f.start);
      if (start !== undefined) o.startMs = start;
      if (f.out !== undefined) o.outDir = f.out;
      if (f.url !== undefined) o.url = f.url;
      const token = f.tokenFile !== undefined ? readFileSync(f.tokenFile, 'utf8').trim() : f.token;
      if (token !== undefined) o.token = token;
      if (f.secret !== undefined) o.secret = f.secret;
      if (f.mistTopics !== undefined) {
        const topics = f.mistTopics.split(',').map((t) => t.trim());
        const unknown = topics.filter((t) => !(MIST_SIM_TOPICS as readonly string[]).includes(t));
        if (unknown.length > 0 || topics.length === 0) bad(`--mist-topics takes ${MIST_SIM_TOPICS.join(', ')}.`);
        o.mistTopics = topics as MistSimTopic[];
      }
      // Report periods are multiples of the tick: keep the defaults valid for odd ticks.
      if (o.tickMs! !== 5_000 && 10_000 % o.tickMs! !== 0) bad('--tick-seconds must divide 10 (1, 2, 2.5, 5 or 10).');
      const s = await runSimulate(o);
      out(!!f.json, s, () =>
        [
          `simulated ${s.people} people (${s.devices['total']} devices) on ${s.campus.buildings} building(s), ${s.campus.floors} floors, ${s.days} day(s) from ${s.start.slice(0, 10)}`,
          `${s.sightings} sightings, ${s.associations} association events, ${s.encounters} encounters → ${s.payloads} ${s.format} payloads (${s.records} records, ${(s.bytes / 1e6).toFixed(1)} MB)`,
          s.http ? `POSTed ${s.http.sent} to ${s.http.url}: ${Object.entries(s.http.statuses).map(([k, v]) => `${v}× ${k}`).join(', ') || 'no answers'}${s.http.errors ? `, ${s.http.errors} failed` : ''}${s.http.stoppedAtLimit ? ' (stopped at --max-requests)' : ''}` : `wrote ${s.files?.length ?? 0} files to ${f.out}; ${s.contacts} true contacts, ${s.truthSamples} true positions`,
          `${s.seconds} s`,
        ].join('\n'),
      );
    });
  return program;
}

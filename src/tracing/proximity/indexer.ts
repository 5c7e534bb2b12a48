/**
 * The tracing index: what makes a 14-day proximity trace a few hundred row reads instead of a
 * scan of every fix (R-CT-3). `fixes` is append-only with only an (org, time) index on purpose
 * (a device index halved the ingest rate), so the index is derived from it, hour by hour:
 *
 *  - per device and hour a track row: its smoothed minute points (`minutes.ts`, `codec.ts`);
 *  - per floor, square cell of `CELL_METERS` and hour a cell row: every device's points there,
 *    so the devices near the index device are found by reading only the cells around it;
 *  - per org a dictionary of device numbers (keyed pseudonyms, never MACs) and place numbers.
 *
 * An hour is closed (indexed) once it and the smoothing minutes after it are `graceMs` in the
 * past (by the wall clock or by the newest fix, whichever is later). Until then its minutes live
 * in memory (`LiveTracks`), fed after each ingest commit by a batch hook and reloaded from
 * `fixes` after a restart. Fixes that arrive for an hour already closed (backfill, late
 * deliveries) mark it dirty in the ingest transaction; it is rebuilt on the next run. Every trace
 * first brings the org's index up to date, so an answer never misses a stored fix.
 *
 * The index is derived data of class `location`: purged with the fixes, dropped and rebuilt with
 * `rebuild`. One process indexes an org at a time (per-org lock); several Cairn processes
 * indexing one PostgreSQL store concurrently are not supported.
 */
import { HOUR_MS, MINUTE_MS } from '../../kernel/clock.ts';
import type { Core } from '../../privacy/index.ts';
import { ProximityRepo, type CellRow, type Database, type Executor, type FixRow, type TrackRow } from '../../storage/index.ts';
import { CELL_METERS, cellOf, decodeTrack, encodeCell, encodeTrack, type CellPoint } from './codec.ts';
import { LiveTracks } from './live.ts';
import { DEFAULT_TRACK_PARAMS, MinuteAccumulator, smoothTrack, type MinutePoint, type TraceFix, type TrackParams } from './minutes.ts';

export interface ProximityIndexOptions {
  params?: TrackParams;
  /** Time after an hour (and its smoothing minutes) ends before it is closed, ms; default 10 minutes. */
  graceMs?: number;
}

/** A place (floor or zone) of the index by number. */
export interface IndexPlace {
  kind: 'floor' | 'zone';
  id: string;
}

interface OrgState {
  /** Hours before this are in the index (undefined: nothing indexed yet). */
  until: number | undefined;
  /** Fixes before this change an hour that is (being) indexed: they mark it dirty. */
  closing: number;
  /** Newest fix time seen. */
  newestMs: number;
  live: LiveTracks;
  liveState: 'none' | 'loading' | 'ready';
  /** Fixes that arrived while the live hours were being loaded. */
  pending: FixRow[];
  devNums: Map<string, number>;
  devByNum: Map<number, string>;
  nextNum: number | undefined;
  /** The hour each device's dictionary entry was last marked as indexed (marked at most every few hours). */
  touched: Map<number, number>;
  /** Place numbers by floor id and by zone id. */
  floors: Map<string, number>;
  zones: Map<string, number>;
  placeByNum: Map<number, IndexPlace>;
  unsavedPlaces: Set<number>;
  nextPlace: number;
  lock: Promise<unknown>;
}

const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
const DEVICE_CACHE_MAX = 1_000_000;
const TOUCH_EVERY_MS = 6 * HOUR_MS;

/** Fixes read for the previous hour, reused for the next one's margins. */
interface Carry {
  acc: MinuteAccumulator<string> | undefined;
  /** Fixes before this time are in `acc`. */
  readTo: number;
}

/** What building one hour produced, ready to write. */
interface BuiltHour {
  tracks: TrackRow[];
  cells: CellRow[];
  nums: number[];
  newDevices: { num: number; device: string; lastMs: number }[];
}

export class ProximityIndex {
  readonly params: Readonly<TrackParams>;
  private readonly graceMs: number;
  private readonly orgs = new Map<string, OrgState>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly core: Core,
    opts: ProximityIndexOptions = {},
  ) {
    this.params = Object.freeze({ ...DEFAULT_TRACK_PARAMS, ...opts.params });
    this.graceMs = opts.graceMs ?? 10 * MINUTE_MS;
    core.bus.on('org.deleted', ({ orgId }) => void this.orgs.delete(orgId));
    core.bus.on('retention.purged', ({ orgId, dataClass }) => {
      const st = this.orgs.get(orgId);
      if (st && dataClass === 'location') {
        st.devNums.clear();
        st.devByNum.clear();
      }
    });
  }

  private smoothingMs(): number {
    return this.params.smoothingMinutes * MINUTE_MS;
  }

  // ---- per-org state ----------------------------------------------------------------------

  private async state(x: Executor, orgId: string): Promise<OrgState> {
    let st = this.orgs.get(orgId);
    if (st) return st;
    const repo = new ProximityRepo(x);
    const until = await repo.indexedUntil(orgId);
    const places = await repo.listPlaces(orgId);
    // Another call may have loaded it meanwhile.
    st = this.orgs.get(orgId);
    if (st) return st;
    st = {
      until,
      closing: until ?? -Infinity,
      newestMs: -Infinity,
      live: new LiveTracks(this.params, until === undefined ? -Infinity : Math.floor((until - this.smoothingMs()) / MINUTE_MS)),
      liveState: 'none',
      pending: [],
      devNums: new Map(),
      devByNum: new Map(),
      nextNum: undefined,
      touched: new Map(),
      floors: new Map(places.filter((p) => p.kind === 'floor').map((p) => [p.place_id, Number(p.num)])),
      zones: new Map(places.filter((p) => p.kind === 'zone').map((p) => [p.place_id, Number(p.num)])),
      placeByNum: new Map(places.map((p) => [Number(p.num), { kind: p.kind, id: p.place_id }])),
      unsavedPlaces: new Set(),
      nextPlace: places.reduce((m, p) => Math.max(m, Number(p.num)), 0) + 1,
      lock: Promise.resolve(),
    };
    this.orgs.set(orgId, st);
    return st;
  }

  private locked<T>(st: OrgState, fn: () => Promise<T>): Promise<T> {
    const next = st.lock.then(fn, fn);
    st.lock = next.catch(() => undefined);
    return next;
  }

  private placeNum(st: OrgState, kind: 'floor' | 'zone', id: string): number {
    const map = kind === 'floor' ? st.floors : st.zones;
    let n = map.get(id);
    if (n === undefined) {
      n = st.nextPlace++;
      if (n > 65_535) throw new Error('more than 65 535 floors and zones in one org');
      map.set(id, n);
      st.placeByNum.set(n, { kind, id });
      st.unsavedPlaces.add(n);
    }
    return n;
  }

  private traceFix(st: OrgState, f: FixRow): TraceFix {
    return {
      atMs: f.at_ms,
      floor: this.placeNum(st, 'floor', f.floor_id),
      zone: f.zone_id ? this.placeNum(st, 'zone', f.zone_id) : 0,
      xMeters: f.x_m,
      yMeters: f.y_m,
      accuracyMeters: f.accuracy_m,
      association: f.method === 'association',
    };
  }

  // ---- the ingest hook ----------------------------------------------------------------------

  /**
   * Run inside every stored batch's transaction: marks closed hours the batch's fixes change as
   * dirty (in the same transaction), and returns what to do after the commit: take the fixes
   * into the live hours.
   *
   * @example ingest.addBatchHook((x, orgId, _p, _at, fixes) => index.onBatch(x, orgId, fixes))
   */
  async onBatch(x: Executor, orgId: string, fixes: readonly FixRow[]): Promise<(() => void) | undefined> {
    if (fixes.length === 0) return undefined;
    const st = await this.state(x, orgId);
    const w = this.smoothingMs();
    let newest = -Infinity;
    let dirty: Set<number> | undefined;
    for (const f of fixes) {
      if (f.at_ms > newest) newest = f.at_ms;
      if (f.at_ms - w < st.closing) {
        dirty ??= new Set();
        for (let h = floorHour(f.at_ms - w); h <= floorHour(f.at_ms + w); h += HOUR_MS) if (h < st.closing) dirty.add(h);
      }
    }
    if (dirty) await new ProximityRepo(x).markDirty(orgId, [...dirty]);
    return () => {
      if (newest > st.newestMs) st.newestMs = newest;
      if (st.liveState === 'loading') st.pending.push(...fixes);
      else if (st.liveState === 'ready') for (const f of fixes) st.live.add(f.device, this.traceFix(st, f));
    };
  }

  // ---- closing hours ------------------------------------------------------------------------

  /**
   * Bring an org's index up to date: close every hour that is due, rebuild dirty hours, and (with
   * `live`, what traces ask for) load the open hours into memory if this process has not yet.
   * Traces call it first; the background run calls it for every org without `live`, so an org
   * nobody traces costs no memory.
   */
  async catchUp(db: Database, orgId: string, opts: { live?: boolean } = {}): Promise<void> {
    const live = opts.live ?? true;
    const st = await this.state(db, orgId);
    await this.locked(st, async () => {
      const repo = new ProximityRepo(db);
      const now = this.core.clock.nowMs();
      if (st.until === undefined) {
        const first = await repo.firstFixAtOrAfter(orgId, 0);
        if (first === undefined) {
          if (live) await this.loadLive(db, orgId, st);
          return;
        }
        st.until = floorHour(first);
        st.closing = st.until;
      }
      const newest = Math.max(st.newestMs, (await repo.newestFix(orgId)) ?? -Infinity);
      if (newest > st.newestMs) st.newestMs = newest;
      const limit = floorHour(Math.max(now, newest) - this.smoothingMs() - this.graceMs);
      let until: number = st.until;
      // Consecutive hours share the fixes read for their smoothing margins.
      const carry: Carry = { acc: undefined, readTo: -Infinity };
      while (until + HOUR_MS <= limit) {
        const h = until;
        st.closing = Math.max(st.closing, h + HOUR_MS);
        const built = await this.buildHour(db, orgId, st, h, carry);
        let next = h + HOUR_MS;
        if (!built) {
          // Skip the empty stretch up to the next fix.
          const nextFix = await repo.firstFixAtOrAfter(orgId, h + HOUR_MS);
          next = Math.max(h + HOUR_MS, Math.min(limit, nextFix === undefined ? limit : floorHour(nextFix)));
          if (next > h + HOUR_MS) carry.acc = undefined;
          st.closing = Math.max(st.closing, next);
          const n = next;
          await db.tx((x) => new ProximityRepo(x).setIndexedUntil(orgId, n, now));
        } else {
          await this.writeHour(db, orgId, st, h, built, { until: next, nowMs: now });
        }
        st.until = until = next;
        st.live.dropBefore(Math.floor((until - this.smoothingMs()) / MINUTE_MS));
      }
      for (const d of await repo.dirtyHours(orgId, 10_000)) {
        const indexed = d.hour_ms < until;
        const built = indexed ? await this.buildHour(db, orgId, st, d.hour_ms) : undefined;
        await this.writeHour(db, orgId, st, d.hour_ms, built ?? { tracks: [], cells: [], nums: [], newDevices: [] }, { dirtySeq: d.mark_seq, nowMs: now, replace: indexed });
      }
      if (live) await this.loadLive(db, orgId, st);
    });
  }

  /** Drop an org's index and build it again from its stored fixes (after changing track parameters). */
  async rebuild(db: Database, orgId: string): Promise<void> {
    const st = await this.state(db, orgId);
    await this.locked(st, async () => {
      await db.tx((x) => new ProximityRepo(x).dropIndex(orgId));
      this.orgs.delete(orgId);
    });
    await this.catchUp(db, orgId);
  }

  private async loadLive(db: Database, orgId: string, st: OrgState): Promise<void> {
    if (st.liveState !== 'none') return;
    st.liveState = 'loading';
    try {
      const from = st.until === undefined ? 0 : st.until - this.smoothingMs();
      await new ProximityRepo(db).eachFixForIndex(orgId, from, Number.MAX_SAFE_INTEGER, (atMs, device, floorId, x, y, accuracy, method, zoneId) =>
        st.live.add(device, { atMs, floor: this.placeNum(st, 'floor', floorId), zone: zoneId ? this.placeNum(st, 'zone', zoneId) : 0, xMeters: x, yMeters: y, accuracyMeters: accuracy, association: method === 'association' }),
      );
      for (const f of st.pending) st.live.add(f.device, this.traceFix(st, f));
      st.liveState = 'ready';
    } catch (e) {
      st.liveState = 'none';
      throw e;
    } finally {
      st.pending = [];
    }
  }

  /**
   * The hour's rows from its fixes (and the smoothing minutes around it); undefined when it has
   * none. With `carry`, fixes the previous hour already read are taken from it.
   */
  private async buildHour(db: Database, orgId: string, st: OrgState, h: number, carry?: Carry): Promise<BuiltHour | undefined> {
    const w = this.smoothingMs();
    let from = h - w;
    const to = h + HOUR_MS + w;
    let acc: MinuteAccumulator<string>;
    if (carry?.acc && carry.readTo > from && carry.readTo <= to) {
      acc = carry.acc;
      acc.dropBefore(Math.floor(from / MINUTE_MS));
      from = carry.readTo;
    } else {
      acc = new MinuteAccumulator<string>(this.params.minAccuracyMeters);
    }
    await new ProximityRepo(db).eachFixForIndex(orgId, from, to, (atMs, device, floorId, x, y, accuracy, method, zoneId) =>
      acc.addRaw(device, atMs, this.placeNum(st, 'floor', floorId), zoneId ? this.placeNum(st, 'zone', zoneId) : 0, x, y, accuracy, method === 'association'),
    );
    if (carry) {
      carry.acc = acc;
      carry.readTo = to;
    }
    const hourMinute = h / MINUTE_MS;
    const perDevice: { device: string; points: MinutePoint[] }[] = [];
    for (const device of acc.devices()) {
      const pts = smoothTrack(acc.points(device), this.params).filter((p) => p.minute >= hourMinute && p.minute < hourMinute + 60);
      if (pts.length > 0) perDevice.push({ device, points: pts });
    }
    if (perDevice.length === 0) return undefined;
    const nums = await this.numbersFor(db, orgId, st, perDevice.map((d) => d.device));
    const tracks: TrackRow[] = [];
    const cellPoints = new Map<number, Map<number, CellPoint[]>>();
    const newDevices: BuiltHour['newDevices'] = [];
    for (const { device, points } of perDevice) {
      let num = nums.get(device);
      if (num === undefined) {
        num = st.nextNum!++;
        nums.set(device, num);
        newDevices.push({ num, device, lastMs: h + HOUR_MS });
      }
      tracks.push({ device_num: num, hour_ms: h, data: encodeTrack(points, hourMinute) });
      for (const p of points) {
        let byCell = cellPoints.get(p.floor);
        if (!byCell) cellPoints.set(p.floor, (byCell = new Map()));
        const c = cellOf(p.xMeters, p.yMeters);
        let list = byCell.get(c);
        if (!list) byCell.set(c, (list = []));
        list.push({ device: num, minuteOfHour: p.minute - hourMinute, flags: p.flags, xMeters: p.xMeters, yMeters: p.yMeters, accuracyMeters: p.accuracyMeters });
      }
    }
    const cells: CellRow[] = [];
    for (const [floor, byCell] of cellPoints) for (const [cell, pts] of byCell) cells.push({ floor_num: floor, cell, data: encodeCell(pts) });
    return { tracks, cells, nums: [...nums.values()], newDevices };
  }

  /** Device numbers of these pseudonyms that already have one (cache, then the dictionary). */
  private async numbersFor(db: Database, orgId: string, st: OrgState, devices: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const d of devices) {
      const n = st.devNums.get(d);
      if (n === undefined) missing.push(d);
      else out.set(d, n);
    }
    const repo = new ProximityRepo(db);
    if (missing.length > 0) {
      for (const [d, n] of await repo.deviceNums(orgId, missing)) {
        out.set(d, n);
        this.remember(st, d, n);
      }
    }
    st.nextNum ??= (await repo.maxDeviceNum(orgId)) + 1;
    return out;
  }

  private remember(st: OrgState, device: string, num: number): void {
    if (st.devNums.size >= DEVICE_CACHE_MAX) {
      st.devNums.clear();
      st.devByNum.clear();
    }
    st.devNums.set(device, num);
    st.devByNum.set(num, device);
  }

  private async writeHour(db: Database, orgId: string, st: OrgState, h: number, b: BuiltHour, o: { until?: number; dirtySeq?: number; nowMs: number; replace?: boolean }): Promise<void> {
    const places = [...st.unsavedPlaces];
    // The dictionary purge keys on last_ms with an hour's slack and days of retention: marking
    // a device every TOUCH_EVERY_MS is as good as every hour, at a fraction of the writes.
    const touch = b.nums.filter((n) => (st.touched.get(n) ?? -Infinity) < h - TOUCH_EVERY_MS);
    await db.tx(async (x) => {
      const r = new ProximityRepo(x);
      await r.insertPlaces(orgId, places.map((n) => ({ num: n, kind: st.placeByNum.get(n)!.kind, place_id: st.placeByNum.get(n)!.id })));
      await r.insertDevices(orgId, b.newDevices);
      if (o.replace !== false) await r.replaceHour(orgId, h, b.tracks, b.cells);
      await r.touchDevices(orgId, touch, h + HOUR_MS);
      if (o.until !== undefined) await r.setIndexedUntil(orgId, o.until, o.nowMs);
      if (o.dirtySeq !== undefined) await r.clearDirty(orgId, h, o.dirtySeq);
    });
    for (const n of places) st.unsavedPlaces.delete(n);
    if (st.touched.size > DEVICE_CACHE_MAX) st.touched.clear();
    for (const n of touch) st.touched.set(n, h);
    for (const d of b.newDevices) this.remember(st, d.device, d.num);
  }

  // ---- background -----------------------------------------------------------------------------

  /** Bring every org's index up to date (orgs are taken one after another; runs never overlap). */
  async runAll(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (const d of await this.core.directory.list()) {
        try {
          await this.catchUp(this.core.stores.region(d.region), d.org_id, { live: false });
        } catch (e) {
          this.core.log.error({ err: e }, 'proximity index run failed');
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Close due hours every `intervalMs` (unref'd: it never keeps the process alive). */
  start(intervalMs = MINUTE_MS): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => void this.runAll(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  // ---- what traces read ---------------------------------------------------------------------

  /** Where the index ends for an org (hours before it are indexed), after `catchUp`. */
  indexedUntil(orgId: string): number | undefined {
    return this.orgs.get(orgId)?.until;
  }

  /** The device number of a pseudonym, or undefined when the index has never seen it. */
  async deviceNum(db: Database, orgId: string, device: string): Promise<number | undefined> {
    const st = await this.state(db, orgId);
    return (await this.numbersFor(db, orgId, st, [device])).get(device);
  }

  /** Pseudonyms of device numbers (those still in the dictionary). */
  async devicesOf(db: Database, orgId: string, nums: Iterable<number>): Promise<Map<number, string>> {
    const st = await this.state(db, orgId);
    const out = new Map<number, string>();
    const missing: number[] = [];
    for (const n of nums) {
      const d = st.devByNum.get(n);
      if (d === undefined) missing.push(n);
      else out.set(n, d);
    }
    if (missing.length > 0) {
      for (const [n, d] of await new ProximityRepo(db).devicesByNum(orgId, missing)) {
        out.set(n, d);
        this.remember(st, d, n);
      }
    }
    return out;
  }

  /**
   * A device's smoothed minute points in [fromMs, toMs): closed hours from its track rows, the
   * rest from the live hours. `num` is its device number (undefined: not in the index yet).
   */
  async track(db: Database, orgId: string, device: string, num: number | undefined, fromMs: number, toMs: number): Promise<MinutePoint[]> {
    const st = await this.state(db, orgId);
    const until = st.until ?? -Infinity;
    const fromMinute = Math.floor(fromMs / MINUTE_MS);
    const toMinute = Math.ceil(toMs / MINUTE_MS);
    const out: MinutePoint[] = [];
    if (num !== undefined && fromMs < until) {
      for (const r of await new ProximityRepo(db).tracksOf(orgId, num, floorHour(fromMs), Math.min(until, toMs))) decodeTrack(r.data, Number(r.hour_ms) / MINUTE_MS, out);
    }
    const liveFrom = Math.max(fromMinute, Math.floor(until / MINUTE_MS));
    if (toMinute > liveFrom) for (const p of st.live.points(device, liveFrom)) if (p.minute < toMinute) out.push(p);
    return out.filter((p) => p.minute >= fromMinute && p.minute < toMinute);
  }

  /** These cells of one floor-hour (those that hold points). */
  cells(db: Database, orgId: string, floor: number, hourMs: number, cells: readonly number[]): Promise<{ cell: number; data: Buffer }[]> {
    return new ProximityRepo(db).cellsOf(orgId, floor, hourMs, cells);
  }

  /** Live devices' points of one minute (at or after `indexedUntil`) that may be within `reachMeters` of (x, y) on `floor`. */
  liveNear(orgId: string, minute: number, floor: number, x: number, y: number, reachMeters: number): readonly { device: string; point: MinutePoint }[] {
    return this.orgs.get(orgId)?.live.near(minute, floor, x, y, reachMeters) ?? [];
  }

  /** The floor or zone a place number stands for. */
  place(orgId: string, num: number): IndexPlace | undefined {
    return this.orgs.get(orgId)?.placeByNum.get(num);
  }

  /** Side of the index's cells, metres. */
  get cellMeters(): number {
    return CELL_METERS;
  }
}

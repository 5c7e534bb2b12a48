/**
 * The subject-data registry (R-PRIV-4): every module that stores data about people registers a
 * handler here at start-up (as it registers retention purgers), so a data-subject request reaches
 * every table without the privacy core importing any module. It also holds, per org, the set of
 * device pseudonyms whose processing is restricted: ingest asks it for every observation, so the
 * check is one hash-set lookup, and it is reloaded from the stores when a restriction changes
 * (and every minute in a server, for changes made by the CLI in another process).
 */
import { RightsRepo, type Executor, type Stores } from '../../storage/index.ts';
import type { DeviceProof, SubjectDataHandler } from './types.ts';

const EMPTY: ReadonlySet<string> = new Set();

export class SubjectRegistry {
  private readonly handlers: SubjectDataHandler[] = [];
  private readonly restricted = new Map<string, Set<string>>();
  private proof: DeviceProof | undefined;
  private timer: NodeJS.Timeout | undefined;

  /**
   * Add a module's handler; a handler with the same id is replaced (a service built twice on one
   * core registers once).
   * @example core.subjects.register({ id: 'location.fixes', dataClass: 'location', info, export, erase })
   */
  register(h: SubjectDataHandler): void {
    const i = this.handlers.findIndex((x) => x.id === h.id);
    if (i >= 0) this.handlers[i] = h;
    else this.handlers.push(h);
  }

  /** Every handler, in registration order. */
  list(): readonly SubjectDataHandler[] {
    return this.handlers;
  }

  /** The consent portal's proof that a device went through it (MAC requests are verified with it). */
  setDeviceProof(p: DeviceProof): void {
    this.proof = p;
  }

  get deviceProof(): DeviceProof | undefined {
    return this.proof;
  }

  /**
   * The org's restricted device pseudonyms, for hot paths: `restricted(orgId).has(device)` costs one
   * hash lookup; an org without restrictions gets a shared empty set.
   */
  restrictedDevices(orgId: string): ReadonlySet<string> {
    return this.restricted.get(orgId) ?? EMPTY;
  }

  /** Whether processing of this device is restricted (R-PRIV-4 restriction or objection). */
  isRestricted(orgId: string, device: string): boolean {
    return this.restricted.get(orgId)?.has(device) ?? false;
  }

  /** Reload one org's set from its store (after a restriction was added, lifted or erased). */
  async reloadOrg(x: Executor, orgId: string): Promise<void> {
    const devices = await new RightsRepo(x).restrictionsOf(orgId);
    if (devices.length === 0) this.restricted.delete(orgId);
    else this.restricted.set(orgId, new Set(devices));
  }

  /** Load every org's restrictions from every region store (at start-up and periodically). */
  async load(stores: Stores): Promise<void> {
    const next = new Map<string, Set<string>>();
    for (const r of stores.regions) {
      for (const row of await new RightsRepo(stores.region(r)).allRestrictions()) {
        let s = next.get(row.org_id);
        if (!s) next.set(row.org_id, (s = new Set()));
        s.add(row.device);
      }
    }
    this.restricted.clear();
    for (const [k, v] of next) this.restricted.set(k, v);
  }

  /** Reload every `intervalMs` (unref'd), so a restriction made by another process applies here too. */
  startRefresh(stores: Stores, intervalMs: number, onError: (e: unknown) => void): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => this.load(stores).catch(onError), intervalMs);
    this.timer.unref();
  }

  stopRefresh(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Forget an org (deleted). */
  forgetOrg(orgId: string): void {
    this.restricted.delete(orgId);
  }
}

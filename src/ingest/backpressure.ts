/**
 * Back-pressure for the HTTP ingest endpoints (native batches, Mist and Meraki webhooks).
 *
 * A delivery takes a slot as soon as its headers arrive, before its body is read, and gives it
 * back only when both its answer has gone (or its connection dropped) and its pipeline run has
 * finished: a client that hangs up mid-pipeline does not free room for more work. When every slot
 * is taken the delivery is answered at once with 503 `CAIRN_ERR_INGEST_BACKPRESSURE` and
 * `Retry-After`, without reading its body; senders keep the batch and send it again (re-delivery
 * is idempotent). So memory held by ingest is bounded by `maxInFlight × ingestBodyLimitBytes`
 * plus the parsed batches, and nothing accepted is ever dropped.
 */

/** One admitted delivery. `release()` is called once per `hold()`, plus once for the admission. */
export interface IngestSlot {
  /** Keep the slot while some work of this delivery runs. */
  hold(): void;
  /** Give back one hold; the slot is free when none is left. Extra calls are ignored. */
  release(): void;
}

/**
 * Counts deliveries in flight and refuses beyond a bound.
 *
 * @example
 * const gate = new IngestGate(8);
 * const slot = gate.tryAcquire();
 * if (!slot) throw new CairnError('CAIRN_ERR_INGEST_BACKPRESSURE');
 * res.once('close', () => slot.release());
 */
export class IngestGate {
  private n = 0;

  /**
   * @param maxInFlight deliveries admitted at once (config `ingestMaxInFlight`)
   * @param onChange told the new count after every change (the `cairn_ingest_in_flight` gauge)
   */
  constructor(
    readonly maxInFlight: number,
    private readonly onChange?: (inFlight: number) => void,
  ) {}

  /** Deliveries admitted and not yet finished. */
  get inFlight(): number {
    return this.n;
  }

  /** A slot with one hold, or undefined when `maxInFlight` deliveries are in flight. */
  tryAcquire(): IngestSlot | undefined {
    if (this.n >= this.maxInFlight) return undefined;
    this.n++;
    this.onChange?.(this.n);
    let holds = 1;
    return {
      hold: () => {
        if (holds > 0) holds++;
      },
      release: () => {
        if (holds === 0) return;
        if (--holds === 0) {
          this.n--;
          this.onChange?.(this.n);
        }
      },
    };
  }
}

/**
 * A small bounded cache with per-entry expiry, for per-identity authorization state. Pure: the caller passes the
 * clock reading (`now`, milliseconds) to every call. Entries are never shared across keys, and a key always names
 * one identity, so one caller's grants can never answer for another.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  /**
   * @param maxEntries most entries kept; the least recently used one is evicted first
   */
  public constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive whole number, got ${maxEntries}`);
  }

  /** The value for `key` if present and not expired at `now` (an expired entry is removed). */
  public get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (!(now < entry.expiresAt)) {
      this.entries.delete(key);
      return undefined;
    }
    // Refresh recency.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` until `expiresAt` (exclusive); nothing is stored when `expiresAt` is not after `now`. */
  public set(key: string, value: V, expiresAt: number, now: number): void {
    this.entries.delete(key);
    if (!(expiresAt > now) || !Number.isFinite(expiresAt)) return;
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Removes one entry. */
  public delete(key: string): void {
    this.entries.delete(key);
  }

  /** Number of entries held (expired ones included until they are read or evicted). */
  public get size(): number {
    return this.entries.size;
  }
}

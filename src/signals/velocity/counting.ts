/** How the velocity source counts: in memory (memory-source.ts) or in a Store (store-source.ts). */
import type { SignalContext } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';

/** Neither way ever throws or rejects. */
export interface Counting {
  /** Counts one check (`otp`: a code is sent, so its block's conversion counts too); sets `ctx.velocity`. */
  count(ctx: SignalContext, otp: boolean): readonly Signal[] | Promise<readonly Signal[]>;
  /** One verification for the number's block. */
  verified(number: string): void | Promise<void>;
  /** Forgets every count (the core's `close()`). */
  clear?(): void;
}

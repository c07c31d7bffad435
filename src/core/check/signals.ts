/** Runs a route's signal sources for one check: synchronously when every source answers at once. */
import type { SignalContext, SignalSource } from '../signal-source.js';
import type { Signal } from '../signals.js';

/** Called when a source broke its contract and threw; the check goes on without that source's signals. */
export type OnSourceError = (source: SignalSource, error: unknown) => void;

/** Appends a source's signals to `into`, without repeating one that is already there. */
function add(into: Signal[], found: readonly Signal[]): void {
  // Indexed: an iterator over a source's frozen list allocated its results on every check (about 160 B a cold check).
  for (let i = 0; i < found.length; i++) if (!into.includes(found[i]!)) into.push(found[i]!);
}

/**
 * The signals present: those the provider's lookup carried (`given`, copied: a lookup shared by concurrent checks
 * must not share one array among their decisions), then each source's, in the route's order. A promise only when
 * a source returned one.
 */
export function collectSignals(
  sources: readonly SignalSource[],
  ctx: SignalContext,
  given: readonly Signal[] | undefined,
  onError: OnSourceError,
): Signal[] | Promise<Signal[]> {
  const signals: Signal[] = given ? [...given] : [];
  let pending: Array<readonly Signal[] | Promise<readonly Signal[]>> | undefined;
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i]!;
    let found: readonly Signal[] | Promise<readonly Signal[]>;
    try {
      found = source.evaluate(ctx);
    } catch (error) {
      onError(source, error);
      continue;
    }
    if (pending) pending.push(guard(source, found, onError));
    else if (found instanceof Promise) pending = [guard(source, found, onError)];
    else add(signals, found);
  }
  if (!pending) return signals;
  // Sources after the first asynchronous one are added in the route's order, once all have answered.
  return Promise.all(pending).then((all) => {
    for (const found of all) add(signals, found);
    return signals;
  });
}

function guard(
  source: SignalSource,
  found: readonly Signal[] | Promise<readonly Signal[]>,
  onError: OnSourceError,
): readonly Signal[] | Promise<readonly Signal[]> {
  if (!(found instanceof Promise)) return found;
  return found.catch((error: unknown) => {
    onError(source, error);
    return [];
  });
}

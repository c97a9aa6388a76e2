// The safety net's other half. Tensors nobody disposed are released by a FinalizationRegistry
// (tensor.ts), but its callbacks run as event-loop tasks: a training loop whose only `await` is a
// CPU read-back (a resolved promise, a microtask) would never let them run, and memory would grow
// without bound. Read-backs therefore yield one macrotask when many handles were created since
// the last yield, or when enough time has passed: a few microseconds per step, bounded memory.
// Small tensors put little pressure on the garbage collector, so undisposed handles can pile up
// in the old generation unseen: when many accumulated, Node's collector is asked to run once
// (through V8's own flag; browsers collect on their own schedule).
import { memory } from './backend.js';

type Collect = () => void;
let collect: Collect | null | undefined;

/** Node's `gc`, made available once; null where there is none (browsers). */
async function collector(): Promise<Collect | null> {
  if (collect !== undefined) return collect;
  collect = null;
  try {
    if (typeof process !== 'undefined' && process.versions?.node) {
      // Specifiers in variables: browser bundlers must not try to resolve Node's modules.
      const load = (name: string) => import(/* @vite-ignore */ name);
      const [v8, vm] = await Promise.all([load('node:v8'), load('node:vm')]);
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as Collect;
    }
  } catch {
    collect = null;
  }
  return collect;
}

/** Yield once this many more tensors are live than at the last yield... */
const GROWTH = 1000;
/** ...or once this long has passed (ms). */
const INTERVAL = 250;

let liveAtCollect = 0;
let lastYield = 0;

const macrotask = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );

/** Called after every asynchronous read-back. */
export async function maybeYield(): Promise<void> {
  const now = performance.now();
  const live = memory().tensors;
  // Growth is measured from the last collection, not the last yield: a slow loop that yields on
  // time alone would otherwise never reach the threshold while its handles pile up.
  const grown = live - liveAtCollect >= GROWTH;
  if (!grown && now - lastYield < INTERVAL) {
    if (live < liveAtCollect) liveAtCollect = live;
    return;
  }
  if (grown) (await collector())?.();
  // Finalizer callbacks are tasks of their own: give them two turns of the event loop.
  await macrotask();
  if (grown) await macrotask();
  lastYield = performance.now();
  if (grown) liveAtCollect = memory().tensors;
}

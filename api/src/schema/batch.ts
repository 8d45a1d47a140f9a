/**
 * Loads by key in batches: every `load` called before the next turn of the event loop goes into
 * one call of `fetch`, so a list of fifty jobs asking for the same figure makes one query, not
 * fifty. Nothing is cached between batches: a subscription keeps its context for every event, and
 * each event must read what is current.
 */
export function batchLoader<V>(fetch: (keys: string[]) => Promise<Map<string, V>>): (key: string) => Promise<V | undefined> {
  let current: { keys: Map<string, Promise<V | undefined>>; values: Promise<Map<string, V>> } | null = null;
  return (key) => {
    if (!current) {
      const keys = new Map<string, Promise<V | undefined>>();
      const values = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        current = null;
        return fetch([...keys.keys()]);
      });
      current = { keys, values };
    }
    const { keys, values } = current;
    let value = keys.get(key);
    if (!value) {
      value = values.then((loaded) => loaded.get(key));
      keys.set(key, value);
    }
    return value;
  };
}

/** One value per request (per GraphQL context), made on first use. */
export function perRequest<C extends object, T>(create: (ctx: C) => T): (ctx: C) => T {
  const values = new WeakMap<C, T>();
  return (ctx) => {
    let value = values.get(ctx);
    if (value === undefined) {
      value = create(ctx);
      values.set(ctx, value);
    }
    return value;
  };
}

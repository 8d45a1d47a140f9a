// Pulling run orders from the pools a runner serves (protocol/pools.ts): one consumer per pool, set
// up on first use, and each round's free slots spread over the pools that have orders waiting.
import type { Consumer, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import {
  ensureConsumer,
  ensureLegacyConsumer,
  isRefusal,
  poolConsumer,
  poolsServed,
  RUNNERS_CONSUMER,
  runnersConsumerConfig,
  type Capabilities,
  type ConsumerSettings,
  type Topology,
} from './protocol/index.js';

/** A pool whose consumer the server refuses (a RUNS stream without pooled subjects) is tried again after this long. */
const POOL_RETRY_MS = 30_000;
/**
 * A set-up that got no answer (a timeout while a lost NATS node's streams elect new leaders, no
 * responders, "temporarily unavailable") is tried again after this, doubling up to POOL_RETRY_MS:
 * waiting the full 30 s kept runners idle for half a minute after every node loss.
 */
const POOL_RETRY_FIRST_MS = 1_000;
/** How often the consumer of orders from before pools is looked at for orders. */
const LEGACY_CHECK_MS = 10_000;
/** How long one pull waits for orders; rounds rotate free slots over the pools. */
export const PULL_EXPIRES_MS = 2_000;

/** How many of `free` slots each pool is offered this round: all of them share, starting at `offset`. */
export function sharePulls<T>(free: number, pools: readonly T[], offset: number): [T, number][] {
  const k = pools.length;
  if (k === 0 || free <= 0) return [];
  const plan: [T, number][] = [];
  for (let i = 0; i < Math.min(free, k); i++) {
    const extra = i < free % k ? 1 : 0;
    plan.push([pools[(offset + i) % k]!, Math.floor(free / k) + extra]);
  }
  return plan;
}

/** A pool, or `undefined` for the orders published before pools (the legacy consumer). */
type Pool = string | undefined;

export interface PoolPullerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
  settings: ConsumerSettings;
  capabilities: () => Capabilities;
  /** True once the runner drains or stops: a failed pull then says nothing. */
  stopping: () => boolean;
  /** A fault of the runner's to report (heartbeat lastError and the log). */
  fault: (message: string) => void;
}

const label = (pool: Pool) => pool ?? '(orders from before pools)';

export class PoolPuller {
  // A pool whose consumer cannot be made is left out for a while (retryAfter) while the others are pulled.
  private readonly consumers = new Map<string, Consumer>();
  private readonly failed = new Map<string, { at: number; waitMs: number }>();
  private legacyCheckedAt = -Infinity;
  private legacyHasOrders = false;
  private offset = 0;

  constructor(private readonly deps: PoolPullerDeps) {}

  /** Which pools to pull this round and how many orders from each, `free` in all. */
  async plan(free: number): Promise<[Pool, number][]> {
    let pools = await this.pulled();
    if (pools.length === 0) return [];
    // Several pools: offer the slots to those with orders waiting, so a slot never waits on an empty
    // pool while another has orders (all of them when none says so: an order waiting for
    // redelivery is not counted as pending).
    if (pools.length > 1) {
      const waiting = await this.withOrders(pools);
      if (waiting.length > 0) pools = waiting;
    }
    const plan = sharePulls(free, pools, this.offset);
    this.offset = (this.offset + plan.length) % pools.length;
    return plan;
  }

  /** Fetches up to `max` orders of `pool`, handing each to `accept` as it comes. */
  async pull(pool: Pool, max: number, accept: (m: JsMsg) => void): Promise<void> {
    const consumer = await this.consumerOf(pool);
    if (!consumer) return new Promise<void>((resolve) => setTimeout(resolve, PULL_EXPIRES_MS));
    try {
      const batch = await consumer.fetch({ max_messages: max, expires: PULL_EXPIRES_MS });
      for await (const m of batch) accept(m);
    } catch (error) {
      if (this.deps.stopping()) return;
      this.consumers.delete(pool ?? ''); // set up again next round: the consumer may have been removed
      this.deps.fault(`pulling run orders of pool ${label(pool)}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  /** The pools served, and the orders from before pools while docker is served (what they almost all are). */
  private async pulled(): Promise<Pool[]> {
    const capabilities = this.deps.capabilities();
    const pools: Pool[] = poolsServed(capabilities);
    if (capabilities.environmentTypes.includes('docker') && (await this.legacyBusy())) pools.push(undefined);
    return pools;
  }

  /**
   * The consumer of orders from before pools is empty once every API publishes to pools: looked at
   * every LEGACY_CHECK_MS, it takes a share of the slots only while it holds orders.
   */
  private async legacyBusy(): Promise<boolean> {
    if (Date.now() - this.legacyCheckedAt < LEGACY_CHECK_MS) return this.legacyHasOrders;
    this.legacyCheckedAt = Date.now();
    const consumer = await this.consumerOf(undefined);
    this.legacyHasOrders = consumer ? await consumer.info().then((i) => i.num_pending + i.num_ack_pending > 0, () => false) : false;
    return this.legacyHasOrders;
  }

  private async withOrders(pools: Pool[]): Promise<Pool[]> {
    const pending = await Promise.all(
      pools.map(async (pool) => {
        const consumer = await this.consumerOf(pool);
        return consumer ? consumer.info().then((i) => i.num_pending, () => 0) : 0;
      }),
    );
    return pools.filter((_, i) => pending[i]! > 0);
  }

  private async consumerOf(pool: Pool): Promise<Consumer | null> {
    const { js, jsm, topology, settings } = this.deps;
    const key = pool ?? '';
    const known = this.consumers.get(key);
    if (known) return known;
    const failure = this.failed.get(key);
    if (failure && Date.now() - failure.at < failure.waitMs) return null;
    try {
      if (pool === undefined) await ensureLegacyConsumer(jsm, topology, settings);
      else await ensureConsumer(jsm, topology.streams.runs.name, runnersConsumerConfig(topology, settings, pool));
      const consumer = await js.consumers.get(topology.streams.runs.name, pool === undefined ? RUNNERS_CONSUMER : poolConsumer(pool));
      this.consumers.set(key, consumer);
      this.failed.delete(key);
      return consumer;
    } catch (error) {
      this.failed.set(key, { at: Date.now(), waitMs: retryAfter(error, failure?.waitMs) });
      this.deps.fault(`setting up the consumer of pool ${label(pool)}: ${(error as Error).message}`);
      return null;
    }
  }
}

/** How long a pool whose consumer set-up failed with `error` is left out, after `previousMs` the last time. */
export function retryAfter(error: unknown, previousMs?: number): number {
  if (isRefusal(error)) return POOL_RETRY_MS;
  return Math.min(POOL_RETRY_MS, previousMs === undefined ? POOL_RETRY_FIRST_MS : previousMs * 2);
}

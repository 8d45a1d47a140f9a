import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';

/** What every resolver gets, built per request from the process's shared connections. */
export interface Context {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
}

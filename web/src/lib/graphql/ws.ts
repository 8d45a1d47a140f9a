// The graphql-ws client in Svelte context, for subscriptions that manage their own resume position.
import { getContext, setContext } from 'svelte';
import type { Client } from 'graphql-ws';

const KEY = Symbol('graphql-ws');

export function setWsClient(client: Client): void {
  setContext(KEY, client);
}

export function getWsClient(): Client {
  const client = getContext<Client | undefined>(KEY);
  if (!client) throw new Error('getWsClient() used outside the app layout');
  return client;
}

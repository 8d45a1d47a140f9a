// One urql client per browser tab: queries and mutations over HTTP, subscriptions over graphql-ws on
// the same origin. The socket reconnects forever with backoff; the connection state and a counter of
// reconnects are exposed so pages can show it and re-read what they might have missed.
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { connection } from '../connection.svelte';

export const GRAPHQL_PATH = '/graphql';

function wsUrl(): string {
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export interface Clients {
  urql: Client;
  ws: WsClient;
}

export function createClients(): Clients {
  let everConnected = false;
  const ws = createWsClient({
    url: wsUrl(),
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Infinity,
    // Any close is worth retrying: the API restarting or a proxy dropping the socket.
    shouldRetry: () => true,
    retryWait: async (retries) => {
      const ms = Math.min(1000 * 2 ** retries, 15_000) * (0.75 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    on: {
      connecting: () => connection.set(everConnected ? 'reconnecting' : 'connecting'),
      connected: () => {
        if (everConnected) connection.reconnected();
        everConnected = true;
        connection.set('live');
      },
      closed: () => connection.set(navigator.onLine ? 'reconnecting' : 'offline'),
    },
  });
  window.addEventListener('offline', () => connection.set('offline'));
  const urql = new Client({
    url: GRAPHQL_PATH,
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    // Pages show live data: every query goes to the server, subscriptions keep it current.
    requestPolicy: 'network-only',
    preferGetMethod: false,
    // The API's CSRF prevention wants it on anything a foreign page could send without a preflight;
    // JSON POSTs need none, but a GET or a form-encoded fallback would.
    fetchOptions: { headers: { 'x-graphql-yoga-csrf': '1' } },
  });
  return { urql, ws };
}

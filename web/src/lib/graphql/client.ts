// One urql client per browser tab: queries and mutations over HTTP, subscriptions over graphql-ws on
// the same origin. The socket reconnects forever with backoff; the connection state and a counter of
// reconnects are exposed so pages can show it and re-read what they might have missed.
import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { toLogin } from '../auth/viewer.svelte';
import { connection } from '../connection.svelte';

/** graphql-ws closes a socket whose session ended (or never was) with this; it is not retried. */
const CLOSE_UNAUTHORIZED = 4401;

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
      closed: (event) => {
        // The session ended (signed out elsewhere, expired, revoked): sign in again.
        if ((event as CloseEvent | undefined)?.code === CLOSE_UNAUTHORIZED) return toLogin();
        connection.set(navigator.onLine ? 'reconnecting' : 'offline');
      },
    },
  });
  window.addEventListener('offline', () => connection.set('offline'));
  const urql = new Client({
    url: GRAPHQL_PATH,
    exchanges: [
      // The socket authenticates with the session cookie of its upgrade request (same origin).
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) toLogin();
        },
      }),
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

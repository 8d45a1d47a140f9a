// Once a process is up, an error nobody caught — a request path, a socket, a background task — is
// logged and the process keeps serving: one bad request must not take the platform down for everyone.
// Installed only after start-up succeeded, so a failure while starting still stops the process with
// its message (the start-up code's own handling), instead of leaving a half-started server behind.
export function keepServingOnUncaught(log: (line: string) => void): void {
  process.on('uncaughtException', (error, origin) => {
    log(`uncaught ${origin === 'unhandledRejection' ? 'rejection' : 'exception'} (still serving): ${error?.stack ?? String(error)}`);
  });
  process.on('unhandledRejection', (reason) => {
    log(`unhandled rejection (still serving): ${(reason as Error)?.stack ?? String(reason)}`);
  });
}

// The live connection's state, shown in the header, and a counter that grows on every reconnect so
// views can re-read state they may have missed while the socket was down.
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

class Connection {
  state = $state<ConnectionState>('connecting');
  reconnects = $state(0);

  set(state: ConnectionState) {
    this.state = state;
  }

  reconnected() {
    this.reconnects += 1;
  }
}

export const connection = new Connection();

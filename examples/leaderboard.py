#!/usr/bin/env python3
"""A notebook user's view of the platform: a dataset version's leaderboard, and a job followed live.

Prints the leaderboard of a dataset version (Query.leaderboard) as a table, and/or follows a job's
live updates (Subscription.jobUpdated over graphql-ws) until it ends, then prints its per-task
summary. See docs/api.md ("Notebooks (Python)"); run from anywhere:

  THR_TOKEN=$(cat .data/admin.token) python3 examples/leaderboard.py --api http://127.0.0.1:4000 \\
      [--dataset terminal-bench@2.0 | <dataset version id> | <dataset id>] [--agent a] [--model m] \\
      [--job <job id>] [--token <API token>]

Needs only Debian's python3 and its `requests` (python3-requests): the WebSocket client below is a
minimal RFC 6455 one, enough for graphql-ws (`graphql-transport-ws`), so no `websockets` or `gql`.
In a notebook, import it and call `leaderboard(api, "terminal-bench@2.0")` or `follow_job(api, id)`.

Exit status: 0 when done (a followed job COMPLETED), 1 when the followed job was cancelled, 2 on a
usage or API error.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import sys
import urllib.parse

import requests

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class ApiError(Exception):
    """Something the API refused or could not do, in its words (code: message)."""


class Api:
    """GraphQL over HTTP (queries) and graphql-ws (subscriptions), with an API token."""

    def __init__(self, origin, token, timeout=60):
        self.origin = origin.rstrip("/")
        if self.origin.endswith("/graphql"):
            self.origin = self.origin[: -len("/graphql")]
        self.url = self.origin + "/graphql"
        self.ws_url = re.sub(r"^http", "ws", self.url)
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        # The CSRF header is only needed for non-JSON requests; sending it always keeps copies working.
        self.session.headers.update({"authorization": f"Bearer {token}", "x-graphql-yoga-csrf": "1"})

    def query(self, query, variables=None):
        response = self.session.post(self.url, json={"query": query, "variables": variables or {}}, timeout=self.timeout)
        try:
            body = response.json()
        except ValueError:
            raise ApiError(f"HTTP {response.status_code}: {response.text.strip()[:200]}") from None
        if body.get("errors"):
            raise ApiError("; ".join(f"{e.get('extensions', {}).get('code', 'ERROR')}: {e['message']}" for e in body["errors"]))
        return body["data"]

    def subscribe(self, query, variables=None):
        """Yields each `data` of a subscription until the server completes it (or the caller stops)."""
        ws = WebSocket(self.ws_url, subprotocol="graphql-transport-ws", timeout=self.timeout)
        try:
            # The token goes in connection_init: browsers cannot set headers on a WebSocket.
            ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
            while True:
                message = ws.recv_json()
                if message is None:
                    raise ApiError(closed_reason(ws))
                if message["type"] == "connection_ack":
                    break
                if message["type"] == "ping":
                    ws.send_json({"type": "pong"})
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
            while True:
                message = ws.recv_json()
                if message is None:
                    raise ApiError(closed_reason(ws))
                kind = message["type"]
                if kind == "ping":
                    ws.send_json({"type": "pong", **({"payload": message["payload"]} if "payload" in message else {})})
                elif kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        raise ApiError("; ".join(e["message"] for e in payload["errors"]))
                    yield payload["data"]
                elif kind == "error":
                    raise ApiError("; ".join(e["message"] for e in message["payload"]))
                elif kind == "complete":
                    return
        finally:
            if not ws.closed:
                try:
                    # Stop the subscription, then say goodbye (1000: normal closure).
                    ws.send_json({"id": "1", "type": "complete"})
                    ws.close(1000)
                except OSError:
                    pass
            ws.shutdown()


def closed_reason(ws):
    if ws.close_code == 4401:
        return f"UNAUTHENTICATED: {ws.close_reason or 'the API token is not valid'} (WebSocket closed with 4401)"
    return f"the API closed the WebSocket ({ws.close_code}{': ' + ws.close_reason if ws.close_reason else ''})"


class WebSocket:
    """A client WebSocket (RFC 6455): text frames out (masked), text/ping/close frames in."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, subprotocol=None, timeout=60):
        parts = urllib.parse.urlsplit(url)
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        # No read timeout once open: a quiet job sends nothing for minutes (the server pings us).
        sock.settimeout(None)
        self.sock = sock
        self.buffer = b""
        self.closed = False
        self.close_code = None
        self.close_reason = ""
        key = base64.b64encode(os.urandom(16)).decode()
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines if ":" in h)}
        if not status.startswith("HTTP/1.1 101"):
            raise ApiError(f"the WebSocket upgrade was refused: {status}")
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ApiError("the WebSocket upgrade answered a wrong Sec-WebSocket-Accept")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _read(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])  # FIN: every frame we send is whole
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])  # 0x80: masked, as a client must
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_json(self, value):
        self._send_frame(0x1, json.dumps(value).encode())

    def recv(self):
        """The next text message, or None once the server closed (close_code says why)."""
        message = b""
        while True:
            first, second = self._read(2)
            fin, opcode = first & 0x80, first & 0x0F
            n = second & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:  # close: answer it, then report
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.close_reason = payload[2:].decode("utf-8", "replace")
                if not self.closed:
                    try:
                        self._send_frame(0x8, payload[:2])
                    except OSError:
                        pass
                    self.closed = True
                return None
            if opcode == 0x9:  # ping: pong with the same payload (graphql-ws keeps sockets alive so)
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload  # text (0x1), binary (0x2) or a continuation (0x0)
            if fin:
                return message.decode("utf-8")

    def recv_json(self):
        text = self.recv()
        return None if text is None else json.loads(text)

    def close(self, code=1000):
        self._send_frame(0x8, struct.pack("!H", code))
        self.closed = True

    def shutdown(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- the leaderboard -------------------------------------------------------------------------------

VERSION_FIELDS = "id label taskCount"

LEADERBOARD = """
query Leaderboard($id: ID!, $agent: String, $model: String) {
  leaderboard(datasetVersionId: $id, agent: $agent, model: $model) {
    __typename
    ... on Error { code message }
    ... on QueryLeaderboardSuccess {
      data {
        datasetVersion { label }
        taskCount rule emptyReason computedAt
        rows {
          rank agent model agentVersion complete tasksCovered taskCount trials unfinished
          accuracy standardError ci95Low ci95High passAt1
          costUsd costPerTrial costPerSuccess medianTrialSec infrastructureErrors
        }
      }
    }
  }
}"""


def find_version(api, dataset):
    """The dataset version id for "name@version", a bare dataset name (its latest version) or an id."""
    if UUID.match(dataset):
        return dataset  # a version id, or a dataset's: leaderboard() tells them apart
    if "@" in dataset:
        data = api.query(f"query($label: String!) {{ datasetVersionByLabel(label: $label) {{ {VERSION_FIELDS} }} }}", {"label": dataset})
        if data["datasetVersionByLabel"]:
            return data["datasetVersionByLabel"]["id"]
        raise ApiError(f"NOT_FOUND: no dataset version {dataset}")
    data = api.query(
        f"query($search: String) {{ datasets(search: $search, first: 50) {{ edges {{ node {{ name latestVersion {{ {VERSION_FIELDS} }} }} }} }} }}",
        {"search": dataset},
    )
    for edge in data["datasets"]["edges"]:
        if edge["node"]["name"].lower() == dataset.lower() and edge["node"]["latestVersion"]:
            return edge["node"]["latestVersion"]["id"]
    raise ApiError(f"NOT_FOUND: no dataset named {dataset} (give name@version, a name or an id)")


def fetch_leaderboard(api, dataset, agent=None, model=None):
    version_id = find_version(api, dataset)
    result = api.query(LEADERBOARD, {"id": version_id, "agent": agent, "model": model})["leaderboard"]
    if result["__typename"] == "NotFoundError" and UUID.match(dataset):
        # Not a version id: perhaps a dataset's, which stands for its latest version.
        data = api.query(f"query($id: ID!) {{ dataset(id: $id) {{ latestVersion {{ {VERSION_FIELDS} }} }} }}", {"id": dataset})
        if data["dataset"] and data["dataset"]["latestVersion"]:
            result = api.query(LEADERBOARD, {"id": data["dataset"]["latestVersion"]["id"], "agent": agent, "model": model})["leaderboard"]
    if result["__typename"] != "QueryLeaderboardSuccess":
        raise ApiError(f"{result.get('code', result['__typename'])}: {result.get('message', '')}")
    return result["data"]


def leaderboard(api, dataset, agent=None, model=None, out=sys.stdout):
    """Prints the leaderboard of a dataset version; returns it as the API gave it (for pandas: its rows)."""
    board = fetch_leaderboard(api, dataset, agent, model)
    print(f"leaderboard {board['datasetVersion']['label']}: {board['taskCount']} tasks, computed {board['computedAt']}", file=out)
    print(f"rule: {board['rule']}", file=out)
    if not board["rows"]:
        print(f"no rows: {board['emptyReason'] or 'nothing has run on this dataset version'}", file=out)
        return board
    header = ["rank", "agent", "model", "version", "tasks", "trials", "accuracy ± SE", "95% CI", "pass@1", "cost/trial", "median s", "infra err"]
    rows = []
    for r in board["rows"]:
        rows.append([
            str(r["rank"]) if r["rank"] is not None else "—",
            r["agent"],
            r["model"] or "—",
            r["agentVersion"] or "—",
            f"{r['tasksCovered']}/{r['taskCount']}",
            str(r["trials"]) + (f" (+{r['unfinished']} running)" if r["unfinished"] else ""),
            "—" if r["accuracy"] is None else f"{pct(r['accuracy'])} ± {pct(r['standardError'] or 0)}",
            "—" if r["ci95Low"] is None else f"{pct(r['ci95Low'])}–{pct(r['ci95High'])}",
            "—" if r["passAt1"] is None else pct(r["passAt1"]),
            "—" if r["costPerTrial"] is None else f"${r['costPerTrial']:.4f}",
            "—" if r["medianTrialSec"] is None else f"{r['medianTrialSec']:.1f}",
            str(r["infrastructureErrors"]),
        ])
    complete = [row for row, r in zip(rows, board["rows"]) if r["complete"]]
    incomplete = [row for row, r in zip(rows, board["rows"]) if not r["complete"]]
    caption = [["incomplete (not ranked):"] + [""] * (len(header) - 1)] if incomplete else []
    print_table(header, complete + caption + incomplete, out, left=4)
    return board


def pct(x):
    return f"{x * 100:.1f}%"


# ---- following a job --------------------------------------------------------------------------------

JOB_UPDATED = """
subscription Follow($id: ID!) {
  jobUpdated(id: $id) {
    name status runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed runsErrored runsCancelled
    costUsd budgetUsd stopMessage
  }
}"""

SUMMARY = """
query Summary($id: ID!) {
  job(id: $id) {
    stats { passed scored passRate passRateLow passRateHigh costUsd passAtK { k value } }
    taskStats { task { name } runs passed failed errored cancelled passRate passRateLow passRateHigh meanReward costUsd }
    exportUrls { runsCsv tasksCsv }
  }
}"""

FINAL = {"COMPLETED", "CANCELLED"}


def progress(j):
    budget = "" if j["budgetUsd"] is None else f" of ${j['budgetUsd']:.2f}"
    return (
        f"{j['status']:<10} queued {j['runsQueued']}  running {j['runsClaimed'] + j['runsRunning']}  passed {j['runsPassed']}  "
        f"failed {j['runsFailed']}  errored {j['runsErrored']}  cancelled {j['runsCancelled']}  cost ${j['costUsd']:.4f}{budget}"
    )


def rate(value, low, high):
    if value is None:
        return "—"
    return f"{pct(value)} ({pct(low or 0)}–{pct(high if high is not None else 1)})"


def follow_job(api, job_id, out=sys.stdout):
    """Prints a job's progress as it changes until it ends, then its per-task summary; returns its last state."""
    last = None
    for data in api.subscribe(JOB_UPDATED, {"id": job_id}):
        state = data["jobUpdated"]
        if state is None:
            raise ApiError(f"NOT_FOUND: no job with id {job_id}")
        if last is None:
            print(f"job {job_id} \"{state['name']}\": {state['runsTotal']} runs", file=out)
        line = progress(state)
        if last is None or line != progress(last):
            print(line, file=out, flush=True)
        last = state
        if state["status"] in FINAL:
            break
    if last is None:
        raise ApiError("the subscription ended before the job was sent")
    summary = api.query(SUMMARY, {"id": job_id})["job"]
    print("", file=out)
    print_table(
        ["task", "runs", "passed", "failed", "errored", "cancelled", "pass rate (95% CI)", "mean reward", "cost $"],
        [
            [
                t["task"]["name"], str(t["runs"]), str(t["passed"]), str(t["failed"]), str(t["errored"]), str(t["cancelled"]),
                rate(t["passRate"], t["passRateLow"], t["passRateHigh"]),
                "—" if t["meanReward"] is None else f"{t['meanReward']:.2f}",
                f"{t['costUsd']:.4f}",
            ]
            for t in summary["taskStats"]
        ],
        out,
    )
    s = summary["stats"]
    print("", file=out)
    print(f"job: {s['passed']}/{s['scored']} scored runs passed, {rate(s['passRate'], s['passRateLow'], s['passRateHigh'])}, cost ${s['costUsd']:.4f}", file=out)
    if s["passAtK"]:
        print("pass@k: " + ", ".join(f"pass@{p['k']} {pct(p['value'])}" for p in s["passAtK"]), file=out)
    if last["stopMessage"]:
        print(last["stopMessage"], file=out)
    print(f"runs: {api.origin}{summary['exportUrls']['runsCsv']}   per task: {api.origin}{summary['exportUrls']['tasksCsv']}", file=out)
    return last


def print_table(header, rows, out=sys.stdout, left=1):
    """Columns padded to their widest cell: the first `left` ones left-aligned (names), the rest right (numbers)."""
    def caption(r):
        return len(r) > 1 and all(c == "" for c in r[1:])

    cells = [header] + [r for r in rows if not caption(r)]  # a caption spans the row: no column width
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def fmt(r):
        if caption(r):
            return r[0]
        return "  ".join(c.ljust(widths[i]) if i < left else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip()

    print(fmt(header), file=out)
    print("  ".join("─" * w for w in widths), file=out)
    for r in rows:
        print(fmt(r), file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print a dataset version's leaderboard and/or follow a job live.")
    parser.add_argument("--api", default="http://127.0.0.1:4000", help="the platform's origin (default %(default)s)")
    parser.add_argument("--token", help="an API token (default: THR_TOKEN; first start writes .data/admin.token)")
    parser.add_argument("--dataset", help="name@version, a dataset name (its latest version), or an id")
    parser.add_argument("--agent", help="leaderboard rows of this agent only")
    parser.add_argument("--model", help="leaderboard rows of this model only")
    parser.add_argument("--job", help="a job id to follow until it ends")
    args = parser.parse_args(argv)
    if not args.dataset and not args.job:
        parser.print_usage(sys.stderr)
        print("give --dataset, --job or both", file=sys.stderr)
        return 2
    token = args.token or os.environ.get("THR_TOKEN")
    if not token:
        parser.print_usage(sys.stderr)
        print("an API token is needed: pass --token <token> or set THR_TOKEN (first start writes one to .data/admin.token)", file=sys.stderr)
        return 2
    api = Api(args.api, token)
    try:
        if args.dataset:
            leaderboard(api, args.dataset, args.agent, args.model)
        if args.job:
            if args.dataset:
                print("")
            last = follow_job(api, args.job)
            return 0 if last["status"] == "COMPLETED" else 1
        return 0
    except ApiError as error:
        print(f"leaderboard.py: {error}", file=sys.stderr)
        return 2
    except (OSError, requests.RequestException) as error:
        print(f"leaderboard.py: cannot reach the API at {api.origin}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

// asciicast v2 files (harbor-contract.md §9) made safe to hand to the player: a header line, then one
// JSON array per line. A recording cut off mid-write keeps every complete event; a line that is not
// an event is dropped. The header's idle_time_limit is removed so that player time is recording
// time, which the step sync relies on.
export interface CastHeader {
  version: number;
  width: number;
  height: number;
  /** Unix seconds when recording started, when the recorder wrote it. */
  timestamp: number | null;
}

export interface PreparedCast {
  header: CastHeader;
  /** The cast to play: the header without idle_time_limit, then the complete events. */
  text: string;
  events: number;
  /** Lines dropped: a cut-off last line or lines that were not events. */
  dropped: number;
  /** Seconds of the last event. */
  duration: number;
}

export class CastError extends Error {}

export function prepareCast(raw: string): PreparedCast {
  const lines = raw.split('\n');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  } catch {
    throw new CastError('The recording has no readable header line, so it cannot be played.');
  }
  if (!header || typeof header !== 'object' || header.version !== 2) {
    throw new CastError(`The recording is not asciicast v2 (version ${JSON.stringify(header?.version)}), so it cannot be played.`);
  }
  const width = Number(header.width);
  const height = Number(header.height);
  if (!(width > 0) || !(height > 0)) throw new CastError('The recording header has no terminal size, so it cannot be played.');
  const out: string[] = [];
  let dropped = 0;
  let duration = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      dropped++;
      continue;
    }
    if (!Array.isArray(event) || typeof event[0] !== 'number' || typeof event[1] !== 'string') {
      dropped++;
      continue;
    }
    duration = Math.max(duration, event[0]);
    out.push(line);
  }
  const { idle_time_limit: _idle, ...kept } = header;
  const timestamp = typeof header.timestamp === 'number' && Number.isFinite(header.timestamp) ? header.timestamp : null;
  return {
    header: { version: 2, width, height, timestamp },
    text: [JSON.stringify(kept), ...out].join('\n') + '\n',
    events: out.length,
    dropped,
    duration,
  };
}

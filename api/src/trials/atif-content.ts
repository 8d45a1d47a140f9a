// The free-form parts of an ATIF step as text a browser may show: messages and observations
// (strings or content parts: text, image, and v1.8's audio), and the `extra` objects agents fill as
// they like, bounded. Pure functions.

/** Characters of one `extra` object (step.extra, metrics.extra) kept as JSON; beyond it a note stands in. */
export const MAX_EXTRA_CHARS = 4_000;

/** Cuts long text, saying how much was left out. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… [${(text.length - max).toLocaleString('en-US')} more characters not shown; the whole file is in the trial's files]`;
}

/**
 * A media part named instead of shown: `[image: image/png, screen.png]`, and v1.8's audio with its
 * length when the agent recorded it, `[audio: audio/wav, 3.2 seconds, answer.wav]`. The file is in
 * the trial's files; the browser gets no bytes of it here.
 */
function mediaPart(type: string, source: unknown): string {
  const s = source && typeof source === 'object' ? (source as Record<string, unknown>) : {};
  const facts: string[] = [];
  if (typeof s.media_type === 'string') facts.push(s.media_type);
  else if (typeof s.format === 'string') facts.push(s.format);
  if (typeof s.duration_sec === 'number' && Number.isFinite(s.duration_sec)) facts.push(`${Math.round(s.duration_sec * 10) / 10} seconds`);
  if (typeof s.size_bytes === 'number' && Number.isFinite(s.size_bytes)) facts.push(`${s.size_bytes.toLocaleString('en-US')} bytes`);
  if (typeof s.path === 'string') facts.push(cut(s.path, 300));
  return facts.length ? `[${type}: ${facts.join(', ')}]` : `[${type}]`;
}

/** A message or observation: a string, or content parts of which text parts are shown and media named. */
export function contentText(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const parts = Array.isArray(value) ? value : [value];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if (!part || typeof part !== 'object') return '';
      const p = part as Record<string, unknown>;
      if (typeof p.text === 'string') return p.text;
      if (typeof p.content === 'string') return p.content;
      return typeof p.type === 'string' ? mediaPart(p.type, p.source) : '';
    })
    .filter((text) => text !== '')
    .join('\n');
}

/** reasoning_content as text; some writers put the string "null" where they had none. */
export function reasoningText(value: unknown): string | null {
  const text = contentText(value);
  return text === '' || text.trim() === 'null' ? null : text;
}

/** Strings cut at `max`, lists at 200 items, objects at 100 keys, nesting at 8 levels. */
export function capStrings(value: unknown, max: number, depth = 0): unknown {
  if (typeof value === 'string') return cut(value, max);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => capStrings(v, max, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 100)) out[k] = capStrings(v, max, depth + 1);
  return out;
}

/**
 * An `extra` object (tool exit codes, durations, reasoning tokens, …) kept when small: strings cut,
 * and the whole replaced by a note when its JSON is still longer than MAX_EXTRA_CHARS. Null when
 * absent or not an object.
 */
export function boundedExtra(value: unknown): Record<string, unknown> | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const capped = capStrings(value, 500) as Record<string, unknown>;
  const json = JSON.stringify(capped);
  if (json.length <= MAX_EXTRA_CHARS) return capped;
  return { note: `${json.length.toLocaleString('en-US')} characters of extra data not shown; the whole file is in the trial's files` };
}

// A run's log in the browser: every line received, the view of one section (source) of it, and the
// search over that view. Plain TypeScript, no runes: 100,000 lines must not become 100,000 reactive
// proxies. The viewer bumps a counter after each change and renders only the rows in sight.
import { AnsiUp } from 'ansi_up';

export type LogSource = 'harbor' | 'trial' | 'agent' | 'verifier' | 'runner' | 'platform';
export type Section = 'all' | LogSource;

/** In the order a trial goes through them: Harbor starts, the environment and agent run, the verifier scores. */
export const SOURCES: LogSource[] = ['harbor', 'trial', 'agent', 'verifier', 'runner', 'platform'];

export const SOURCE_LABEL: Record<LogSource, string> = {
  harbor: 'Harbor',
  trial: 'Trial',
  agent: 'Agent',
  verifier: 'Verifier',
  runner: 'Runner',
  platform: 'Platform',
};

export const SOURCE_HINT: Record<LogSource, string> = {
  harbor: "Harbor's own output and job.log",
  trial: 'trial.log: environment setup, agent setup, teardown',
  agent: "The agent's files: pane output, trajectory steps",
  verifier: 'verifier/test-stdout.txt: the tests that score the run',
  runner: 'Messages from the runner that drove Harbor',
  platform: 'What the platform did on its own: an order re-sent after it was lost, a run requeued after its runner vanished',
};

/** A line as the API sends it (LogLine). */
export interface WireLine {
  source: LogSource;
  file?: string | null;
  text: string;
  at: string;
}

export interface Line {
  /** 1-based position in the whole log, whatever the section shown: the permalink #L<n>. */
  n: number;
  source: LogSource;
  file: string | null;
  at: string;
  /** The line as displayed, ANSI codes kept. */
  text: string;
  /** Without ANSI codes: what search looks at. */
  plain: string;
  /** `plain` lower-cased, made on the first search. */
  lower?: string;
  /** SGR codes still in effect from earlier lines of the same file, so colours carry across lines. */
  carry: string;
  /** Rendered HTML without highlights, made the first time the line is shown. */
  html?: string;
}

// Complete escape sequences: CSI (colours, cursor), OSC (titles, hyperlinks), and two-byte escapes.
const ANSI_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
// An ESC that starts no complete sequence: dropped, or ansi_up would hold it for the next line.
const LONE_ESC = /\x1b(?!\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
const SGR = /\x1b\[([0-9;:]*)m/g;
// Highlight markers slipped into the text before ansi_up (which leaves private-use characters alone).
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
const MARKERS = /[\uE000\uE001]/g;
const MAX_CARRY = 8;

function tidy(raw: string): string {
  let text = raw.replace(/\r+$/, '');
  // A carriage return rewrites the line on a terminal (progress bars): show what it ended as.
  const cr = text.lastIndexOf('\r');
  if (cr >= 0) text = text.slice(cr + 1);
  if (text.includes('\x1b')) text = text.replace(LONE_ESC, '');
  return text.replace(MARKERS, '\uFFFD');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

let converter: AnsiUp | undefined;
/** ANSI to HTML through ansi_up, which escapes the text; state is reset after every line. */
function ansiToHtml(text: string): string {
  converter ??= new AnsiUp();
  return converter.ansi_to_html(`${text}\x1b[0m`);
}

/** Positions [start, end) of every case-insensitive occurrence of `needle` (lower-case) in `lower`. */
function occurrences(lower: string, needle: string): [number, number][] {
  const found: [number, number][] = [];
  if (!needle) return found;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) found.push([i, i + needle.length]);
  return found;
}

/** The line's HTML, with every occurrence of `needle` (lower-case) in <mark> when given. */
export function lineHtml(line: Line, needle = ''): string {
  const hits = needle ? occurrences(line.lower ?? line.plain.toLowerCase(), needle) : [];
  if (hits.length === 0) {
    if (line.html === undefined) {
      line.html = !line.carry && !line.text.includes('\x1b') ? escapeHtml(line.text) : ansiToHtml(line.carry + line.text);
    }
    return line.html;
  }
  // Put the markers into the text at the plain-text offsets, stepping over escape sequences.
  const edges: [number, string][] = hits.flatMap(([a, b]) => [[a, MARK_OPEN], [b, MARK_CLOSE]] as [number, string][]);
  let out = '';
  let plainAt = 0;
  let k = 0;
  const text = line.text;
  const sequences = text.includes('\x1b') ? [...text.matchAll(ANSI_SEQUENCE)] : [];
  let s = 0;
  for (let i = 0; i <= text.length; ) {
    if (s < sequences.length && sequences[s]!.index === i) {
      out += sequences[s]![0];
      i += sequences[s]![0].length;
      s++;
      continue;
    }
    while (k < edges.length && edges[k]![0] === plainAt) out += edges[k++]![1];
    if (i === text.length) break;
    out += text[i];
    i++;
    plainAt++;
  }
  const html = !line.carry && sequences.length === 0 ? escapeHtml(out) : ansiToHtml(line.carry + out);
  // Close and reopen <mark> around ansi_up's tags, so a match across colours nests properly.
  let inMark = false;
  return html
    .split(/(<[^>]*>)/)
    .map((part) => {
      if (part.startsWith('<')) return inMark ? `</mark>${part}<mark>` : part;
      return part.replace(MARKERS, (m) => {
        inMark = m === MARK_OPEN;
        return inMark ? '<mark>' : '</mark>';
      });
    })
    .join('');
}

/** The section to open when a run ended badly: where its failure shows, or null. */
export function failingSection(status: string, exceptionType: string | null, exceptionMessage: string | null): LogSource | null {
  if (status === 'FAILED') return 'verifier';
  if (status !== 'ERRORED') return null;
  // Without an exception an errored run had no reward: the verifier was skipped or wrote nothing.
  if (!exceptionType) return 'verifier';
  const type = exceptionType.slice(exceptionType.lastIndexOf('.') + 1);
  if (type === 'RunnerError' || type === 'MaxDeliveriesExceeded') return 'runner';
  if (/^(RewardFile|Verifier|AddTestsDir|DownloadVerifierDir)/.test(type)) return 'verifier';
  if (/^(EnvironmentStartTimeout|Healthcheck|SandboxBuildFailed|AgentSetupTimeout)Error$/.test(type)) return 'trial';
  if (type === 'RuntimeError') return /Agent install failed|Docker compose|Command timed out/.test(exceptionMessage ?? '') ? 'trial' : 'harbor';
  // Configuration mistakes stop Harbor before or around the trial.
  if (type === 'ValueError' || type === 'FileNotFoundError') return 'harbor';
  // Agent failures, provider and model errors.
  return 'agent';
}

/** Every line received, one section's view of it and the matches of a search in that view. */
export class LogModel {
  readonly lines: Line[] = [];
  readonly counts: Record<LogSource, number> = { harbor: 0, trial: 0, agent: 0, verifier: 0, runner: 0, platform: 0 };
  section: Section = 'all';
  /** Indices into `lines` of the lines in the section. */
  view: number[] = [];
  query = '';
  /** Positions in `view` of the lines containing the query. */
  matches: number[] = [];
  /** Longest line seen, in characters: sets the scroll width without measuring. */
  widest = 0;
  #carry = new Map<string, string[]>();

  /** Adds lines; returns how many of them are in the current section. */
  append(wire: WireLine[]): number {
    const needle = this.query.toLowerCase();
    let shown = 0;
    for (const w of wire) {
      const text = tidy(w.text);
      const plain = text.includes('\x1b') ? text.replace(ANSI_SEQUENCE, '') : text;
      const stream = `${w.source}:${w.file ?? ''}`;
      let carried = this.#carry.get(stream);
      const line: Line = {
        n: this.lines.length + 1,
        source: w.source,
        file: w.file ?? null,
        at: w.at,
        text,
        plain,
        carry: carried?.join('') ?? '',
      };
      if (text.includes('\x1b[')) {
        for (const m of text.matchAll(SGR)) {
          const params = m[1] ?? '';
          if (params === '' || params === '0' || params.startsWith('0;')) carried = params.startsWith('0;') ? [m[0]] : [];
          else (carried ??= []).push(m[0]);
        }
        if (carried && carried.length > MAX_CARRY) carried.splice(0, carried.length - MAX_CARRY);
        if (carried?.length) this.#carry.set(stream, carried);
        else this.#carry.delete(stream);
      }
      this.lines.push(line);
      this.counts[w.source] = (this.counts[w.source] ?? 0) + 1;
      if (plain.length > this.widest) this.widest = plain.length;
      if (this.section === 'all' || this.section === w.source) {
        this.view.push(line.n - 1);
        shown++;
        if (needle && this.#matches(line, needle)) this.matches.push(this.view.length - 1);
      }
    }
    return shown;
  }

  setSection(section: Section): void {
    this.section = section;
    this.view = [];
    for (let i = 0; i < this.lines.length; i++) if (section === 'all' || this.lines[i]!.source === section) this.view.push(i);
    this.#search();
  }

  setQuery(query: string): void {
    this.query = query;
    this.#search();
  }

  /** Position in the view of line n (1-based), or -1 when the section hides it. */
  positionOf(n: number): number {
    if (this.section === 'all') return n >= 1 && n <= this.lines.length ? n - 1 : -1;
    // Views are in line order: binary search.
    let lo = 0;
    let hi = this.view.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.view[mid]!;
      if (v === n - 1) return mid;
      if (v < n - 1) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #matches(line: Line, needle: string): boolean {
    line.lower ??= line.plain.toLowerCase();
    return line.lower.includes(needle);
  }

  #search(): void {
    const needle = this.query.toLowerCase();
    this.matches = [];
    if (!needle) return;
    for (let p = 0; p < this.view.length; p++) if (this.#matches(this.lines[this.view[p]!]!, needle)) this.matches.push(p);
  }
}

/** "14:03:07.123" in local time. */
export function clock(iso: string): string {
  const d = new Date(iso);
  const two = (v: number) => String(v).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

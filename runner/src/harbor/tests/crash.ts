// A verifier that died before any test ran: test.sh's own output (stdout and stderr both land in
// verifier/test-stdout.txt) shows why, in the first line that says so. Its reward of 0 says
// nothing about the agent then, so the run's outcome says so (harbor/outcome.ts verifierCrash).

interface Signature {
  pattern: RegExp;
  /** The line to report, from the matching line and the lines after it. */
  line?: (lines: string[], at: number) => string;
  /** The reported line must match this too. */
  only?: RegExp;
}

/** Python's exception line that ends a traceback: the first unindented line after it. */
function endOfTraceback(lines: string[], at: number): string {
  for (let i = at + 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (/^\S/.test(line) && !/^(Traceback|During handling|The above exception)/.test(line)) return line.trim();
  }
  return lines[at]!.trim();
}

/** pytest's "ERROR collecting x.py" block: the file and the first `E   ` line that says why. */
function collectionError(lines: string[], at: number): string {
  const file = /ERROR collecting (\S+)/.exec(lines[at]!)?.[1] ?? '';
  for (let i = at + 1; i < Math.min(lines.length, at + 200); i += 1) {
    const e = /^E\s+(\S.*)$/.exec(lines[i]!);
    if (e) return `ERROR collecting ${file}: ${e[1]!.trim()}`;
  }
  return `ERROR collecting ${file}`;
}

// In order of the file; the first line matching any of them is the cause (a failed download is
// followed by "command not found" for what it would have installed). Only failures of the
// verifier's own setup: a verifier that runs the agent's program sees its tracebacks and missing
// commands too, and those are the agent's (a traceback counts only when it ends in a missing module).
const SIGNATURES: Signature[] = [
  { pattern: /^Fatal Python error: / },
  { pattern: /^Traceback \(most recent call last\):$/, line: endOfTraceback, only: /^(ModuleNotFoundError|ImportError): / },
  { pattern: /^(ModuleNotFoundError|ImportError): / },
  // bash's own words for test.sh's commands: `/tests/test.sh: line 14: uvx: command not found`.
  { pattern: /^\S*test\.sh: (line \d+: )?\S+: (command )?not found$/ },
  { pattern: /^curl: \(\d+\) / },
  { pattern: /^wget: |^ERROR \d{3}: / },
  // uv / uvx and pip failing to get packages; apt-get's "E: …".
  // Case matters: cargo's `error: could not compile` is the agent's code, not a download.
  { pattern: /^error: (Failed to (download|fetch|resolve|install|prepare|build)|Request failed|No solution found)/ },
  { pattern: /^ERROR: (Could not|No matching distribution)/ },
  { pattern: /^E: (Unable to|Failed to|Could not|Package '.*' has no installation candidate)/ },
  { pattern: /_ ERROR collecting \S+ _|^ERROR collecting \S+/, line: collectionError },
  // The -rA summary names a collection error by its file, with no `::test`.
  { pattern: /^ERROR [^\s:]+\.py - / },
  { pattern: /^Interrupted: \d+ errors? during collection/ },
  { pattern: /^=+ no tests ran in / },
];

/** The line that tells why the verifier crashed before running tests, or null when none does. */
export function findVerifierCrash(text: string): string | null {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  for (let i = 0; i < lines.length; i += 1) {
    for (const signature of SIGNATURES) {
      if (!signature.pattern.test(lines[i]!)) continue;
      const line = signature.line ? signature.line(lines, i) : lines[i]!.trim();
      if (signature.only && !signature.only.test(line)) continue;
      return line.replace(/^=+\s*|\s*=+$/g, '').slice(0, 500);
    }
  }
  return null;
}

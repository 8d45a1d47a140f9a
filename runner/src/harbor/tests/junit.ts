// JUnit XML, which most test tools can write (pytest --junitxml, go-junit-report, jest-junit,
// cargo2junit, gradle, maven surefire): <testsuites>? <testsuite>+ (nestable) <testcase classname
// name time> with <failure|error message type>trace</…>, <skipped message/> inside.
import { XMLParser } from 'fast-xml-parser';
import type { TestResults } from '../../protocol/messages.js';
import { bound, type RawCase, secondsToMs, TestReportError } from './report.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Values stay text: a test named 007 must not become 7.
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(name),
});

type Node = Record<string, unknown>;

const asNodes = (value: unknown): Node[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => (typeof v === 'object' && v !== null ? (v as Node) : { '#text': String(v) }));
const attr = (node: Node, key: string): string | undefined => (typeof node[key] === 'string' && node[key] !== '' ? (node[key] as string) : undefined);

/** The message of a <failure>/<error>: its trace (the element's text), led by its message when the trace lacks it. */
function failureText(node: Node): string | undefined {
  const message = attr(node, 'message')?.trim();
  const trace = attr(node, '#text')?.trim();
  if (!trace) return message;
  return message && !trace.includes(message) ? `${message}\n${trace}` : trace;
}

function caseOf(node: Node): RawCase {
  const name = attr(node, 'name') ?? '(unnamed)';
  const classname = attr(node, 'classname');
  const problems = [...asNodes(node.failure), ...asNodes(node.error)];
  const skipped = asNodes(node.skipped);
  const durationMs = secondsToMs(attr(node, 'time'));
  const message = problems.length ? failureText(problems[0]!) : skipped.length ? attr(skipped[0]!, 'message') : undefined;
  return {
    name: classname && !name.startsWith(classname) ? `${classname}.${name}` : name,
    status: problems.length ? 'FAILED' : skipped.length ? 'SKIPPED' : 'PASSED',
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(message ? { message } : {}),
  };
}

function collect(suite: Node, into: RawCase[]): void {
  for (const test of asNodes(suite.testcase)) into.push(caseOf(test));
  for (const inner of asNodes(suite.testsuite)) collect(inner, into);
}

/**
 * The test cases of a JUnit XML document, in document order. null when the XML is well formed but
 * not JUnit (no <testsuites>/<testsuite> root); throws TestReportError when it is not XML.
 */
export function parseJunitCases(text: string): RawCase[] | null {
  let doc: Node;
  try {
    doc = parser.parse(text, true) as Node;
  } catch (error) {
    throw new TestReportError(`it is not well-formed XML (${(error as Error).message.split('\n')[0]})`);
  }
  const root = (doc.testsuites as Node | undefined) ?? (doc.testsuite ? { testsuite: doc.testsuite } : undefined);
  if (!root) return null;
  const cases: RawCase[] = [];
  collect(typeof root === 'object' ? root : {}, cases);
  return cases;
}

/** One JUnit document's results (the reader of index.ts merges several files' cases itself). */
export function parseJunit(text: string): TestResults | null {
  const cases = parseJunitCases(text);
  return cases ? bound('junit', cases, []) : null;
}

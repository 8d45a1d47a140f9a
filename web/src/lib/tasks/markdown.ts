// instruction.md as safe HTML: marked for Markdown, DOMPurify against anything a task author slipped in.
import DOMPurify from 'dompurify';
import { marked } from 'marked';

/** Leading canary lines (`<!-- …canary… -->` or `# …canary…`) and the blank lines after them, as Harbor drops them. */
export function stripCanary(source: string): string {
  const lines = source.split('\n');
  let i = 0;
  while (i < lines.length && /canary/i.test(lines[i]!) && /^\s*(<!--.*-->|#)/.test(lines[i]!)) i++;
  if (i === 0) return source;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  return lines.slice(i).join('\n');
}

export function renderMarkdown(source: string): string {
  const html = marked.parse(stripCanary(source), { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
}

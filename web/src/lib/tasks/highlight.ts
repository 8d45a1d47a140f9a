// Syntax highlighting for the task file viewer: highlight.js's core with only the languages a task
// package holds registered (the full bundle carries ~190 languages, about 1 MB; these eight are a
// small part of that). The API names the language from the file name (Task.fileText.language).
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import ini from 'highlight.js/lib/languages/ini';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import yaml from 'highlight.js/lib/languages/yaml';

// TOML is highlight.js's `ini` grammar (which lists toml among its aliases).
hljs.registerLanguage('toml', ini);
hljs.registerLanguage('dockerfile', dockerfile);
hljs.registerLanguage('python', python);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('yaml', yaml);
hljs.registerLanguage('json', json);
hljs.registerLanguage('markdown', markdown);
hljs.registerLanguage('plaintext', plaintext);

/**
 * The text as HTML with highlight.js's `hljs-*` spans. highlight.js escapes the source itself, so the
 * result is safe to insert: no tag of the file survives as a tag.
 */
export function highlight(text: string, language: string): string {
  const lang = hljs.getLanguage(language) ? language : 'plaintext';
  return hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
}

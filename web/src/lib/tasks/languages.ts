// The languages Task.fileText names, as people call them (the viewer's header).
export const LANGUAGE_LABEL: Record<string, string> = {
  toml: 'TOML',
  dockerfile: 'Dockerfile',
  python: 'Python',
  bash: 'Shell',
  yaml: 'YAML',
  json: 'JSON',
  markdown: 'Markdown',
  plaintext: 'Plain text',
};

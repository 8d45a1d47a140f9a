// Which environment variables a provider key may be handed to Harbor in, and which ones the runner
// owns. One list for the API (DEFAULT_<VAR>, createJob's providerKey.envVar) and the runner (checks
// every order again before Harbor starts), so the two can never disagree.
//
// Why a closed list: the runner builds Harbor's environment from its pass-through variables plus the
// order's secrets. A secret named PATH, PYTHONPATH, LD_PRELOAD or DOCKER_HOST with a value pointing
// into an uploaded task's folder runs uploaded code on the runner host as the runner's user. Only the
// names Harbor's agents read a provider key from are useful anyway (harbor-contract.md §2).

/** Provider prefixes of model strings and the variable Harbor's agents read their key from (harbor-contract.md §2). */
export const PROVIDER_KEY_VARS: Readonly<Record<string, string>> = {
  openrouter: 'OPENROUTER_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  gemini: 'GEMINI_API_KEY',
  google: 'GOOGLE_API_KEY',
  xai: 'XAI_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  groq: 'GROQ_API_KEY',
  mistral: 'MISTRAL_API_KEY',
  together_ai: 'TOGETHER_API_KEY',
  fireworks_ai: 'FIREWORKS_AI_API_KEY',
  azure: 'AZURE_API_KEY',
  huggingface: 'HF_TOKEN',
};

/** Every variable a provider key may be given to Harbor in, sorted for messages. */
export const PROVIDER_ENV_VARS: readonly string[] = [...new Set(Object.values(PROVIDER_KEY_VARS))].sort();

/**
 * Variables the runner copies from its own environment into Harbor's (plus HARBOR_TELEMETRY, which
 * it sets). Listed here so that both sides can say why a secret may never take one of these names.
 */
export const RUNNER_PASSED_THROUGH_ENV: readonly string[] = [
  'PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'DOCKER_HOST', 'DOCKER_CONFIG', 'XDG_RUNTIME_DIR',
];

/** Names the runner sets itself; a secret must not replace them either. */
const RUNNER_OWNED = new Set([...RUNNER_PASSED_THROUGH_ENV, 'HARBOR_TELEMETRY']);
const ALLOWED = new Set(PROVIDER_ENV_VARS);

/**
 * Why `name` may not carry a provider key, or null when it may. The message names the allowed
 * variables, so a caller can pass it on as is.
 */
export function providerEnvVarProblem(name: string): string | null {
  if (ALLOWED.has(name) && !RUNNER_OWNED.has(name)) return null;
  const why = RUNNER_OWNED.has(name) || name.startsWith('HARBOR_')
    ? 'the runner sets it itself and a provider key may never replace it'
    : 'it is not a variable Harbor reads a provider key from';
  return `${JSON.stringify(name)} cannot hold a provider key: ${why}; use one of ${PROVIDER_ENV_VARS.join(', ')}`;
}

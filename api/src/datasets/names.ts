// Dataset names, versions and labels ("terminal-bench@2.0"). Pure: no database.
//
// A name is what people type on a command line and in URLs (Harbor's `-d name@version`), so it is
// kept to letters, digits, '.', '_' and '-'; '@' is never part of a name or a version, which makes
// a label split unambiguously at its '@'.

/** 1 to 100 characters: a letter or digit, then letters, digits, '.', '_' or '-'. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** 1 to 50 characters: a letter or digit, then letters, digits, '.', '_', '+' or '-' ("2.0", "2025-06", "1.0+fix"). */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,49}$/;
export const MAX_NAME = 100;
export const MAX_VERSION = 50;
/** Free text shown on the dataset page; long enough for a paragraph, short enough for a list. */
export const MAX_DESCRIPTION = 2_000;

/** Why a name is refused, in words; null when it is fine. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'name must not be empty';
  if (name.length > MAX_NAME) return `name must be at most ${MAX_NAME} characters, got ${name.length}`;
  if (!NAME_PATTERN.test(name)) {
    return `name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, '.', '_' and '-'`;
  }
  return null;
}

export function versionProblem(version: string): string | null {
  if (version.length === 0) return 'version must not be empty';
  if (version.length > MAX_VERSION) return `version must be at most ${MAX_VERSION} characters, got ${version.length}`;
  if (!VERSION_PATTERN.test(version)) {
    return `version ${JSON.stringify(version)} must start with a letter or digit and hold only letters, digits, '.', '_', '+' and '-'`;
  }
  return null;
}

export function descriptionProblem(description: string | null | undefined): string | null {
  if (description && description.length > MAX_DESCRIPTION) {
    return `description must be at most ${MAX_DESCRIPTION} characters, got ${description.length}`;
  }
  return null;
}

export function label(name: string, version: string): string {
  return `${name}@${version}`;
}

/** "terminal-bench@2.0" -> its parts; null when it is not a label. */
export function parseLabel(text: string): { name: string; version: string } | null {
  const at = text.trim().lastIndexOf('@');
  if (at <= 0) return null;
  const name = text.trim().slice(0, at);
  const version = text.trim().slice(at + 1);
  if (nameProblem(name) || versionProblem(version)) return null;
  return { name, version };
}

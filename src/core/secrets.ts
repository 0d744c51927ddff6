/**
 * Secrets are environment- or file-only, so they never show in `ps`, shell history or `--help`; every
 * secret read is registered, and `redact` keeps them out of logs, errors and JSON.
 */
import {readFileSync} from 'node:fs'
import {configError, ExitCode, MauError} from './errors.js'

/** A secret from NAME, or from the file NAME_FILE points to (a mounted Kubernetes secret); registered for redaction. */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[`${name}_FILE`] ? readSecretFile(env[`${name}_FILE`]!, `${name}_FILE`) : env[name] || undefined
  registerSecret(value)
  return value
}

/** Reads a mounted secret; a trailing newline (as `kubectl create secret --from-file` keeps) is not part of it. */
function readSecretFile(path: string, variable: string): string {
  return readSettingFile(path, variable)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** A file a setting names (a secret, a token, a certificate): an unreadable one is configuration, named with the setting. */
export function readSettingFile(path: string, setting: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw configError(
      `${setting} points to "${path}", which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    )
  }
}

const secrets = new Set<string>()

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value)
}

/** Hides URL passwords and every registered secret in a string. */
export function redact(text: string): string {
  // A user name has no brackets: "mysql://user[:password]@host" in help text is a pattern, not a password.
  let out = text.replace(/(\/\/[^:/@\s[\]]*:)[^@\s]*@/g, '$1***@')
  for (const secret of secrets) out = out.split(secret).join('***')
  return out
}

/**
 * Refuses a URL that holds a password (exit 2): a URL shows in `ps`, in a pod's spec and in shell history.
 * The password is registered first, as written and as decoded, so that the refusal never prints it.
 */
export function refusePasswordInUrl(parsed: URL, url: string, service: string, passwordSettings: string): void {
  if (!parsed.password) return
  registerSecret(parsed.password)
  try {
    registerSecret(decodeURIComponent(parsed.password))
  } catch {
    // Not percent-encoded text: registered as written above.
  }
  throw new MauError(
    `${service} URL "${redact(url)}" holds a password: a URL shows in \`ps\`, in a pod's spec and in shell history, so mau takes passwords only from the environment or a file.`,
    {
      exit: ExitCode.CONFIG,
      code: 'PASSWORD_IN_URL',
      suggestions: [`Remove the password from the URL and set ${passwordSettings}.`],
    },
  )
}

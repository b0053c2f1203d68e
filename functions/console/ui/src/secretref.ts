// isSecretRef tells whether s names where a password lives (env:NAME, file:/absolute/path,
// secretmanager:projects/...) rather than being a password. The server checks it again.
export function isSecretRef(s: string): boolean {
  return /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/\S+|secretmanager:projects\/\S+)$/.test(s)
}

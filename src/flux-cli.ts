/**
 * The programs bootstrap needs on PATH, where to get them, and how to find
 * them without running anything.
 */
import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'

export const FLUX_CHECK_PRE = ['check', '--pre']

/** Where each program comes from, for the "not on PATH" error. */
export const INSTALL_HINTS: Readonly<Record<'flux' | 'kubectl', string>> = {
  flux: 'install flux: https://fluxcd.io/flux/installation/',
  kubectl: 'install kubectl: https://kubernetes.io/docs/tasks/tools/',
}

/** The full path of an executable `name` on `env.PATH`, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : ['']
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    for (const extension of extensions) {
      const candidate = path.join(dir, name + extension)
      try {
        if (!statSync(candidate).isFile()) continue
        accessSync(candidate, constants.X_OK)
        return candidate
      } catch {
        // not here
      }
    }
  }
  return undefined
}

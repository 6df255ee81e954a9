import { homedir } from 'node:os'
import path from 'node:path'

/**
 * Where homelab keeps what it can always compute again: the render memo
 * (render-cache.ts) and the compiled code (code-cache.ts). HOMELAB_CACHE_DIR, else
 * $XDG_CACHE_HOME/homelab, else ~/.cache/homelab.
 */
export function cacheDir(): string {
  if (process.env.HOMELAB_CACHE_DIR) return path.resolve(process.env.HOMELAB_CACHE_DIR)
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache')
  return path.join(base, 'homelab')
}

/** HOMELAB_CACHE=0 turns every cache off: each command then starts from nothing. */
export function cacheEnabled(): boolean {
  return process.env.HOMELAB_CACHE !== '0'
}

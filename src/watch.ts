/**
 * The core of `render --watch`: run a callback now and after every change of
 * the inputs of a render (the config file, templates/ with its partials, and
 * crds/ beside the config), debounced, one run at a time, until aborted.
 */
import { statSync, watch } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import path from 'node:path'
import { INPUT_FOLDERS } from './config/paths.js'
import { HomelabError } from './errors.js'

/** Folders beside the config whose whole tree is an input. */
export const WATCHED_FOLDERS = INPUT_FOLDERS

export interface WatchOptions {
  /** The config file; the folders of WATCHED_FOLDERS beside it are watched too. */
  configPath: string
  /** Called once at the start, then after each batch of changes; never two at once. */
  run: () => Promise<void>
  /** A run that threw, or a watcher that failed. The watch goes on. */
  onError: (error: unknown) => void
  /** Aborting ends the watch (after a run in progress has finished). */
  signal: AbortSignal
  /** Quiet time after the last change before a run: an editor's save is several events. Default 100 ms. */
  debounceMs?: number
}

/** Editors' swap and backup files (`.x.swp`, `.#x`) and hidden folders are not read by a render. */
function isHidden(file: string): boolean {
  return file.split(/[\\/]/).some((part) => part.startsWith('.'))
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}

function watchError(error: unknown, what: string): HomelabError {
  const code = (error as NodeJS.ErrnoException).code
  const limit = code === 'ENOSPC' || code === 'EMFILE'
  return new HomelabError(`cannot watch ${what}: ${(error as Error).message}`, {
    cause: error,
    hint: limit ? 'the system limit of watched files is reached; raise it with sysctl fs.inotify.max_user_watches=524288' : undefined,
  })
}

/**
 * Watch until `signal` aborts. Resolves once every watcher is closed and no
 * run is in progress, so the process can exit on its own.
 */
export async function watchHomelab(options: WatchOptions): Promise<void> {
  const { signal, onError } = options
  if (signal.aborted) return
  const configFile = path.resolve(options.configPath)
  const root = path.dirname(configFile)
  const configName = path.basename(configFile)

  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false

  const kick = (): void => {
    if (signal.aborted) return
    if (running) {
      again = true // changes during a run: one more run right after it
      return
    }
    running = (async () => {
      do {
        again = false
        try {
          await options.run()
        } catch (error) {
          onError(error)
        }
      } while (again && !signal.aborted)
      running = undefined
    })()
  }
  const changed = (): void => {
    if (signal.aborted) return
    clearTimeout(timer)
    timer = setTimeout(kick, options.debounceMs ?? 100)
  }

  // A recursive watcher follows its folder's inode: when the folder is deleted
  // or replaced (git checkout, mv), a new one is needed. The new folder may get
  // the old inode number back, so any event on the folder's own name reopens it
  // (changes inside the folder do not reach the watcher of its parent).
  const folders = new Map<string, FSWatcher>()
  const openFolder = (name: string): void => {
    folders.get(name)?.close()
    folders.delete(name)
    const dir = path.join(root, name)
    if (!isDirectory(dir)) return // not there (yet): the watcher on the config's folder sees it appear
    try {
      const watcher = watch(dir, { recursive: true }, (_event, file) => {
        if (file === null || !isHidden(file)) changed()
      })
      watcher.on('error', (error) => {
        watcher.close()
        if (folders.get(name) === watcher) folders.delete(name)
        onError(watchError(error, `${name}/`))
      })
      folders.set(name, watcher)
    } catch (error) {
      onError(watchError(error, `${name}/`))
    }
  }

  let rootWatcher: FSWatcher
  try {
    // not recursive: the output folder usually sits here too, and writing it must not trigger a render
    rootWatcher = watch(root, (_event, file) => {
      if (file === null || file === configName) return changed()
      if ((WATCHED_FOLDERS as readonly string[]).includes(file)) {
        openFolder(file)
        changed()
      }
    })
  } catch (error) {
    throw watchError(error, `the folder of ${options.configPath}`)
  }
  rootWatcher.on('error', (error) => onError(watchError(error, `the folder of ${options.configPath}`)))
  for (const name of WATCHED_FOLDERS) openFolder(name)

  kick()
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
  clearTimeout(timer)
  rootWatcher.close()
  for (const watcher of folders.values()) watcher.close()
  await running
}

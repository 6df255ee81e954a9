import type { SourceLocation } from '../errors.js'
import type { YamlPath } from '../yaml-source.js'

/** Fields of a Flux Kustomization spec a user may set (defaults and per app). */
export interface KustomizationFields {
  interval?: string
  retryInterval?: string
  timeout?: string
  prune?: boolean
  wait?: boolean
  force?: boolean
  suspend?: boolean
  targetNamespace?: string
  deletionPolicy?: 'MirrorPrune' | 'Delete' | 'WaitForTermination' | 'Orphan'
  decryption?: { provider: 'sops'; secretRef?: { name: string }; serviceAccountName?: string }
  postBuild?: {
    substitute?: Record<string, string>
    substituteFrom?: Array<{ kind: 'Secret' | 'ConfigMap'; name: string; optional?: boolean }>
    substituteStrategy?: 'WithVariables' | 'Always'
  }
  healthChecks?: Array<{ apiVersion?: string; kind: string; name: string; namespace?: string }>
}

export type FluxProvider = 'github' | 'gitlab' | 'gitea' | 'bitbucket-server' | 'git'

/** homelab.config.yaml as written (checked against schema/homelab.config.schema.json). */
export interface RawConfig {
  cluster: { name: string }
  flux: {
    repository: string
    branch?: string
    path?: string
    provider?: FluxProvider
    hostname?: string
    personal?: boolean
    kustomization?: KustomizationFields
  }
  values?: Record<string, unknown>
  apps: RawApp[]
}

export interface RawApp {
  template: string
  id?: string
  namespace?: string
  enabled?: boolean
  flux?: boolean
  bootstrap?: boolean
  dependsOn?: string[]
  options?: Record<string, unknown>
  kustomization?: KustomizationFields
  allowPlaintextSecrets?: boolean
}

/** One enabled app with every default applied: what the rest of the tool trusts. */
export interface ResolvedApp {
  id: string
  template: string
  namespace: string
  /** Ids of enabled apps this one needs, as written. */
  dependsOn: string[]
  /** Options with the template's defaults filled in. */
  options: Record<string, unknown>
  /** Defaults merged with the per-app overrides. */
  kustomization: KustomizationFields
  flux: boolean
  bootstrap: boolean
  allowPlaintextSecrets: boolean
  /** Index in the config's `apps` list (for error locations). */
  index: number
}

export interface ResolvedFlux {
  repository: string
  branch: string
  path: string
  provider?: FluxProvider
  hostname?: string
  personal: boolean
  kustomization: KustomizationFields
}

export interface ResolvedConfig {
  /** The config file as shown to the user. */
  file: string
  /** Absolute path of the folder holding the config (templates/ and crds/ sit beside it). */
  root: string
  cluster: { name: string }
  flux: ResolvedFlux
  values: Record<string, unknown>
  /** Enabled apps, in config order. */
  apps: ResolvedApp[]
  /** Ids of apps with `enabled: false`. */
  disabled: string[]
  /** Where the config sets the value at `path`, for errors found after resolving; undefined when it does not set it. */
  locate: (path: YamlPath) => SourceLocation | undefined
  /** Where the value at `path` sits, or its nearest parent the config has: for errors about a setting that may come from the defaults. */
  locateNearest: (path: YamlPath) => SourceLocation
}

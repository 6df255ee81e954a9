/**
 * Synthetic homelabs for the benchmark, and a Helm chart that renders the
 * same Kubernetes objects, so `homelab render` and `helm template` do the
 * same work. Each app is an instance of one `webapp` template with five files
 * (Namespace, Deployment, Service, ConfigMap, Ingress), options with schema
 * defaults, and the quote/toYaml/nindent helpers used as real templates use
 * them; some apps depend on others. The Helm umbrella chart has one subchart
 * dependency per app, aliased to its id, with the defaults in the subchart's
 * values as charts keep them. A flat chart that ranges over a values list of
 * the same apps is kept as a reference: Helm's cheapest shape for many apps.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { stringify } from 'yaml'

/** One app of a synthetic homelab: what a person writes into the config. */
export interface BenchApp {
  id: string
  dependsOn?: string[]
  options: {
    image: string
    replicas?: number
    host?: string
    env?: Record<string, string>
    config?: Record<string, string>
  }
}

/** Files of the five objects over all apps (the Ingress only where an app has a host); homelab writes these plus its kustomization and Flux files. */
export function objectFileCount(apps: readonly BenchApp[]): number {
  return apps.reduce((sum, app) => sum + (app.options.host ? 5 : 4), 0)
}

const pad = (i: number) => String(i).padStart(5, '0')

/**
 * The apps of a homelab of `count` apps, deterministic. `variant` > 0 changes
 * the options of the middle app only (its replicas and one config value), for
 * the one-app-change re-render.
 */
export function benchApps(count: number, variant = 0): BenchApp[] {
  const changed = Math.floor(count / 2)
  return Array.from({ length: count }, (_, i) => {
    const id = `app-${pad(i)}`
    const options: BenchApp['options'] = { image: `registry.example.com/team-${i % 17}/${id}:v1.${i % 10}.${i % 7}` }
    if (i % 4 !== 3) options.host = `${id}.apps.example.com` // every fourth app is internal: no Ingress
    if (i % 3 === 0) options.replicas = 2
    // env keys in sorted order: Helm ranges over a map by sorted key, Handlebars by insertion order
    if (i % 2 === 0) options.env = { LOG_FORMAT: 'json', OTEL_SERVICE_NAME: id }
    if (i % 5 !== 0) options.config = { FEATURE_FLAGS: i % 2 ? 'on' : 'no', LISTEN: ':8080', LOG_LEVEL: 'info', MAX_CONNECTIONS: String(100 + i) }
    if (i === changed && variant > 0) {
      options.replicas = 2 + variant
      options.config = { ...(options.config ?? {}), REVISION: String(variant) }
    }
    const app: BenchApp = { id, options }
    // every third app depends on the first app of its group of ten
    const leader = i - (i % 10)
    if (i % 3 === 1 && leader !== i) app.dependsOn = [`app-${pad(leader)}`]
    return app
  })
}

const CLUSTER = 'bench'
const TIMEZONE = 'Europe/Berlin'

const WEBAPP_META = `description: A web app (benchmark template).
options:
  type: object
  additionalProperties: false
  required: [image]
  properties:
    image: { type: string, minLength: 1 }
    replicas: { type: integer, minimum: 0, maximum: 50, default: 1 }
    port: { type: integer, minimum: 1, maximum: 65535, default: 8080 }
    host: { type: string, default: "" }
    env:
      type: object
      additionalProperties: { type: string }
      default: {}
    config:
      type: object
      additionalProperties: { type: string }
      default: { LOG_LEVEL: info }
    resources:
      type: object
      default:
        requests: { cpu: 50m, memory: 64Mi }
        limits: { memory: 128Mi }
    clusterIssuer: { type: string, minLength: 1, default: letsencrypt }
    ingressClassName: { type: string, minLength: 1, default: nginx }
`

const LABELS_PARTIAL = `app.kubernetes.io/name: {{quote app.template}}
app.kubernetes.io/instance: {{quote app.id}}
app.kubernetes.io/part-of: {{quote cluster.name}}
app.kubernetes.io/managed-by: homelab
`

const WEBAPP_FILES: Record<string, string> = {
  'namespace.yaml.hbs': `apiVersion: v1
kind: Namespace
metadata:
  name: {{quote app.namespace}}
  labels:
    {{> labels}}
`,
  'deployment.yaml.hbs': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{quote app.id}}
  namespace: {{quote app.namespace}}
  labels:
    {{> labels}}
spec:
  replicas: {{options.replicas}}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{quote app.template}}
      app.kubernetes.io/instance: {{quote app.id}}
  template:
    metadata:
      labels:
        {{> labels}}
    spec:
      containers:
        - name: app
          image: {{quote options.image}}
          ports:
            - name: http
              containerPort: {{options.port}}
          envFrom:
            - configMapRef:
                name: {{quote app.id}}
          env:
            - name: TZ
              value: {{quote values.timezone}}
            {{#each options.env}}
            - name: {{quote @key}}
              value: {{quote this}}
            {{/each}}
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:{{nindent 12 (toYaml options.resources)}}
`,
  'service.yaml.hbs': `apiVersion: v1
kind: Service
metadata:
  name: {{quote app.id}}
  namespace: {{quote app.namespace}}
  labels:
    {{> labels}}
spec:
  selector:
    app.kubernetes.io/name: {{quote app.template}}
    app.kubernetes.io/instance: {{quote app.id}}
  ports:
    - name: http
      port: 80
      targetPort: http
`,
  'configmap.yaml.hbs': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{quote app.id}}
  namespace: {{quote app.namespace}}
  labels:
    {{> labels}}
data:{{nindent 2 (toYaml options.config)}}
`,
  'ingress.yaml.hbs': `{{#if options.host}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{quote app.id}}
  namespace: {{quote app.namespace}}
  labels:
    {{> labels}}
  annotations:
    cert-manager.io/cluster-issuer: {{quote options.clusterIssuer}}
spec:
  ingressClassName: {{quote options.ingressClassName}}
  tls:
    - hosts:
        - {{quote options.host}}
      secretName: {{quote app.id}}
  rules:
    - host: {{quote options.host}}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{quote app.id}}
                port:
                  name: http
{{/if}}
`,
}

/** The homelab.config.yaml text of these apps. */
export function homelabConfigText(apps: readonly BenchApp[]): string {
  const config = {
    cluster: { name: CLUSTER },
    flux: { repository: 'https://git.example.com/bench/manifests.git', kustomization: { interval: '10m', prune: true } },
    values: { timezone: TIMEZONE },
    apps: apps.map((app) => ({ template: 'webapp', id: app.id, ...(app.dependsOn ? { dependsOn: app.dependsOn } : {}), options: app.options })),
  }
  // YAML 1.1 quoting: `on` and `no` stay strings whichever YAML version reads them
  return stringify(config, { version: '1.1', lineWidth: 0 })
}

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(dir, file)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
}

/** Write a homelab (config + templates) of these apps into `dir`; returns the config path. */
export function writeHomelab(dir: string, apps: readonly BenchApp[]): string {
  const files: Record<string, string> = {
    'homelab.config.yaml': homelabConfigText(apps),
    'templates/_partials/labels.hbs': LABELS_PARTIAL,
    'templates/webapp/template.yaml': WEBAPP_META,
  }
  for (const [name, content] of Object.entries(WEBAPP_FILES)) files[`templates/webapp/${name}`] = content
  writeTree(dir, files)
  return path.join(dir, 'homelab.config.yaml')
}

const FLAT_HELPERS = `{{- define "bench.labels" -}}
app.kubernetes.io/name: "webapp"
app.kubernetes.io/instance: {{ .app.id | quote }}
app.kubernetes.io/part-of: {{ .root.Values.cluster.name | quote }}
app.kubernetes.io/managed-by: homelab
{{- end }}
`

/** Start and end of every chart template: one document per app. */
const range = (body: string, condition?: string) =>
  `{{- range .Values.apps }}\n${condition ? `{{- if ${condition} }}\n` : ''}---\n${body}${condition ? '{{- end }}\n' : ''}{{- end }}\n`

const META = `metadata:
  name: {{ .id | quote }}
  namespace: {{ .namespace | default .id | quote }}
  labels:
    {{- include "bench.labels" (dict "app" . "root" $) | nindent 4 }}
`

const FLAT_TEMPLATES: Record<string, string> = {
  'namespace.yaml': range(`apiVersion: v1
kind: Namespace
metadata:
  name: {{ .namespace | default .id | quote }}
  labels:
    {{- include "bench.labels" (dict "app" . "root" $) | nindent 4 }}
`),
  'deployment.yaml': range(`apiVersion: apps/v1
kind: Deployment
${META}spec:
  replicas: {{ .replicas | default $.Values.defaults.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: "webapp"
      app.kubernetes.io/instance: {{ .id | quote }}
  template:
    metadata:
      labels:
        {{- include "bench.labels" (dict "app" . "root" $) | nindent 8 }}
    spec:
      containers:
        - name: app
          image: {{ .image | quote }}
          ports:
            - name: http
              containerPort: {{ .port | default $.Values.defaults.port }}
          envFrom:
            - configMapRef:
                name: {{ .id | quote }}
          env:
            - name: TZ
              value: {{ $.Values.values.timezone | quote }}
            {{- range $key, $value := .env }}
            - name: {{ $key | quote }}
              value: {{ $value | quote }}
            {{- end }}
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            {{- toYaml (.resources | default $.Values.defaults.resources) | nindent 12 }}
`),
  'service.yaml': range(`apiVersion: v1
kind: Service
${META}spec:
  selector:
    app.kubernetes.io/name: "webapp"
    app.kubernetes.io/instance: {{ .id | quote }}
  ports:
    - name: http
      port: 80
      targetPort: http
`),
  'configmap.yaml': range(`apiVersion: v1
kind: ConfigMap
${META}data:
  {{- toYaml (.config | default $.Values.defaults.config) | nindent 2 }}
`),
  'ingress.yaml': range(
    `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .id | quote }}
  namespace: {{ .namespace | default .id | quote }}
  labels:
    {{- include "bench.labels" (dict "app" . "root" $) | nindent 4 }}
  annotations:
    cert-manager.io/cluster-issuer: {{ .clusterIssuer | default $.Values.defaults.clusterIssuer | quote }}
spec:
  ingressClassName: {{ .ingressClassName | default $.Values.defaults.ingressClassName | quote }}
  tls:
    - hosts:
        - {{ .host | quote }}
      secretName: {{ .id | quote }}
  rules:
    - host: {{ .host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ .id | quote }}
                port:
                  name: http
`,
    '.host',
  ),
}

/** The webapp template's option defaults, as the charts apply them. */
const DEFAULTS = {
  replicas: 1,
  port: 8080,
  host: '',
  env: {},
  config: { LOG_LEVEL: 'info' },
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
  clusterIssuer: 'letsencrypt',
  ingressClassName: 'nginx',
}

/** Write a flat Helm chart `bench` into `dir` whose templates range over these apps and produce the same objects as the homelab. */
export function writeFlatHelmChart(dir: string, apps: readonly BenchApp[]): void {
  const values = {
    cluster: { name: CLUSTER },
    values: { timezone: TIMEZONE },
    defaults: DEFAULTS,
    apps: apps.map((app) => ({ id: app.id, ...app.options })),
  }
  const files: Record<string, string> = {
    'Chart.yaml': 'apiVersion: v2\nname: bench\ndescription: The benchmark apps as one Helm chart\ntype: application\nversion: 0.1.0\n',
    // Helm reads values with YAML 1.1 rules: unquoted `on` and `no` would be booleans
    'values.yaml': stringify(values, { version: '1.1', lineWidth: 0 }),
    'templates/_helpers.tpl': FLAT_HELPERS,
  }
  for (const [name, content] of Object.entries(FLAT_TEMPLATES)) files[`templates/${name}`] = content
  writeTree(dir, files)
}

const SUBCHART_HELPERS = `{{- define "webapp.labels" -}}
app.kubernetes.io/name: "webapp"
app.kubernetes.io/instance: {{ .Values.id | quote }}
app.kubernetes.io/part-of: {{ .Values.global.cluster.name | quote }}
app.kubernetes.io/managed-by: homelab
{{- end }}
`

const SUBCHART_META = `metadata:
  name: {{ .Values.id | quote }}
  namespace: {{ .Values.namespace | default .Values.id | quote }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
`

/** The templates of the umbrella chart's `webapp` subchart: one app's objects, from its own values. */
const SUBCHART_TEMPLATES: Record<string, string> = {
  'namespace.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: {{ .Values.namespace | default .Values.id | quote }}
  labels:
    {{- include "webapp.labels" . | nindent 4 }}
`,
  'deployment.yaml': `apiVersion: apps/v1
kind: Deployment
${SUBCHART_META}spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: "webapp"
      app.kubernetes.io/instance: {{ .Values.id | quote }}
  template:
    metadata:
      labels:
        {{- include "webapp.labels" . | nindent 8 }}
    spec:
      containers:
        - name: app
          image: {{ .Values.image | quote }}
          ports:
            - name: http
              containerPort: {{ .Values.port }}
          envFrom:
            - configMapRef:
                name: {{ .Values.id | quote }}
          env:
            - name: TZ
              value: {{ .Values.global.timezone | quote }}
            {{- range $key, $value := .Values.env }}
            - name: {{ $key | quote }}
              value: {{ $value | quote }}
            {{- end }}
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`,
  'service.yaml': `apiVersion: v1
kind: Service
${SUBCHART_META}spec:
  selector:
    app.kubernetes.io/name: "webapp"
    app.kubernetes.io/instance: {{ .Values.id | quote }}
  ports:
    - name: http
      port: 80
      targetPort: http
`,
  'configmap.yaml': `apiVersion: v1
kind: ConfigMap
${SUBCHART_META}data:
  {{- toYaml .Values.config | nindent 2 }}
`,
  'ingress.yaml': `{{- if .Values.host }}
apiVersion: networking.k8s.io/v1
kind: Ingress
${SUBCHART_META}  annotations:
    cert-manager.io/cluster-issuer: {{ .Values.clusterIssuer | quote }}
spec:
  ingressClassName: {{ .Values.ingressClassName | quote }}
  tls:
    - hosts:
        - {{ .Values.host | quote }}
      secretName: {{ .Values.id | quote }}
  rules:
    - host: {{ .Values.host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ .Values.id | quote }}
                port:
                  name: http
{{- end }}
`,
}

/**
 * Write the Helm umbrella chart `bench` into `dir`: one `webapp` subchart in
 * `charts/`, and one dependency on it per app, aliased to the app's id, whose
 * values are the app's options. The subchart's values.yaml holds the defaults
 * (Helm merges them under each app's values, as the schema's defaults fill a
 * homelab app's options), the cluster name and timezone are globals. With
 * `--output-dir`, Helm writes a file per subchart template and app, as
 * homelab writes a file per template file and app.
 */
export function writeHelmChart(dir: string, apps: readonly BenchApp[]): void {
  const values: Record<string, unknown> = { global: { cluster: { name: CLUSTER }, timezone: TIMEZONE } }
  for (const app of apps) values[app.id] = { id: app.id, ...app.options }
  const dependencies = apps.map((app) => ({ name: 'webapp', version: '0.1.0', alias: app.id }))
  const files: Record<string, string> = {
    'Chart.yaml': stringify({ apiVersion: 'v2', name: 'bench', description: 'The benchmark apps as a Helm umbrella chart', type: 'application', version: '0.1.0', dependencies }),
    // Helm reads values with YAML 1.1 rules: unquoted `on` and `no` would be booleans
    'values.yaml': stringify(values, { version: '1.1', lineWidth: 0 }),
    'charts/webapp/Chart.yaml': 'apiVersion: v2\nname: webapp\ndescription: One app of the benchmark\ntype: application\nversion: 0.1.0\n',
    'charts/webapp/values.yaml': stringify(DEFAULTS, { version: '1.1', lineWidth: 0 }),
    'charts/webapp/templates/_helpers.tpl': SUBCHART_HELPERS,
  }
  for (const [name, content] of Object.entries(SUBCHART_TEMPLATES)) files[`charts/webapp/templates/${name}`] = content
  writeTree(dir, files)
}

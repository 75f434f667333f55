{{/* Chart name, possibly overridden. */}}
{{- define "shoal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name prefix of every object. Kept short: storage StatefulSets append
     "-storage-<zone>" and their pods "-<ordinal>", and pod names must stay within 63. */}}
{{- define "shoal.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains (include "shoal.name" .) .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "shoal.name" .) | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "shoal.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "shoal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shoal
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "router") */}}
{{- define "shoal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shoal.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "shoal.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "shoal.natsImage" -}}
{{- if .Values.nats.image.repository -}}
{{- printf "%s:%s" .Values.nats.image.repository (default "latest" .Values.nats.image.tag) -}}
{{- else -}}
{{- include "shoal.image" . -}}
{{- end -}}
{{- end -}}

{{/* Client URL of the NATS cluster (its Service; the servers gossip the rest). */}}
{{- define "shoal.natsUrl" -}}
{{- printf "nats://%s-nats:4222" (include "shoal.fullname" .) -}}
{{- end -}}

{{- define "shoal.authSecret" -}}
{{- default (printf "%s-auth" (include "shoal.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Environment every Shoal service shares. */}}
{{- define "shoal.commonEnv" -}}
- name: SHOAL_NATS_URL
  value: {{ include "shoal.natsUrl" . | quote }}
- name: SHOAL_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: SHOAL_ADMIN_PORT
  value: {{ .Values.adminPort | quote }}
# Pods start beside their NATS servers: wait for them (within the startup probe's 180 s)
# rather than exit and back off.
- name: SHOAL_NATS_CONNECT_TIMEOUT_MS
  value: "150000"
{{- end -}}

{{/* Probes on the admin port: startup and liveness on /healthz, readiness on /readyz. */}}
{{- define "shoal.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: admin}
  periodSeconds: 2
  failureThreshold: 90
livenessProbe:
  httpGet: {path: /healthz, port: admin}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: admin}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{- define "shoal.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.adminPort | quote }}
prometheus.io/path: /metrics
{{- end -}}

{{/* A zone name as it may appear in an object name. */}}
{{- define "shoal.zoneSlug" -}}
{{- . | lower | replace "." "-" | replace "_" "-" | trunc 15 | trimSuffix "-" -}}
{{- end -}}

{{/* Fails rendering on settings that cannot work together. */}}
{{- define "shoal.validate" -}}
{{- if gt (int .Values.replicationFactor) (len .Values.zones) -}}
{{- fail (printf "replicationFactor %d needs at least that many zones; zones has %d" (int .Values.replicationFactor) (len .Values.zones)) -}}
{{- end -}}
{{- if gt (int .Values.replicationFactor) (mul (len .Values.zones) (int .Values.storage.replicasPerZone)) -}}
{{- fail "replicationFactor exceeds the number of storage nodes" -}}
{{- end -}}
{{- $slugs := dict -}}
{{- range .Values.zones -}}
{{- $s := include "shoal.zoneSlug" . -}}
{{- if hasKey $slugs $s -}}
{{- fail (printf "zones %q and %q map to the same object name %q" (get $slugs $s) . $s) -}}
{{- end -}}
{{- $_ := set $slugs $s . -}}
{{- end -}}
{{- end -}}

{{/* Labels of a component's pods: its selector labels plus the common ones they lack.
     (dict "ctx" $ "component" "router") */}}
{{- define "shoal.podLabels" -}}
{{ include "shoal.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: shoal
{{- end -}}

{{/* Names and labels, in the usual Helm form. */}}
{{- define "hapa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hapa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "hapa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hapa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hapa.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hapa.selectorLabels" . }}
app.kubernetes.io/version: {{ include "hapa.tag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hapa
{{- end -}}

{{- define "hapa.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hapa.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "hapa.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "hapa.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "hapa.tag" .) -}}
{{- end -}}

{{/* The Secret the pods read: yours (existingSecret) or the chart's. */}}
{{- define "hapa.secretName" -}}
{{- default (include "hapa.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
The ConfigMap's data: every non-empty value of .Values.config, and the settings the
chart derives from its other values.
*/}}
{{- define "hapa.configData" -}}
HOST: "0.0.0.0"
PORT: {{ .Values.port | toString | quote }}
SHUTDOWN_TIMEOUT: {{ printf "%ds" (int .Values.shutdown.timeoutSeconds) | quote }}
AUTO_MIGRATE: {{ ternary "false" "true" (eq (include "hapa.migrationJob" .) "true") | quote }}
{{- if gt (int .Values.metrics.port) 0 }}
METRICS_ADDR: {{ printf "0.0.0.0:%d" (int .Values.metrics.port) | quote }}
{{- end }}
{{- if eq .Values.shutdown.preStopMode "server" }}
SHUTDOWN_DRAIN_DELAY: {{ printf "%ds" (int .Values.shutdown.preStopDelay) | quote }}
{{- end }}
{{- range $k, $v := .Values.config }}
{{- if not (has $k (list "HOST" "PORT" "SHUTDOWN_TIMEOUT" "AUTO_MIGRATE" "METRICS_ADDR")) }}
{{- if ne (toString $v) "" }}
{{ $k }}: {{ toString $v | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* "true" when `hapa migrate` runs as a hook Job: not with SQLite on a volume, whose
fresh file every start migrates (the volume is not there before install). */}}
{{- define "hapa.migrationJob" -}}
{{- and .Values.migrations.job (not .Values.persistence.enabled) | toString -}}
{{- end -}}

{{/* Checks that stop a render with one clear message. */}}
{{- define "hapa.validate" -}}
{{- if not (has .Values.shutdown.preStopMode (list "sleep" "server")) -}}
{{- fail (printf "shutdown.preStopMode must be sleep or server, not %q" .Values.shutdown.preStopMode) -}}
{{- end -}}
{{- range $k := list "HOST" "PORT" "SHUTDOWN_TIMEOUT" "AUTO_MIGRATE" "METRICS_ADDR" -}}
{{- if ne (toString (index $.Values.config $k | default "")) "" -}}
{{- fail (printf "config.%s is set by the chart (port, shutdown, migrations, metrics): leave it out of config" $k) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.persistence.enabled (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
{{- fail "persistence (SQLite on a volume) serves one replica: set replicaCount: 1 and autoscaling.enabled: false, or use PostgreSQL" -}}
{{- end -}}
{{- end -}}

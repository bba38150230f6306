{{/* Chart name. */}}
{{- define "berth-registry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name (release-scoped, at most 63 characters). */}}
{{- define "berth-registry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "berth-registry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth-registry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "berth-registry.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "berth-registry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: registry
app.kubernetes.io/part-of: berth
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.tenant }}
berth.dev/tenant: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "berth-registry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Fails the render on settings that cannot work. */}}
{{- define "berth-registry.validate" -}}
{{- if not .Values.database.existingSecret }}
{{- fail "database.existingSecret is required: the name of a Secret holding DATABASE_URL" }}
{{- end }}
{{- $driver := .Values.storage.driver }}
{{- if not (has $driver (list "s3" "filesystem")) }}
{{- fail (printf "storage.driver must be s3 or filesystem (got %q)" $driver) }}
{{- end }}
{{- if and (eq $driver "s3") (not .Values.storage.s3.bucket) }}
{{- fail "storage.s3.bucket is required when storage.driver=s3" }}
{{- end }}
{{- if eq $driver "filesystem" }}
{{- if not .Values.persistence.enabled }}
{{- fail "storage.driver=filesystem keeps blobs under DATA_DIR: set persistence.enabled=true" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not (has "ReadWriteMany" .Values.persistence.accessModes)) (not .Values.persistence.existingClaim) }}
{{- fail "storage.driver=filesystem with more than one replica needs a ReadWriteMany volume" }}
{{- end }}
{{- end }}
{{- end }}

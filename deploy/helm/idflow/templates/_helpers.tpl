{{/* Names and labels. */}}
{{- define "idflow.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "idflow.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component: call with (list $ "worker"). */}}
{{- define "idflow.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "idflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* IDFLOW_WORKER_SHUTDOWN_GRACE in whole seconds (it is a duration like 30s, 500ms or 1m). */}}
{{- define "idflow.shutdownGraceSeconds" -}}
{{- $grace := toString .Values.worker.shutdownGrace -}}
{{- if regexMatch "^[0-9]+ms$" $grace -}}
{{- div (add (trimSuffix "ms" $grace | atoi) 999) 1000 -}}
{{- else if regexMatch "^[0-9]+s$" $grace -}}
{{- trimSuffix "s" $grace | atoi -}}
{{- else if regexMatch "^[0-9]+m$" $grace -}}
{{- mul (trimSuffix "m" $grace | atoi) 60 -}}
{{- else -}}
{{- fail (printf "worker.shutdownGrace must be a duration like 30s, not %q" $grace) -}}
{{- end -}}
{{- end -}}

{{/* Environment every idflow container gets: Temporal, the database, payload keys, logging. */}}
{{- define "idflow.env" -}}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required" .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: TEMPORAL_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
{{- include "idflow.temporalConnectionEnv" . }}
- name: IDFLOW_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: IDFLOW_VISIBLE_PERSONAL_DATA
  value: {{ .Values.config.visiblePersonalData | toString | quote }}
{{- with .Values.config.codecCorsOrigins }}
- name: IDFLOW_CODEC_CORS_ORIGINS
  value: {{ . | quote }}
{{- end }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.existingSecret is required" .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.databaseUrl }}
- name: IDFLOW_PAYLOAD_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.payloadKeys }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Slack's token and signing secret, each only when its key is in the Secret. */}}
{{- define "idflow.slackEnv" -}}
- name: SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.slackBotToken }}
      optional: true
- name: SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.slackSigningSecret }}
      optional: true
{{- end -}}

{{/* The writable /tmp of a read-only root filesystem (tsx keeps its compile cache there). */}}
{{- define "idflow.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}

{{- define "idflow.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/*
How idflow (and the Temporal CLI, which reads the same names) reaches the frontend: TLS, the
mounted CA and client pair, the server name, the API key (docs/deploy.md, Temporal Cloud).
*/}}
{{- define "idflow.temporalConnectionEnv" -}}
{{- if ne (toString .Values.temporal.tls.enabled) "" }}
- name: TEMPORAL_TLS
  value: {{ .Values.temporal.tls.enabled | toString | quote }}
{{- end }}
{{- with .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.tls.existingSecret }}
{{- with .Values.temporal.tls.keys.serverCaCert }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: {{ printf "%s/%s" $.Values.temporal.tls.mountPath . | quote }}
{{- end }}
{{- if and .Values.temporal.tls.keys.clientCert .Values.temporal.tls.keys.clientKey }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: {{ printf "%s/%s" .Values.temporal.tls.mountPath .Values.temporal.tls.keys.clientCert | quote }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: {{ printf "%s/%s" .Values.temporal.tls.mountPath .Values.temporal.tls.keys.clientKey | quote }}
{{- else if or .Values.temporal.tls.keys.clientCert .Values.temporal.tls.keys.clientKey }}
{{- fail "temporal.tls.keys.clientCert and temporal.tls.keys.clientKey: set both (mTLS) or neither" }}
{{- end }}
{{- end }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default .Values.secrets.existingSecret .Values.temporal.apiKey.existingSecret }}
      key: {{ .Values.temporal.apiKey.key }}
      optional: true
{{- end -}}

{{/* The Secret with the Temporal CA and client pair, read-only, when temporal.tls.existingSecret is set. */}}
{{- define "idflow.temporalTlsVolume" -}}
{{- with .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "idflow.temporalTlsMount" -}}
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: {{ .Values.temporal.tls.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

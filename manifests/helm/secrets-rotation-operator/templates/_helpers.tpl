{{/* Labels every object carries; the selector labels are the kustomize manifests' own. */}}
{{- define "sro.selectorLabels" -}}
app.kubernetes.io/name: secrets-rotation-operator
{{- end }}

{{/*
The release's name for cluster-scoped objects, so two releases do not collide (Helm's usual fullname:
the release name when it already holds the chart's, as `secrets-rotation-operator` does — the names of
manifests/base — else release-chart).
*/}}
{{- define "sro.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else -}}
{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "sro.labels" -}}
{{ include "sro.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "sro.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
{{- end }}

{{/* The operator's settings as environment variables: value key → variable (null: the operator's default). */}}
{{- define "sro.env" -}}
{{- $pairs := list
  (list "sqsQueueUrl" "SQS_QUEUE_URL") (list "awsRegion" "AWS_REGION") (list "awsEndpointUrl" "AWS_ENDPOINT_URL")
  (list "watchNamespace" "WATCH_NAMESPACE") (list "logLevel" "LOG_LEVEL") (list "resyncInterval" "RESYNC_INTERVAL")
  (list "secretCacheTtl" "SECRET_CACHE_TTL") (list "maxConcurrentReconciles" "MAX_CONCURRENT_RECONCILES")
  (list "metricsPort" "METRICS_PORT") (list "metricsBindAddress" "METRICS_BIND_ADDRESS")
  (list "sqsWaitTimeSeconds" "SQS_WAIT_TIME_SECONDS") (list "sqsReceivers" "SQS_RECEIVERS")
  (list "restartRateLimit" "RESTART_RATE_LIMIT")
  (list "restartBurst" "RESTART_BURST") (list "maxConcurrentRollouts" "MAX_CONCURRENT_ROLLOUTS")
  (list "maxRolloutsPerNamespace" "MAX_ROLLOUTS_PER_NAMESPACE")
  (list "rolloutDeadline" "ROLLOUT_DEADLINE") (list "maxMessagesInFlight" "MAX_MESSAGES_IN_FLIGHT")
  (list "messageMaxHold" "MESSAGE_MAX_HOLD") (list "kubeRequestTimeout" "KUBE_REQUEST_TIMEOUT")
  (list "watchTimeout" "WATCH_TIMEOUT")
  (list "dryRun" "DRY_RUN") (list "defaultSecretPolicy" "DEFAULT_SECRET_POLICY") (list "leaderElect" "LEADER_ELECT")
  (list "leaseDuration" "LEASE_DURATION") (list "renewDeadline" "RENEW_DEADLINE") (list "retryPeriod" "RETRY_PERIOD")
  (list "leaderElectionNamespace" "LEADER_ELECTION_NAMESPACE")
  (list "notifyWebhookUrl" "NOTIFY_WEBHOOK_URL") (list "notifyFormat" "NOTIFY_FORMAT") -}}
{{- range $pair := $pairs }}
{{- $v := index $.Values.config (index $pair 0) }}
{{- if and (not (kindIs "invalid" $v)) (ne (toString $v) "") }}
- name: {{ index $pair 1 }}
  value: {{ toString $v | quote }}
{{- end }}
{{- end }}
{{- end }}

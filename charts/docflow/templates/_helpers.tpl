{{/* The chart's name, or nameOverride. */}}
{{- define "docflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-docflow, or the release name when it already contains the chart's name. */}}
{{- define "docflow.fullname" -}}
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

{{/* Labels of every object. */}}
{{- define "docflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "docflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: docflow
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "docflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "docflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image of the platform: (dict "root" $ "image" "gateway"). */}}
{{- define "docflow.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .image (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{- define "docflow.secretName" -}}
{{- default (printf "%s-secrets" (include "docflow.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "docflow.configName" -}}
{{- printf "%s-config" (include "docflow.fullname" .) -}}
{{- end -}}

{{- define "docflow.natsUrl" -}}
{{- if .Values.nats.url -}}
{{- .Values.nats.url -}}
{{- else if .Values.nats.bundled.enabled -}}
{{- printf "nats://%s-nats:4222" (include "docflow.fullname" .) -}}
{{- else -}}
{{- fail "nats.url is required when nats.bundled.enabled is false" -}}
{{- end -}}
{{- end -}}

{{/* S3_ENDPOINT: the configured one, the bundled MinIO, or none (AWS S3). */}}
{{- define "docflow.s3Endpoint" -}}
{{- if .Values.objectStorage.endpoint -}}
{{- .Values.objectStorage.endpoint -}}
{{- else if .Values.objectStorage.bundled.enabled -}}
{{- printf "http://%s-minio:9000" (include "docflow.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The private API as workflow steps and the object store reach it. */}}
{{- define "docflow.privateApiUrl" -}}
{{- printf "http://%s-gateway-private:8081/api/private" (include "docflow.fullname" .) -}}
{{- end -}}

{{/*
The chart-managed secret values, as JSON: each given value, else the one already in the release's Secret
(upgrades keep it), else 32 random characters (the master key: 32 random bytes, base64). Computed once per
render and kept, so the Secret, docflow-s3 and the bundled PostgreSQL and MinIO all get the same values.
*/}}
{{- define "docflow.secretValues" -}}
{{- if not (hasKey .Values "__docflowSecretValues") -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-secrets" (include "docflow.fullname" .)) -}}
{{- $data := dict -}}
{{- if $existing -}}{{- $data = $existing.data | default dict -}}{{- end -}}
{{- $given := dict
  "storage-webhook-token" .Values.secrets.storageWebhookToken
  "s3-access-key-id" .Values.secrets.s3AccessKeyId
  "s3-secret-access-key" .Values.secrets.s3SecretAccessKey
  "master-key" .Values.secrets.masterKey
  "postgres-password" "" -}}
{{- $values := dict -}}
{{- range $key, $value := $given -}}
{{- if $value -}}
{{- $_ := set $values $key $value -}}
{{- else if hasKey $data $key -}}
{{- $_ := set $values $key (index $data $key | b64dec) -}}
{{- else if eq $key "master-key" -}}
{{- $_ := set $values $key (randBytes 32) -}}
{{- else -}}
{{- $_ := set $values $key (randAlphaNum 32) -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values "__docflowSecretValues" $values -}}
{{- end -}}
{{- index .Values "__docflowSecretValues" | toJson -}}
{{- end -}}

{{/*
The environment of a platform container: (dict "root" $ "service" $svc). An `env` value that renders empty is
left out, so the service applies its default (MASTER_KEY_PREVIOUS_ID outside a rotation).
*/}}
{{- define "docflow.env" -}}
{{- range $name, $value := .service.env }}
{{- $rendered := tpl (toString $value) $.root }}
{{- if ne $rendered "" }}
- name: {{ $name }}
  value: {{ $rendered | quote }}
{{- end }}
{{- end }}
{{- range $name, $ref := .service.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "docflow.secretName" $.root }}
      {{- if kindIs "string" $ref }}
      key: {{ $ref }}
      {{- else }}
      key: {{ $ref.key }}
      optional: {{ $ref.optional | default false }}
      {{- end }}
{{- end }}
{{- end -}}

{{/* The pod-level settings every platform pod shares. */}}
{{- define "docflow.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

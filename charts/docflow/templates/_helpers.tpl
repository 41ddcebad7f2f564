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

{{/* identity's REDIS_URL: the configured one, or the bundled Redis. */}}
{{- define "docflow.redisUrl" -}}
{{- if .Values.redis.url -}}
{{- .Values.redis.url -}}
{{- else if .Values.redis.bundled.enabled -}}
{{- printf "redis://%s-redis:6379" (include "docflow.fullname" .) -}}
{{- else -}}
{{- fail "redis.url is required when redis.bundled.enabled is false" -}}
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

{{/* The private API as the object store (and workflow steps in the release's namespace) reach it. */}}
{{- define "docflow.privateApiUrl" -}}
{{- printf "http://%s-gateway-private:8081/api/private" (include "docflow.fullname" .) -}}
{{- end -}}

{{/*
Where the workflows run: the WorkflowTemplate, its ConfigMaps and Secrets, the docflow-workflow ServiceAccount and
the jobs service's Role (workflows.namespace; empty: the release's namespace). Objects that go there carry
  {{- if .Values.workflows.namespace }}
  namespace: {{ include "docflow.workflowNamespace" . }}
  {{- end }}
in their metadata (tools/deploy-check/chart.js holds the list); everything else stays in the release's namespace.
*/}}
{{- define "docflow.workflowNamespace" -}}
{{- default .Release.Namespace .Values.workflows.namespace -}}
{{- end -}}

{{/*
The WorkflowTemplate: files/docflow-transform.yaml as it is, its {{ "{{…}}" }} left to Argo; with workflows.namespace,
metadata.namespace is added after its metadata.name (the file has no namespace of its own).
*/}}
{{- define "docflow.workflowTemplate" -}}
{{- $text := .Files.Get "files/docflow-transform.yaml" -}}
{{- if .Values.workflows.namespace -}}
{{- $anchor := "\nmetadata:\n  name: docflow-transform\n" -}}
{{- if not (contains $anchor $text) -}}
{{- fail "files/docflow-transform.yaml: no 'metadata:' followed by '  name: docflow-transform' to add workflows.namespace to" -}}
{{- end -}}
{{- $text = replace $anchor (printf "%s  namespace: %s\n" $anchor (include "docflow.workflowNamespace" .)) $text -}}
{{- end -}}
{{- $text -}}
{{- end -}}

{{/* The private API as workflow steps reach it: namespace-qualified when they run in workflows.namespace. */}}
{{- define "docflow.workflowPrivateApiUrl" -}}
{{- if .Values.workflows.namespace -}}
{{- printf "http://%s-gateway-private.%s.svc:8081/api/private" (include "docflow.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- include "docflow.privateApiUrl" . -}}
{{- end -}}
{{- end -}}

{{/*
S3_ENDPOINT as workflow steps reach it: the bundled MinIO namespace-qualified when they run in
workflows.namespace; a configured objectStorage.endpoint as it is (it must resolve from there too).
*/}}
{{- define "docflow.workflowS3Endpoint" -}}
{{- if and .Values.workflows.namespace (not .Values.objectStorage.endpoint) .Values.objectStorage.bundled.enabled -}}
{{- printf "http://%s-minio.%s.svc:9000" (include "docflow.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- include "docflow.s3Endpoint" . -}}
{{- end -}}
{{- end -}}

{{/*
The chart-managed secret values, as JSON: each given value, else the one already in the release's Secret
(upgrades keep it), else 32 random characters (the master key: 32 random bytes, base64; the JWT signing keys:
none, config.yaml requires them). Computed once per
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
  "jwt-signing-keys" .Values.secrets.jwtSigningKeys
  "postgres-password" "" -}}
{{- $values := dict -}}
{{- range $key, $value := $given -}}
{{- if $value -}}
{{- $_ := set $values $key $value -}}
{{- else if hasKey $data $key -}}
{{- $_ := set $values $key (index $data $key | b64dec) -}}
{{- else if eq $key "master-key" -}}
{{- $_ := set $values $key (randBytes 32) -}}
{{- else if eq $key "jwt-signing-keys" -}}
{{- /* An Ed25519 JWK cannot be made here: config.yaml requires the value. */ -}}
{{- $_ := set $values $key "" -}}
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

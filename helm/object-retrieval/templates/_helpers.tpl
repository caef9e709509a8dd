{{/* Chart name, truncated to the 63 characters Kubernetes allows in a label. */}}
{{- define "objret.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "objret.fullname" -}}
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

{{/* Labels that never change after install: Deployment selectors use exactly these. Call with (dict "root" $ "component" "gateway"). */}}
{{- define "objret.selectorLabels" -}}
app.kubernetes.io/name: {{ include "objret.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Every label of a resource of one component. */}}
{{- define "objret.labels" -}}
{{ include "objret.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: object-retrieval
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Labels of chart-wide resources (Secret, dashboards, ServiceMonitor). */}}
{{- define "objret.commonLabels" -}}
app.kubernetes.io/name: {{ include "objret.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: object-retrieval
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Image reference of a component. Call with (dict "root" $ "repository" "object-retrieval-gateway"). */}}
{{- define "objret.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .repository (default .root.Chart.AppVersion .root.Values.image.tag) }}
{{- end }}

{{/* Secret holding the storage connection string. */}}
{{- define "objret.storageSecretName" -}}
{{- default (printf "%s-storage" (include "objret.fullname" .)) .Values.storage.existingSecret }}
{{- end }}

{{/*
Environment shared by every process, in the names the code binds (section "ObjectRetrieval", see deploy/README.md).
Call with (dict "root" $ "component" "gateway" "role" "gateway").
*/}}
{{- define "objret.env" -}}
- name: ObjectRetrieval__Roles__0
  value: {{ .role | quote }}
- name: ObjectRetrieval__HttpUrl
  value: {{ printf "http://+:%v" .root.Values.http.port | quote }}
- name: ObjectRetrieval__ManagementPort
  value: {{ .root.Values.http.managementPort | quote }}
{{- if .root.Values.clusterTls.enabled }}
- name: ObjectRetrieval__Tls__Enabled
  value: "true"
- name: ObjectRetrieval__Tls__CertificatePath
  value: {{ printf "/etc/objret/tls/%s" .root.Values.clusterTls.certificateKey | quote }}
{{- with .root.Values.clusterTls.caKey }}
- name: ObjectRetrieval__Tls__TrustedCaPath
  value: {{ printf "/etc/objret/tls/%s" . | quote }}
{{- end }}
{{- with .root.Values.clusterTls.passwordKey }}
- name: ObjectRetrieval__Tls__CertificatePassword
  valueFrom:
    secretKeyRef:
      name: {{ $.root.Values.clusterTls.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
- name: ObjectRetrieval__Cluster__Mode
  value: "AzureTable"
- name: ObjectRetrieval__Cluster__ClusterId
  value: {{ .root.Values.orleans.clusterId | quote }}
- name: ObjectRetrieval__Cluster__ServiceId
  value: {{ .root.Values.orleans.serviceId | quote }}
- name: ObjectRetrieval__Cluster__AzureTableConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ include "objret.storageSecretName" .root }}
      key: {{ .root.Values.storage.secretKey }}
- name: ObjectRetrieval__Storage__Kind
  value: "Blob"
- name: ObjectRetrieval__Storage__BlobConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ include "objret.storageSecretName" .root }}
      key: {{ .root.Values.storage.secretKey }}
- name: ObjectRetrieval__Storage__BlobContainer
  value: {{ .root.Values.storage.blobContainer | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "object-retrieval-%s" .component | quote }}
{{- with .root.Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Orleans endpoints of a silo: advertise the pod IP, listen on the fixed ports. */}}
{{- define "objret.siloEnv" -}}
- name: ObjectRetrieval__Cluster__AdvertisedAddress
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: ObjectRetrieval__Cluster__SiloPort
  value: {{ .Values.orleans.siloPort | quote }}
- name: ObjectRetrieval__Cluster__GatewayPort
  value: {{ .Values.orleans.gatewayPort | quote }}
{{- end }}

{{/* The model package (model.json): the gateway runs its text tower, encoder silos its image tower. */}}
{{- define "objret.modelEnv" -}}
- name: ObjectRetrieval__ModelDirectory
  value: {{ .Values.model.path | quote }}
{{- end }}

{{/* Probes on the endpoints every process maps (ServiceDefaults: /health/live, /health/ready). */}}
{{- define "objret.probes" -}}
startupProbe:
  httpGet:
    path: /health/live
    port: http
  periodSeconds: {{ .Values.probes.startup.periodSeconds }}
  failureThreshold: {{ .Values.probes.startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /health/live
    port: http
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /health/ready
    port: http
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
{{- end }}

{{/* Writable /tmp (the root file system is read-only) and the optional model volume. */}}
{{- define "objret.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.clusterTls.enabled }}
- name: cluster-tls
  mountPath: /etc/objret/tls
  readOnly: true
{{- end }}
{{- if .Values.model.existingClaim }}
- name: model
  mountPath: {{ .Values.model.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "objret.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.clusterTls.enabled }}
- name: cluster-tls
  secret:
    secretName: {{ required "clusterTls.existingSecret is required when clusterTls.enabled (a Secret with the cluster certificate; see deploy/README.md)" .Values.clusterTls.existingSecret }}
{{- end }}
{{- if .Values.model.existingClaim }}
- name: model
  persistentVolumeClaim:
    claimName: {{ .Values.model.existingClaim }}
    readOnly: true
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every Deployment. */}}
{{- define "objret.podCommon" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{- define "objret.apiKeysSecretName" -}}
{{- default (printf "%s-api-keys" (include "objret.fullname" .)) .Values.apiKeys.existingSecret -}}
{{- end }}

{{/* The management port every process serves /metrics on. */}}
{{- define "objret.managementPort" -}}
- name: management
  containerPort: {{ .Values.http.managementPort }}
  protocol: TCP
{{- end }}

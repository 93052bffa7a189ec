{{- define "otelite.name" -}}{{ .Release.Name }}-otelite{{- end -}}
{{- define "otelite.labels" -}}
app.kubernetes.io/name: otelite
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "otelite.secret" -}}
{{- if .Values.clickhouse.existingSecret -}}{{ .Values.clickhouse.existingSecret }}{{- else -}}{{ include "otelite.name" . }}-clickhouse{{- end -}}
{{- end -}}

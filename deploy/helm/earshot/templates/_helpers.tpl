{{/* The release's base name: <release>-earshot, or <release> when it says earshot already. */}}
{{- define "earshot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "earshot.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component (a stage, api, migrate): call with (list $ "match"). */}}
{{- define "earshot.selector" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ $.Chart.Name }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "earshot.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "earshot.secretName" -}}{{ include "earshot.fullname" . }}-secrets{{- end -}}

{{/* Where the pods find their files. */}}
{{- define "earshot.configDir" -}}/etc/earshot/config{{- end -}}
{{- define "earshot.configFile" -}}/etc/earshot/config/earshot.yaml{{- end -}}

{{/*
The earshot configuration file: .Values.config, with the parts the chart owns set over it
(transport, the watchlists, routing and org files, the sink's connection, metrics, api).
Secrets are never in it: passwords come from the environment (password_env), certificates
from mounted Secrets.
*/}}
{{- define "earshot.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- $kafka := dict "brokers" .Values.kafka.brokers "partitions" (int .Values.kafka.partitions) "replication_factor" (int .Values.kafka.replicationFactor) -}}
{{- with .Values.kafka.tls }}{{ if .enabled -}}
{{- $tls := dict "enabled" true -}}
{{- if and .existingSecret .caKey }}{{ $_ := set $tls "ca_file" (printf "/etc/earshot/kafka-tls/%s" .caKey) }}{{ end -}}
{{- if and .existingSecret .certKey }}{{ $_ := set $tls "cert_file" (printf "/etc/earshot/kafka-tls/%s" .certKey) }}{{ end -}}
{{- if and .existingSecret .keyKey }}{{ $_ := set $tls "key_file" (printf "/etc/earshot/kafka-tls/%s" .keyKey) }}{{ end -}}
{{- if .serverName }}{{ $_ := set $tls "server_name" .serverName }}{{ end -}}
{{- $_ := set $kafka "tls" $tls -}}
{{- end }}{{ end -}}
{{- with .Values.kafka.sasl }}{{ if .mechanism -}}
{{- $_ := set $kafka "sasl" (dict "mechanism" .mechanism "username" .username "password_env" "KAFKA_PASSWORD") -}}
{{- end }}{{ end -}}
{{- $_ := set $cfg "transport" (dict "kind" "kafka" "topic_prefix" .Values.topicPrefix "kafka" $kafka) -}}
{{- $match := deepCopy (get $cfg "match" | default dict) -}}
{{- $_ := set $match "watchlists" (ternary "/etc/earshot/watchlists" "/etc/earshot/examples/watchlists" (not (empty .Values.watchlists))) -}}
{{- $_ := set $cfg "match" $match -}}
{{- $route := deepCopy (get $cfg "route" | default dict) -}}
{{- $_ := set $route "policy" (ternary "routing.yaml" "/etc/earshot/examples/routing.yaml" (not (empty .Values.routing))) -}}
{{- $_ := set $route "org" (ternary "org.yaml" "/etc/earshot/examples/org.yaml" (not (empty .Values.org))) -}}
{{- $_ := set $cfg "route" $route -}}
{{- $sink := deepCopy (get $cfg "sink" | default dict) -}}
{{- $_ := set $sink "enabled" true -}}
{{- $_ := set $sink "addr" .Values.clickhouse.addr -}}
{{- $_ := set $sink "database" .Values.clickhouse.database -}}
{{- $_ := set $sink "username" .Values.clickhouse.username -}}
{{- $_ := set $sink "password_env" "CLICKHOUSE_PASSWORD" -}}
{{- if .Values.clickhouse.cluster }}{{ $_ := set $sink "cluster" .Values.clickhouse.cluster }}{{ end -}}
{{- with .Values.clickhouse.tls }}{{ if .enabled -}}
{{- $tls := dict "enabled" true -}}
{{- if and .existingSecret .caKey }}{{ $_ := set $tls "ca_file" (printf "/etc/earshot/clickhouse-tls/%s" .caKey) }}{{ end -}}
{{- if .serverName }}{{ $_ := set $tls "server_name" .serverName }}{{ end -}}
{{- $_ := set $sink "tls" $tls -}}
{{- end }}{{ end -}}
{{- $_ := set $cfg "sink" $sink -}}
{{- if dig "search" "enabled" false $cfg }}
{{- $search := deepCopy (get $cfg "search") -}}
{{- $_ := set $search "dir" (include "earshot.searchDir" .) -}}
{{- $_ := set $cfg "search" $search -}}
{{- end -}}
{{- $_ := set $cfg "metrics" (dict "addr" (printf ":%d" (int .Values.metricsPort))) -}}
{{- $api := deepCopy (get $cfg "api" | default dict) -}}
{{- $_ := set $api "addr" (printf ":%d" (int .Values.api.port)) -}}
{{- $_ := set $api "state_dir" "/var/lib/earshot/api" -}}
{{- if .Values.api.tokensSecret }}{{ $_ := set $api "tokens_file" "/etc/earshot/tokens/tokens.json" }}{{ end -}}
{{- $_ := set $cfg "api" $api -}}
{{- toYaml $cfg -}}
{{- end -}}

{{- define "earshot.searchDir" -}}/var/lib/earshot/search{{- end -}}

{{/*
Whether a stage runs (non-empty: yes). ingest to sink: stages.<stage>.enabled. The optional
ones follow the configuration, as earshot itself does: index when config.search.enabled,
webhook when config.webhook.endpoints has one, notify when config.notify.channels has one.
Call with (list $ "index").
*/}}
{{- define "earshot.stageOn" -}}
{{- $ := index . 0 -}}{{- $stage := index . 1 -}}
{{- $cfg := $.Values.config | default dict -}}
{{- if eq $stage "index" -}}{{ if dig "search" "enabled" false $cfg }}on{{ end -}}
{{- else if eq $stage "webhook" -}}{{ if dig "webhook" "endpoints" dict $cfg }}on{{ end -}}
{{- else if eq $stage "notify" -}}{{ if dig "notify" "channels" dict $cfg }}on{{ end -}}
{{- else if has $stage (include "earshot.ingestWith" $ | fromJsonArray) -}}
{{- else if (get $.Values.stages $stage).enabled -}}on{{- end -}}
{{- end -}}

{{/* The stages the ingest process runs in memory after itself (stages.ingest.with, earshot
ingest --with), as a JSON array; refuses what the command would refuse, at render time. */}}
{{- define "earshot.ingestWith" -}}
{{- $with := .Values.stages.ingest.with | default list -}}
{{- if not (has $with (list (list) (list "match") (list "match" "enrich"))) -}}
{{- fail (printf "stages.ingest.with: %v, want [] (match and enrich as Deployments of their own), [match] or [match, enrich]: the stages right after ingest, in order" $with) -}}
{{- end -}}
{{- if and $with (not .Values.stages.ingest.enabled) -}}
{{- fail "stages.ingest.with runs stages in the ingest Deployment, which stages.ingest.enabled: false turns off" -}}
{{- end -}}
{{- toJson $with -}}
{{- end -}}

{{/*
The secrets a stage reads from the environment, and only that stage: each *_env the
configuration names for it (webhook: webhook.endpoints.*.secret_env; notify:
notify.channels.*.url_env, token_env, routing_key_env, api_key_env, smtp.password_env), set
from the key of the same name in secretEnv.existingSecret. Every earshot process checks that
the configuration names its secrets well, but reads only those of the parts it runs, so no
other container gets them (least privilege: an ingest, match or API pod that leaks its
environment leaks no channel's credential). Call with (list $ "notify").
*/}}
{{- define "earshot.secretEnv" -}}
{{- $ := index . 0 -}}{{- $stage := index . 1 -}}
{{- $cfg := $.Values.config | default dict -}}
{{- $names := list -}}
{{- if eq $stage "webhook" -}}
{{- range $q, $e := dig "webhook" "endpoints" dict $cfg }}{{ with $e.secret_env }}{{ $names = append $names . }}{{ end }}{{ end -}}
{{- else if eq $stage "notify" -}}
{{- range $n, $c := dig "notify" "channels" dict $cfg -}}
{{- range $k := list "url_env" "token_env" "routing_key_env" "api_key_env" }}{{ with get $c $k }}{{ $names = append $names . }}{{ end }}{{ end -}}
{{- with $c.smtp }}{{ with .password_env }}{{ $names = append $names . }}{{ end }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $secret := $.Values.secretEnv.existingSecret -}}
{{- range $names | uniq | sortAlpha }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "secretEnv.existingSecret: the configuration reads %s from the environment; name the Secret holding it" .) $secret }}
      key: {{ . }}
{{- end }}
{{- end -}}

{{/*
The ClickHouse password, for the containers that connect to ClickHouse and only those: sink,
route (its escalations read the stored alerts), the API and migrate. earshot reads it only
in the processes that use it.
*/}}
{{- define "earshot.clickhouseEnv" -}}
- name: CLICKHOUSE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.clickhouse.existingSecret | default (include "earshot.secretName" .) }}
      key: {{ if .Values.clickhouse.existingSecret }}{{ .Values.clickhouse.passwordKey }}{{ else }}clickhouse-password{{ end }}
{{- end -}}

{{/* The environment every earshot container gets: the Kafka password, if any (every process talks to Kafka). */}}
{{- define "earshot.env" -}}
{{- if .Values.kafka.sasl.mechanism }}
- name: KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret | default (include "earshot.secretName" .) }}
      key: {{ if .Values.kafka.sasl.existingSecret }}{{ .Values.kafka.sasl.passwordKey }}{{ else }}kafka-password{{ end }}
{{- end }}
{{- end -}}

{{/* The volumes every earshot pod mounts: the configuration, the watchlists, the TLS files, /tmp. */}}
{{- define "earshot.volumes" -}}
- name: config
  configMap:
    name: {{ include "earshot.fullname" . }}-config
{{- if .Values.watchlists }}
- name: watchlists
  configMap:
    name: {{ include "earshot.fullname" . }}-watchlists
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
{{- end }}
{{- if and .Values.clickhouse.tls.enabled .Values.clickhouse.tls.existingSecret }}
- name: clickhouse-tls
  secret:
    secretName: {{ .Values.clickhouse.tls.existingSecret }}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "earshot.volumeMounts" -}}
- name: config
  mountPath: {{ include "earshot.configDir" . }}
  readOnly: true
{{- if .Values.watchlists }}
- name: watchlists
  mountPath: /etc/earshot/watchlists
  readOnly: true
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/earshot/kafka-tls
  readOnly: true
{{- end }}
{{- if and .Values.clickhouse.tls.enabled .Values.clickhouse.tls.existingSecret }}
- name: clickhouse-tls
  mountPath: /etc/earshot/clickhouse-tls
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Pod-level settings shared by every workload. */}}
{{- define "earshot.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The stages consuming a topic, with it: KEDA scales them on their group's lag. */}}
{{- define "earshot.inputTopic" -}}
{{- $ := index . 0 -}}{{- $stage := index . 1 -}}
{{- $in := dict "match" "posts" "enrich" "matched" "route" "enriched" "sink" "enriched" -}}
{{- printf "%s.%s" $.Values.topicPrefix (get $in $stage) -}}
{{- end -}}

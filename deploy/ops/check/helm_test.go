package check

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/route"
)

const (
	chartDir       = "../../helm/earshot"
	productionFile = "../../helm/production-values.yaml"
	examplesDir    = "../../examples"
)

// rendered is one installation's objects, decoded strictly.
type rendered struct {
	values      map[string]any
	deployments map[string]*appsv1.Deployment
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	services    map[string]*corev1.Service
	pvcs        map[string]*corev1.PersistentVolumeClaim
	jobs        map[string]*batchv1.Job
	pdbs        map[string]*policyv1.PodDisruptionBudget
	monitors    map[string]*monitoringv1.ServiceMonitor
	rules       map[string]*monitoringv1.PrometheusRule
	scaled      map[string]*kedav1alpha1.ScaledObject
	triggerAuth map[string]*kedav1alpha1.TriggerAuthentication
}

// render renders the chart with values as `helm template` would, and
// decodes every object into its API type with unknown fields refused.
func render(t *testing.T, values map[string]any) (*rendered, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := chrt.Validate(); err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(chrt, values, chartutil.ReleaseOptions{Name: "earshot", Namespace: "earshot", IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, err
	}
	r := &rendered{values: vals["Values"].(chartutil.Values), deployments: map[string]*appsv1.Deployment{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, services: map[string]*corev1.Service{}, pvcs: map[string]*corev1.PersistentVolumeClaim{},
		jobs: map[string]*batchv1.Job{}, pdbs: map[string]*policyv1.PodDisruptionBudget{}, monitors: map[string]*monitoringv1.ServiceMonitor{}, rules: map[string]*monitoringv1.PrometheusRule{},
		scaled: map[string]*kedav1alpha1.ScaledObject{}, triggerAuth: map[string]*kedav1alpha1.TriggerAuthentication{}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasSuffix(n, ".tpl") || strings.HasSuffix(n, "NOTES.txt") {
			continue
		}
		for _, doc := range releaseutil.SplitManifests(files[n]) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			if err := r.decode(doc); err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", n, err, doc)
			}
		}
	}
	return r, nil
}

func (r *rendered) decode(doc string) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
		return err
	}
	if head.Metadata.Name == "" {
		return fmt.Errorf("%s %s without a name", head.APIVersion, head.Kind)
	}
	var obj any
	name := head.Metadata.Name
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		r.deployments[name], obj = o, o
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		r.configMaps[name], obj = o, o
	case "v1 Secret":
		o := &corev1.Secret{}
		r.secrets[name], obj = o, o
	case "v1 Service":
		o := &corev1.Service{}
		r.services[name], obj = o, o
	case "v1 PersistentVolumeClaim":
		o := &corev1.PersistentVolumeClaim{}
		r.pvcs[name], obj = o, o
	case "batch/v1 Job":
		o := &batchv1.Job{}
		r.jobs[name], obj = o, o
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		r.pdbs[name], obj = o, o
	case "monitoring.coreos.com/v1 ServiceMonitor":
		o := &monitoringv1.ServiceMonitor{}
		r.monitors[name], obj = o, o
	case "monitoring.coreos.com/v1 PrometheusRule":
		o := &monitoringv1.PrometheusRule{}
		r.rules[name], obj = o, o
	case "keda.sh/v1alpha1 ScaledObject":
		o := &kedav1alpha1.ScaledObject{}
		r.scaled[name], obj = o, o
	case "keda.sh/v1alpha1 TriggerAuthentication":
		o := &kedav1alpha1.TriggerAuthentication{}
		r.triggerAuth[name], obj = o, o
	default:
		return fmt.Errorf("%s %s: a kind this check does not know", head.APIVersion, head.Kind)
	}
	return yaml.UnmarshalStrict([]byte(doc), obj)
}

func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// withFiles adds the watchlists, routing policy and organisation from
// deploy/examples, as `--set-file` does.
func withFiles(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	wl := map[string]any{}
	ents, err := os.ReadDir(filepath.Join(examplesDir, "watchlists"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		wl[e.Name()] = read(filepath.Join(examplesDir, "watchlists", e.Name()))
	}
	v["watchlists"] = wl
	v["routing"] = read(filepath.Join(examplesDir, "routing.yaml"))
	v["org"] = read(filepath.Join(examplesDir, "org.yaml"))
	return v
}

var stages = []string{"ingest", "match", "enrich", "route", "sink"}

// optionalStages run when the configuration asks for them.
var optionalStages = []string{"index", "webhook", "notify"}

func TestHelmDefault(t *testing.T) {
	r, err := render(t, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	r.check(t)
	if len(r.monitors)+len(r.scaled)+len(r.rules) != 0 {
		t.Error("the ServiceMonitor, the PrometheusRule and KEDA are off by default")
	}
	for _, s := range optionalStages {
		if r.deployments["earshot-"+s] != nil || r.services["earshot-"+s] != nil {
			t.Errorf("%s runs by default: the configuration does not ask for it", s)
		}
	}
	if r.pvcs["earshot-index"] != nil {
		t.Error("the search index's volume is claimed while the index is off")
	}
	for _, s := range []string{"match", "enrich"} {
		if d := r.deployments["earshot-"+s]; d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("%s: want 2 replicas by default", s)
		}
	}
}

func TestHelmProduction(t *testing.T) {
	r, err := render(t, withFiles(t, readValues(t, productionFile)))
	if err != nil {
		t.Fatal(err)
	}
	r.check(t)
	if len(r.monitors) != 1 {
		t.Errorf("%d ServiceMonitors, want 1", len(r.monitors))
	}
	checkRules(t, r.rules)
	// The desk's metrics (earshot_alerts_*, on the pipeline board) come from
	// the API process only: the ServiceMonitor scrapes its Service too.
	for _, sm := range r.monitors {
		api := r.services["earshot-api"]
		if api == nil {
			t.Fatal("no earshot-api Service")
		}
		selected := true
		for k, v := range sm.Spec.Selector.MatchLabels {
			selected = selected && api.Labels[k] == v
		}
		port := false
		for _, ep := range sm.Spec.Endpoints {
			for _, p := range api.Spec.Ports {
				port = port || (ep.Port == p.Name && ep.Path == "/metrics")
			}
		}
		if !selected || !port {
			t.Errorf("the ServiceMonitor does not scrape the API's /metrics (selected %v, a port %v)", selected, port)
		}
	}
	for _, s := range []string{"match", "enrich", "route", "sink"} {
		so := r.scaled["earshot-"+s]
		if so == nil {
			t.Errorf("no ScaledObject for %s", s)
			continue
		}
		if r.deployments[so.Spec.ScaleTargetRef.Name] == nil {
			t.Errorf("ScaledObject %s scales %s, which is not rendered", so.Name, so.Spec.ScaleTargetRef.Name)
		}
		if d := r.deployments["earshot-"+s]; d != nil && d.Spec.Replicas != nil {
			t.Errorf("%s: replicas set while KEDA scales it: the two would fight", s)
		}
		tr := so.Spec.Triggers[0]
		if tr.Type != "kafka" || tr.Metadata["consumerGroup"] != "earshot."+s || tr.Metadata["sasl"] != "scram_sha512" || tr.Metadata["tls"] != "enable" {
			t.Errorf("%s: trigger %+v", s, tr)
		}
		if tr.AuthenticationRef == nil || r.triggerAuth[tr.AuthenticationRef.Name] == nil {
			t.Errorf("%s: no TriggerAuthentication for SASL/TLS", s)
		}
	}
	cm := r.configMaps["earshot-watchlists"]
	if cm == nil || len(cm.Data) < 3 {
		t.Errorf("the watchlists ConfigMap: %v", cm)
	}
	if len(r.secrets) != 0 {
		t.Errorf("secrets rendered while every one is an existingSecret: %v", slices.Collect(mapsKeys(r.secrets)))
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// The check can fail: a misspelt field in a template is refused by the
// strict decoding, and a value that breaks earshot's configuration by
// its loader.
func TestHelmCheckRefusesTypos(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if err := (&rendered{deployments: map[string]*appsv1.Deployment{}}).decode(doc); err == nil {
		t.Error("spec.replica was accepted")
	}
	doc = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\nspec:\n  scaleTargetRef: {name: y}\n  maxReplicas: 3\n  triggers: []\n"
	if err := (&rendered{scaled: map[string]*kedav1alpha1.ScaledObject{}}).decode(doc); err == nil {
		t.Error("ScaledObject spec.maxReplicas (for maxReplicaCount) was accepted")
	}
	v := map[string]any{"config": map[string]any{"runner": map[string]any{"batch_sise": 10}}}
	r, err := render(t, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.loadConfig(t); err == nil {
		t.Error("config.runner.batch_sise was accepted by earshot's loader")
	}
}

// check is what every installation must satisfy.
func (r *rendered) check(t *testing.T) {
	t.Helper()
	if err := r.loadConfig(t); err != nil {
		t.Errorf("the rendered earshot.yaml: %v", err)
	}
	fused := r.ingestWith()
	for _, s := range append(slices.Clone(stages), optionalStages...) {
		d := r.deployments["earshot-"+s]
		if d == nil && slices.Contains(optionalStages, s) {
			continue
		}
		if slices.Contains(fused, s) {
			// The ingest process runs it (stages.ingest.with): a Deployment of
			// its own would consume a topic nothing is produced to any more.
			if d != nil {
				t.Errorf("%s runs in ingest (stages.ingest.with) and has a Deployment too", s)
			}
			continue
		}
		if d == nil {
			t.Errorf("no Deployment for %s", s)
			continue
		}
		c := d.Spec.Template.Spec.Containers[0]
		if len(c.Args) < 3 || c.Args[0] != s || c.Args[1] != "--config" {
			t.Errorf("%s: args %q", s, c.Args)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port.StrVal != "metrics" ||
			c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port.StrVal != "metrics" ||
			c.StartupProbe == nil || c.StartupProbe.HTTPGet == nil || c.StartupProbe.HTTPGet.Path != "/healthz" {
			// readiness is /readyz: 503 while the stage is stalled (docs/deploy.md)
			t.Errorf("%s: probes %+v %+v", s, c.LivenessProbe, c.ReadinessProbe)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no resource requests", s)
		}
		if s == "index" || s == "notify" {
			// One process: two would fight over the index directory's lock, or each
			// allow notify's rate limit and resend what the other sent. A rolling
			// update would run two for a while.
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("%s: replicas %v, strategy %q: want exactly 1, Recreate", s, d.Spec.Replicas, d.Spec.Strategy.Type)
			}
			for _, so := range r.scaled {
				if so.Spec.ScaleTargetRef.Name == d.Name {
					t.Errorf("%s: scaled by KEDA", s)
				}
			}
		}
		if svc := r.services["earshot-"+s]; svc == nil || svc.Spec.Ports[0].Name != "metrics" {
			t.Errorf("%s: no metrics Service", s)
		}
		if r.values["podDisruptionBudget"].(map[string]any)["enabled"] == true {
			if pdb := r.pdbs["earshot-"+s]; pdb == nil || !selects(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				t.Errorf("%s: no PodDisruptionBudget selecting its pods", s)
			}
		}
	}
	api := r.deployments["earshot-api"]
	if api == nil {
		t.Fatal("no API Deployment")
	}
	if p := api.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Errorf("api: readiness probe %+v, want /readyz", p)
	}
	if len(r.jobs) != 1 {
		t.Errorf("%d Jobs, want the migration", len(r.jobs))
	}
	for _, j := range r.jobs {
		if j.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" || j.Spec.Template.Spec.Containers[0].Args[0] != "migrate" {
			t.Errorf("job %s: %v %q", j.Name, j.Annotations, j.Spec.Template.Spec.Containers[0].Args)
		}
	}
	pods := map[string]corev1.PodSpec{}
	for n, d := range r.deployments {
		if !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("Deployment %s: its selector does not select its pods", n)
		}
		pods["Deployment "+n] = d.Spec.Template.Spec
	}
	for n, j := range r.jobs {
		pods["Job "+n] = j.Spec.Template.Spec
	}
	for n, p := range pods {
		r.checkPod(t, n, p)
	}
	for n, svc := range r.services {
		found := false
		for _, d := range r.deployments {
			found = found || selects(svc.Spec.Selector, d.Spec.Template.Labels)
		}
		if !found {
			t.Errorf("Service %s selects no pods", n)
		}
	}
}

// checkPod: non-root, every mount has its volume, every named port a probe
// uses exists, every Secret and ConfigMap referred to is rendered or given
// as an existing Secret in the values.
// ingestWith is stages.ingest.with of the rendered values.
func (r *rendered) ingestWith() []string {
	var with []string
	if st, ok := r.values["stages"].(map[string]any); ok {
		if in, ok := st["ingest"].(map[string]any); ok {
			if w, ok := in["with"].([]any); ok {
				for _, x := range w {
					with = append(with, fmt.Sprint(x))
				}
			}
		}
	}
	return with
}

func (r *rendered) checkPod(t *testing.T, name string, p corev1.PodSpec) {
	t.Helper()
	if p.SecurityContext == nil || p.SecurityContext.RunAsNonRoot == nil || !*p.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: not runAsNonRoot", name)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range p.Volumes {
		vols[v.Name] = v
		if v.ConfigMap != nil && r.configMaps[v.ConfigMap.Name] == nil {
			t.Errorf("%s: volume %s: ConfigMap %s is not rendered", name, v.Name, v.ConfigMap.Name)
		}
		if v.Secret != nil && r.secrets[v.Secret.SecretName] == nil && !r.existingSecret(v.Secret.SecretName) {
			t.Errorf("%s: volume %s: Secret %s is neither rendered nor an existingSecret", name, v.Name, v.Secret.SecretName)
		}
		if v.PersistentVolumeClaim != nil && r.pvcs[v.PersistentVolumeClaim.ClaimName] == nil {
			t.Errorf("%s: volume %s: no PVC %s", name, v.Name, v.PersistentVolumeClaim.ClaimName)
		}
	}
	for _, c := range p.Containers {
		if !strings.Contains(c.Image, ":") {
			t.Errorf("%s: image %q without a tag", name, c.Image)
		}
		for _, m := range c.VolumeMounts {
			if _, ok := vols[m.Name]; !ok {
				t.Errorf("%s: mount %s has no volume", name, m.Name)
			}
		}
		ports := map[string]bool{}
		for _, cp := range c.Ports {
			ports[cp.Name] = true
		}
		for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if pr != nil && pr.HTTPGet != nil && pr.HTTPGet.Port.StrVal != "" && !ports[pr.HTTPGet.Port.StrVal] {
				t.Errorf("%s: a probe on port %q, which the container does not name", name, pr.HTTPGet.Port.StrVal)
			}
		}
		for _, e := range c.Env {
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				s := r.secrets[ref.SecretKeyRef.Name]
				switch {
				case s != nil:
					if _, ok := s.StringData[ref.SecretKeyRef.Key]; !ok {
						t.Errorf("%s: env %s: Secret %s has no key %s", name, e.Name, s.Name, ref.SecretKeyRef.Key)
					}
				case !r.existingSecret(ref.SecretKeyRef.Name):
					t.Errorf("%s: env %s: Secret %s is neither rendered nor an existingSecret", name, e.Name, ref.SecretKeyRef.Name)
				}
			}
		}
	}
}

func (r *rendered) existingSecret(name string) bool {
	var found bool
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if (k == "existingSecret" || k == "tokensSecret") && x == name {
					found = true
				}
				walk(x)
			}
		case chartutil.Values:
			walk(map[string]any(v))
		}
	}
	walk(map[string]any(r.values))
	return found
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// loadConfig loads the rendered earshot.yaml with earshot's own loader, as
// a pod would see it: the ConfigMaps and Secrets laid out under a temporary
// /etc/earshot, the examples where the image has them, each password the
// container's environment names set.
func (r *rendered) loadConfig(t *testing.T) error {
	t.Helper()
	root := t.TempDir()
	cfg := r.configMaps["earshot-config"]
	if cfg == nil {
		t.Fatal("no earshot-config ConfigMap")
	}
	write := func(dir string, data map[string]string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for k, v := range data {
			v = strings.ReplaceAll(v, "/etc/earshot/", root+"/etc/earshot/")
			v = strings.ReplaceAll(v, "/var/lib/earshot/", root+"/var/lib/earshot/")
			if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(filepath.Join(root, "etc/earshot/config"), cfg.Data)
	if wl := r.configMaps["earshot-watchlists"]; wl != nil {
		write(filepath.Join(root, "etc/earshot/watchlists"), wl.Data)
	}
	abs, err := filepath.Abs(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(root, "etc/earshot/examples")); err != nil {
		t.Fatal(err)
	}
	// The mounted certificate Secrets: a real CA certificate and key under every key the pods read.
	ca := testCA(t)
	d := r.deployments["earshot-ingest"]
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret == nil {
			continue
		}
		for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
			if m.Name == v.Name {
				dir := filepath.Join(root, m.MountPath)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"ca.crt", "tls.crt", "tls.key", "user.crt", "user.key"} {
					if err := os.WriteFile(filepath.Join(dir, k), ca, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	// Each pod's container loads the file with its own environment, and
	// reads the secrets of the parts it runs: each must be set in the pod
	// that runs the part.
	names := map[string]bool{}
	deps := slices.Sorted(mapsKeys(r.deployments))
	for _, n := range deps {
		for _, e := range r.deployments[n].Spec.Template.Spec.Containers[0].Env {
			names[e.Name] = true
		}
	}
	var c pipeline.Config
	for _, n := range deps {
		env := map[string]string{}
		for _, e := range r.deployments[n].Spec.Template.Spec.Containers[0].Env {
			v := e.Value
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				v = "https://from-existing-secret.example/x" // a URL for url_env, a password elsewhere
				if s := r.secrets[ref.SecretKeyRef.Name]; s != nil {
					v = s.StringData[ref.SecretKeyRef.Key]
				}
			}
			env[e.Name] = v
		}
		for name := range names {
			t.Setenv(name, env[name]) // empty is unset to the loader
		}
		var err error
		if c, err = pipeline.Load(filepath.Join(root, "etc/earshot/config/earshot.yaml")); err != nil {
			return fmt.Errorf("Deployment %s: %w", n, err)
		}
		// and reads the secrets of the parts it runs (its first argument).
		if args := r.deployments[n].Spec.Template.Spec.Containers[0].Args; len(args) == 0 {
			return fmt.Errorf("Deployment %s: no arguments", n)
		} else if err := c.CheckSecrets(args[0]); err != nil {
			return fmt.Errorf("Deployment %s (earshot %s): %w", n, args[0], err)
		}
	}
	if len(deps) == 0 {
		return errors.New("no Deployments")
	}
	if c.Transport.Kind != "kafka" || !c.Sink.Enabled || c.Metrics.Addr == "" || c.API.Addr == "" {
		return fmt.Errorf("transport %q, sink %v, metrics %q, api %q: want kafka, a sink, metrics and the API", c.Transport.Kind, c.Sink.Enabled, c.Metrics.Addr, c.API.Addr)
	}
	// The files it names, as the stages load them: the watchlists and the
	// routing policy with its organisation.
	if wl, err := match.LoadDir(c.Match.Watchlists); err != nil || len(wl) == 0 {
		return fmt.Errorf("the watchlists %s: %d loaded, %v", c.Match.Watchlists, len(wl), err)
	}
	if _, err := route.Load(c.Route); err != nil {
		return fmt.Errorf("the routing policy: %w", err)
	}
	t.Logf("earshot.yaml as rendered:\n%s", cfg.Data["earshot.yaml"])
	return nil
}

// testCA is a self-signed CA certificate with its key, PEM.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "earshot test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})...)
}

// helm lint, as a library: the chart's metadata, its templates' YAML and
// the Kubernetes names, for both value files. Warnings fail too; INFO
// (no icon, no values.schema.json) does not.
func TestHelmLint(t *testing.T) {
	for name, v := range map[string]map[string]any{"default": {}, "production": withFiles(t, readValues(t, productionFile))} {
		l := lint.All(chartDir, v, "earshot", false)
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("%s: %s", name, m)
			}
		}
	}
}

// optionalValues asks for the search index, a webhook endpoint and three
// notification channels, their secrets in one existing Secret.
func optionalValues(v map[string]any) map[string]any {
	cfg, _ := v["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
		v["config"] = cfg
	}
	cfg["search"] = map[string]any{"enabled": true}
	cfg["webhook"] = map[string]any{"endpoints": map[string]any{
		"legal": map[string]any{"url": "https://legal.example.com/hook", "secret_env": "LEGAL_WEBHOOK_SECRET"},
	}}
	cfg["notify"] = map[string]any{"desk_url": "https://earshot.example.com", "channels": map[string]any{
		"care-slack": map[string]any{"kind": "slack", "url_env": "CARE_SLACK_WEBHOOK", "queues": []any{"care"}},
		"oncall":     map[string]any{"kind": "pagerduty", "routing_key_env": "PAGERDUTY_ROUTING_KEY", "queues": []any{"legal"}, "min_priority": "P1"},
		"care-mail": map[string]any{"kind": "email", "from": "earshot@example.com", "to": []any{"care@example.com"}, "queues": []any{"care"},
			"smtp": map[string]any{"host": "smtp.example.com", "username": "earshot", "password_env": "SMTP_PASSWORD"}},
		"care-bot":  map[string]any{"kind": "slack", "token_env": "CARE_SLACK_BOT_TOKEN", "channel": "C0123ABCD", "queues": []any{"care"}},
		"oncall-og": map[string]any{"kind": "opsgenie", "api_key_env": "OPSGENIE_API_KEY", "queues": []any{"legal"}},
	}}
	v["secretEnv"] = map[string]any{"existingSecret": "earshot-notify"}
	return v
}

// The optional stages run when the configuration asks for them: the index
// on its own volume at search.dir, webhook and notify with each secret the
// configuration names from the Secret, index and notify as one replica.
func TestHelmOptionalStages(t *testing.T) {
	for name, v := range map[string]map[string]any{"default": {}, "production": withFiles(t, readValues(t, productionFile))} {
		t.Run(name, func(t *testing.T) {
			r, err := render(t, optionalValues(v))
			if err != nil {
				t.Fatal(err)
			}
			r.check(t)
			for _, s := range optionalStages {
				if r.deployments["earshot-"+s] == nil {
					t.Errorf("no Deployment for %s", s)
				}
			}
			env := func(stage string) map[string]string {
				m := map[string]string{}
				if d := r.deployments["earshot-"+stage]; d != nil {
					for _, e := range d.Spec.Template.Spec.Containers[0].Env {
						if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
							m[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
						}
					}
				}
				return m
			}
			notifySecrets := []string{"CARE_SLACK_WEBHOOK", "CARE_SLACK_BOT_TOKEN", "PAGERDUTY_ROUTING_KEY", "OPSGENIE_API_KEY", "SMTP_PASSWORD"}
			for _, want := range notifySecrets {
				if got := env("notify")[want]; got != "earshot-notify/"+want {
					t.Errorf("notify: env %s from %q, want earshot-notify/%s", want, got, want)
				}
			}
			if got := env("webhook")["LEGAL_WEBHOOK_SECRET"]; got != "earshot-notify/LEGAL_WEBHOOK_SECRET" {
				t.Errorf("webhook: env LEGAL_WEBHOOK_SECRET from %q", got)
			}
			// Least privilege: a process reads only the secrets of the
			// parts it runs, so no other workload gets a channel's or a
			// webhook's secret (webhook gets no channel's, notify no
			// webhook's).
			channelSecrets := append(notifySecrets, "LEGAL_WEBHOOK_SECRET")
			leaks := func(kind, name string, env []corev1.EnvVar, allowed ...string) {
				for _, e := range env {
					if slices.Contains(channelSecrets, e.Name) && !slices.Contains(allowed, e.Name) {
						t.Errorf("%s %s gets %s, a secret only %v needs", kind, name, e.Name, map[bool]string{true: "webhook", false: "notify"}[e.Name == "LEGAL_WEBHOOK_SECRET"])
					}
				}
			}
			for n, d := range r.deployments {
				var allowed []string
				switch n {
				case "earshot-notify":
					allowed = notifySecrets
				case "earshot-webhook":
					allowed = []string{"LEGAL_WEBHOOK_SECRET"}
				}
				leaks("Deployment", n, d.Spec.Template.Spec.Containers[0].Env, allowed...)
			}
			for _, s := range []string{"ingest", "match", "enrich", "route", "sink", "api"} {
				if r.deployments["earshot-"+s] == nil {
					t.Errorf("no Deployment earshot-%s to check", s)
				}
			}
			for n, j := range r.jobs {
				leaks("Job", n, j.Spec.Template.Spec.Containers[0].Env)
			}
			// The ClickHouse password: only what connects to ClickHouse
			// (sink, route's escalations, the API, migrate).
			hasCH := func(env []corev1.EnvVar) bool {
				return slices.ContainsFunc(env, func(e corev1.EnvVar) bool { return e.Name == "CLICKHOUSE_PASSWORD" })
			}
			for n, d := range r.deployments {
				want := slices.Contains([]string{"earshot-sink", "earshot-route", "earshot-api"}, n)
				if got := hasCH(d.Spec.Template.Spec.Containers[0].Env); got != want {
					t.Errorf("Deployment %s: CLICKHOUSE_PASSWORD %v, want %v", n, got, want)
				}
			}
			for n, j := range r.jobs {
				if !hasCH(j.Spec.Template.Spec.Containers[0].Env) {
					t.Errorf("Job %s: no CLICKHOUSE_PASSWORD", n)
				}
			}
			cm := r.configMaps["earshot-config"].Data["earshot.yaml"]
			var cfg struct {
				Search struct {
					Dir string `json:"dir"`
				} `json:"search"`
			}
			if err := yaml.Unmarshal([]byte(cm), &cfg); err != nil {
				t.Fatal(err)
			}
			d := r.deployments["earshot-index"]
			if d == nil {
				return
			}
			var mounted string
			for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
				for _, vol := range d.Spec.Template.Spec.Volumes {
					if vol.Name == m.Name && vol.PersistentVolumeClaim != nil {
						mounted = m.MountPath
					}
				}
			}
			if cfg.Search.Dir == "" || mounted != cfg.Search.Dir {
				t.Errorf("index: search.dir %q, the volume mounted at %q", cfg.Search.Dir, mounted)
			}
			if pvc := r.pvcs["earshot-index"]; pvc == nil || !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteOnce) {
				t.Errorf("index: claim %v, want ReadWriteOnce", pvc)
			}
		})
	}
}

// A channel whose URL is in the environment, with no Secret named to set it
// from, is refused at render time, not left to crash-loop the pod.
func TestHelmNotifyWithoutSecret(t *testing.T) {
	v := optionalValues(map[string]any{})
	delete(v, "secretEnv")
	_, err := render(t, v)
	if err == nil || !strings.Contains(err.Error(), "secretEnv.existingSecret") {
		t.Errorf("rendered without secretEnv.existingSecret: %v", err)
	}
}

// TestHelmIngestWith renders match and enrich inside the ingest process
// (stages.ingest.with, earshot ingest --with): ingest gets the flag, and
// match and enrich get neither a Deployment nor a KEDA ScaledObject, whose
// consumer groups would read topics nothing is produced to any more. What
// the command refuses, the chart refuses at render time.
func TestHelmIngestWith(t *testing.T) {
	for _, c := range []struct {
		with []any
		flag string
	}{{[]any{"match"}, "match"}, {[]any{"match", "enrich"}, "match,enrich"}} {
		t.Run(c.flag, func(t *testing.T) {
			v := withFiles(t, readValues(t, productionFile))
			v["stages"].(map[string]any)["ingest"].(map[string]any)["with"] = c.with
			v["keda"] = map[string]any{"enabled": true}
			r, err := render(t, v)
			if err != nil {
				t.Fatal(err)
			}
			r.check(t)
			args := r.deployments["earshot-ingest"].Spec.Template.Spec.Containers[0].Args
			if i := slices.Index(args, "--with"); i < 0 || i+1 >= len(args) || args[i+1] != c.flag {
				t.Errorf("ingest args %q, want --with %s", args, c.flag)
			}
			for _, s := range stages {
				fused := slices.Contains(c.with, any(s))
				if (r.deployments["earshot-"+s] == nil) != fused {
					t.Errorf("%s: Deployment rendered %v, want %v", s, r.deployments["earshot-"+s] != nil, !fused)
				}
				scaled := false
				for _, so := range r.scaled {
					scaled = scaled || so.Spec.ScaleTargetRef.Name == "earshot-"+s
				}
				if fused && scaled {
					t.Errorf("%s runs in ingest and is scaled by KEDA", s)
				}
			}
		})
	}
	for _, bad := range [][]any{{"enrich"}, {"enrich", "match"}, {"match", "enrich", "route"}, {"match", "match"}} {
		v := withFiles(t, readValues(t, productionFile))
		v["stages"].(map[string]any)["ingest"].(map[string]any)["with"] = bad
		if _, err := render(t, v); err == nil || !strings.Contains(err.Error(), "stages.ingest.with") {
			t.Errorf("with %v: %v, want refused naming stages.ingest.with", bad, err)
		}
	}
	v := map[string]any{"stages": map[string]any{"ingest": map[string]any{"enabled": false, "with": []any{"match"}}}}
	if _, err := render(t, v); err == nil || !strings.Contains(err.Error(), "stages.ingest.enabled") {
		t.Errorf("with and ingest off: %v, want refused", err)
	}
}

// checkRules: the alert rules the chart ships (deploy/helm/earshot/rules,
// also a plain Prometheus rule file) are one PrometheusRule whose every
// alert has an expression, a for, a severity and a summary, and which
// covers the signals an operator on call needs: a stalled stage, a sink
// that cannot write, panics, undelivered notifications. (The metric names
// are checked against the code by internal/archtest.)
func checkRules(t *testing.T, rules map[string]*monitoringv1.PrometheusRule) {
	t.Helper()
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(rules))
	}
	alerts := map[string]bool{}
	for _, pr := range rules {
		for _, g := range pr.Spec.Groups {
			for _, rule := range g.Rules {
				if rule.Alert == "" {
					continue
				}
				alerts[rule.Alert] = true
				if rule.Expr.String() == "" || rule.For == nil || rule.Labels["severity"] == "" || rule.Annotations["summary"] == "" {
					t.Errorf("alert %s: expr %q, for %v, labels %v, annotations %v; want all four", rule.Alert, rule.Expr.String(), rule.For, rule.Labels, rule.Annotations)
				}
			}
		}
	}
	for _, want := range []string{"EarshotStageStalled", "EarshotSinkRetrying", "EarshotStagePanics", "EarshotNotificationsFailing"} {
		if !alerts[want] {
			t.Errorf("no alert rule %s (have %v)", want, alerts)
		}
	}
}

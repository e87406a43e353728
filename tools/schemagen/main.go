// Command schemagen writes the strict JSON schemas that kubeconform checks the chart's
// output against (deploy/schemas/, docs/kubernetes.md "CI"). They are generated from the
// Go types of the pinned k8s.io/api and prometheus-operator modules, with the rules of
// the Kubernetes OpenAPI generators:
//
//   - one property per JSON field (embedded ",inline" structs merged), no others
//     (additionalProperties: false, as kubeconform's -strict schemas);
//   - a field is required when its comment says +required, optional when it says
//     +optional (or +kubebuilder:validation:Optional), else optional exactly when its
//     json tag has omitempty or omitzero;
//   - the types with their own wire form: Quantity (string or number), IntOrString
//     (string or integer), Time and MicroTime (string), RawExtension and FieldsV1 (any
//     object); a non-required value may be null.
//
// Run from tools/: go run ./schemagen -out ../deploy/schemas
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// kinds are the resources the chart renders, with their apiVersion.
var kinds = []struct {
	apiVersion string
	obj        any
}{
	{"v1", corev1.ConfigMap{}},
	{"v1", corev1.Secret{}},
	{"v1", corev1.Service{}},
	{"v1", corev1.ServiceAccount{}},
	{"v1", corev1.PersistentVolumeClaim{}},
	{"v1", corev1.Pod{}},
	{"apps/v1", appsv1.Deployment{}},
	{"batch/v1", batchv1.Job{}},
	{"networking.k8s.io/v1", networkingv1.Ingress{}},
	{"networking.k8s.io/v1", networkingv1.NetworkPolicy{}},
	{"autoscaling/v2", autoscalingv2.HorizontalPodAutoscaler{}},
	{"policy/v1", policyv1.PodDisruptionBudget{}},
	{"monitoring.coreos.com/v1", monitoringv1.ServiceMonitor{}},
	{"monitoring.coreos.com/v1", monitoringv1.PrometheusRule{}},
}

type schema = map[string]any

func main() {
	out := flag.String("out", "../deploy/schemas", "directory for the .json files")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	g := &gen{markers: map[string]map[string]marker{}}
	for _, k := range kinds {
		t := reflect.TypeOf(k.obj)
		g.defs = map[string]schema{}
		root := g.object(t, true)
		props := root["properties"].(schema)
		props["apiVersion"] = schema{"type": "string", "enum": []string{k.apiVersion}}
		props["kind"] = schema{"type": "string", "enum": []string{t.Name()}}
		root["required"] = addRequired(root["required"], "apiVersion", "kind")
		root["$schema"] = "http://json-schema.org/schema#"
		root["x-kubernetes-group-version-kind"] = []schema{{"group": group(k.apiVersion), "version": version(k.apiVersion), "kind": t.Name()}}
		if len(g.defs) > 0 {
			root["definitions"] = g.defs
		}
		b, err := json.MarshalIndent(root, "", " ")
		if err != nil {
			fail(err)
		}
		name := filepath.Join(*out, fileName(t.Name(), k.apiVersion))
		if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
			fail(err)
		}
	}
}

// fileName is kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json.
func fileName(kind, apiVersion string) string {
	g, v, found := strings.Cut(apiVersion, "/")
	suffix := "-" + strings.ToLower(strings.Split(g, ".")[0])
	if found {
		suffix += "-" + strings.ToLower(v)
	}
	return strings.ToLower(kind) + suffix + ".json"
}

func group(apiVersion string) string {
	if g, _, found := strings.Cut(apiVersion, "/"); found {
		return g
	}
	return ""
}

func version(apiVersion string) string {
	_, v, found := strings.Cut(apiVersion, "/")
	if found {
		return v
	}
	return apiVersion
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "schemagen:", err)
	os.Exit(1)
}

type marker struct{ optional, required bool }

type gen struct {
	markers map[string]map[string]marker // package path → "Type.Field" → marker
	defs    map[string]schema
}

var (
	quantityT  = reflect.TypeOf(resource.Quantity{})
	intOrStrT  = reflect.TypeOf(intstr.IntOrString{})
	timeT      = reflect.TypeOf(metav1.Time{})
	microTimeT = reflect.TypeOf(metav1.MicroTime{})
	rawExtT    = reflect.TypeOf(runtime.RawExtension{})
	fieldsV1T  = reflect.TypeOf(metav1.FieldsV1{})
)

// special is the schema of a type with its own JSON form, or nil.
func special(t reflect.Type) schema {
	switch t {
	case quantityT:
		return schema{"oneOf": []schema{{"type": "string"}, {"type": "number"}}}
	case intOrStrT:
		return schema{"oneOf": []schema{{"type": "string"}, {"type": "integer"}}}
	case timeT, microTimeT:
		return schema{"type": "string", "format": "date-time"}
	case rawExtT, fieldsV1T:
		return schema{"type": "object"}
	}
	return nil
}

// value is the schema of a field's type; nullable adds null to its type.
func (g *gen) value(t reflect.Type, nullable bool) schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s := special(t); s != nil {
		return withNull(s, nullable)
	}
	switch t.Kind() {
	case reflect.Struct:
		name := defName(t)
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = schema{} // a placeholder stops recursion
			g.defs[name] = g.object(t, false)
		}
		if nullable {
			return schema{"oneOf": []schema{{"$ref": "#/definitions/" + name}, {"type": "null"}}}
		}
		return schema{"$ref": "#/definitions/" + name}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return withNull(schema{"type": "string", "format": "byte"}, nullable)
		}
		return withNull(schema{"type": "array", "items": g.value(t.Elem(), false)}, nullable)
	case reflect.Map:
		return withNull(schema{"type": "object", "additionalProperties": g.value(t.Elem(), false)}, nullable)
	case reflect.String:
		return withNull(schema{"type": "string"}, nullable)
	case reflect.Bool:
		return withNull(schema{"type": "boolean"}, nullable)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return withNull(schema{"type": "integer"}, nullable)
	case reflect.Float32, reflect.Float64:
		return withNull(schema{"type": "number"}, nullable)
	case reflect.Interface:
		return schema{}
	}
	fail(fmt.Errorf("no schema for %s (%s)", t, t.Kind()))
	return nil
}

func withNull(s schema, nullable bool) schema {
	if !nullable {
		return s
	}
	if typ, ok := s["type"].(string); ok {
		s["type"] = []string{typ, "null"}
		return s
	}
	return schema{"oneOf": []schema{s, {"type": "null"}}}
}

func defName(t reflect.Type) string {
	p := t.PkgPath()
	p = strings.TrimPrefix(p, "k8s.io/")
	p = strings.TrimPrefix(p, "github.com/")
	return strings.ReplaceAll(p, "/", ".") + "." + t.Name()
}

// object is the schema of a struct: its JSON fields, required ones listed, no others.
func (g *gen) object(t reflect.Type, root bool) schema {
	props := schema{}
	var required []string
	g.fields(t, props, &required)
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return s
}

func (g *gen) fields(t reflect.Type, props schema, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && special(ft) == nil {
				g.fields(ft, props, required)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		req := g.isRequired(t, f, opts)
		props[name] = g.value(f.Type, !req)
		if req {
			*required = append(*required, name)
		}
	}
}

// isRequired applies the generators' rule (see the package comment).
func (g *gen) isRequired(t reflect.Type, f reflect.StructField, jsonOpts string) bool {
	m := g.marker(t, f.Name)
	switch {
	case m.required:
		return true
	case m.optional:
		return false
	}
	for _, o := range strings.Split(jsonOpts, ",") {
		if o == "omitempty" || o == "omitzero" {
			return false
		}
	}
	return true
}

func (g *gen) marker(t reflect.Type, field string) marker {
	pkg := t.PkgPath()
	ms, ok := g.markers[pkg]
	if !ok {
		ms = parseMarkers(pkg)
		g.markers[pkg] = ms
	}
	return ms[t.Name()+"."+field]
}

// parseMarkers reads the comment markers of every struct field in a package's source.
func parseMarkers(pkg string) map[string]marker {
	out := map[string]marker{}
	cmd := exec.Command("go", "list", "-f", "{{.Dir}}", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dir, err := cmd.Output()
	if err != nil {
		fail(fmt.Errorf("go list %s: %v: %s", pkg, err, stderr.String()))
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "*.go"))
	if err != nil {
		fail(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
		if err != nil {
			fail(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			for _, fl := range st.Fields.List {
				m := markerOf(fl.Doc)
				for _, id := range fl.Names {
					out[ts.Name.Name+"."+id.Name] = m
				}
				if len(fl.Names) == 0 { // embedded
					if id := embeddedName(fl.Type); id != "" {
						out[ts.Name.Name+"."+id] = m
					}
				}
			}
			return false
		})
	}
	return out
}

func embeddedName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.StarExpr:
		return embeddedName(x.X)
	}
	return ""
}

func markerOf(doc *ast.CommentGroup) marker {
	var m marker
	if doc == nil {
		return m
	}
	for _, c := range doc.List {
		line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		switch {
		case line == "+optional", strings.HasPrefix(line, "+optional="), line == "+kubebuilder:validation:Optional", line == "+k8s:optional":
			m.optional = true
		case line == "+required", line == "+kubebuilder:validation:Required", line == "+k8s:required":
			m.required = true
		}
	}
	return m
}

func addRequired(v any, names ...string) []string {
	var req []string
	if r, ok := v.([]string); ok {
		req = r
	}
	for _, n := range names {
		found := false
		for _, r := range req {
			found = found || r == n
		}
		if !found {
			req = append(req, n)
		}
	}
	sort.Strings(req)
	return req
}

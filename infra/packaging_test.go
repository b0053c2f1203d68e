// Package infra holds the Terraform deployment (modules/, envs/) and the Go tests that tie it
// to the code: the source archive Cloud Functions builds from, and the Firestore indexes.
package infra

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hivemerge/hivemerge/infra/internal/srcpack"

	// The buildpack's generated main imports funcframework, which no package of ours does;
	// importing it here keeps its go.sum entries through go mod tidy, so the archive builds.
	_ "github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

// buildpackMain is the main package the Go buildpack generates for a function package that
// imports github.com/GoogleCloudPlatform/functions-framework-go/functions (its declarative
// template), with the module path in place of {{.Package}}. The buildpack writes it to
// functions.local/app/main.go inside the function source and builds that directory.
const buildpackMain = `// Binary main file implements an HTTP server that loads and runs user's code
// on incoming HTTP requests.
package main

import (
	"log"
	"net/http"
	"os"

	_ %q

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	http.HandleFunc("/robots.txt", http.NotFound)
	http.HandleFunc("/favicon.ico", http.NotFound)

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("Function failed to start: %%v\n", err)
	}
}
`

const modulePath = "github.com/hivemerge/hivemerge"

func buildArchive(t *testing.T) ([]byte, []string) {
	t.Helper()
	var buf bytes.Buffer
	names, err := srcpack.Build(&buf, srcpack.Options{Root: ".."})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), names
}

func TestArchiveIsDeterministicAndMinimal(t *testing.T) {
	a, names := buildArchive(t)
	b, _ := buildArchive(t)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same tree differ")
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries are not sorted: %v", names)
	}
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
		switch {
		case strings.HasSuffix(n, "_test.go"):
			t.Errorf("test file %s in the archive", n)
		case strings.Contains(n, "/testdata/"), strings.Contains(n, "node_modules/"):
			t.Errorf("%s does not belong in the archive", n)
		case strings.HasPrefix(n, "infra/"), strings.HasPrefix(n, "scheduler/cmd/"):
			t.Errorf("%s is not needed by the functions", n)
		}
	}
	// The API runs the scheduler's jobs on demand through its service; the daemon stays out.
	for _, want := range []string{"go.mod", "go.sum", srcpack.RootFile, "scheduler/service.go"} {
		if !has[want] {
			t.Errorf("archive lacks %s", want)
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(srcpack.ModTime) {
			t.Errorf("%s: time %v, want the fixed %v", f.Name, f.Modified, srcpack.ModTime)
		}
	}
}

// TestArchiveBuildsLikeTheBuildpack unpacks the archive into an empty directory, adds the main
// package the Go buildpack generates, builds it there with the module proxy off (only the
// archive's go.mod and go.sum and the local module cache), and starts the binary for every
// entry point the environments deploy, as Cloud Functions does (FUNCTION_TARGET, PORT). The
// real buildpack (Cloud Build) cannot run offline; this reproduces what it does with the
// archive.
func TestArchiveBuildsLikeTheBuildpack(t *testing.T) {
	// -short skips it on a laptop; CI runs it whatever the flags.
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds the function binary")
	}
	data, _ := buildArchive(t)
	dir := t.TempDir()
	unzip(t, data, dir)

	appDir := filepath.Join(dir, "functions.local", "app")
	if err := os.MkdirAll(appDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(appDir, "main.go"), fmt.Appendf(nil, buildpackMain, modulePath), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "function")
	build := exec.Command("go", "build", "-o", bin, "./functions.local/app")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the archive does not build on its own: %v\n%s", err, out)
	}

	entryPoints := deployedEntryPoints(t)
	for _, ep := range entryPoints {
		t.Run(ep, func(t *testing.T) {
			base, stop := startFunction(t, bin, ep)
			defer stop()
			if ep != "API" {
				return
			}
			// The API function serves the whole router under FUNCTION_TARGET's "/".
			resp, err := http.Get(base + "/health")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET /health: %s\n%s", resp.Status, body)
			}
		})
	}
}

// deployedEntryPoints reads the entry points the environments deploy: the keys of the functions
// default in the hivemerge module (commented-out entries do not count). Every environment must
// keep that default (its functions variable defaults to null and is passed to the module as is);
// an environment with a map of its own fails here rather than going unchecked.
func deployedEntryPoints(t *testing.T) []string {
	t.Helper()
	const module = "modules/hivemerge/variables.tf"
	src, err := os.ReadFile(filepath.FromSlash(module))
	if err != nil {
		t.Fatal(err)
	}
	out, err := defaultFunctionKeys(src)
	if err != nil {
		t.Fatalf("%s: %v", module, err)
	}

	envs, err := filepath.Glob(filepath.Join("envs", "*"))
	if err != nil || len(envs) == 0 {
		t.Fatalf("no environments found: %v", err)
	}
	nullDefault := regexp.MustCompile(`(?s)variable "functions" \{\n[^}]*?\n  default += null\n\}`)
	passed := regexp.MustCompile(`(?m)^  functions += var\.functions$`)
	for _, env := range envs {
		vars, err := os.ReadFile(filepath.Join(env, "variables.tf"))
		if err != nil {
			t.Fatal(err)
		}
		main, err := os.ReadFile(filepath.Join(env, "main.tf"))
		if err != nil {
			t.Fatal(err)
		}
		if !nullDefault.Match(vars) || !passed.Match(main) {
			t.Fatalf("%s: expected variable \"functions\" with default = null, passed to the module as functions = var.functions; "+
				"if the environment deploys its own map, read its entry points here", env)
		}
	}
	return out
}

// defaultFunctionKeys returns the sorted keys of the default of variable "functions" in a
// variables.tf, ignoring commented-out entries.
func defaultFunctionKeys(src []byte) ([]string, error) {
	block := regexp.MustCompile(`(?s)variable "functions" \{.*?\n  default = \{\n(.*?)\n  \}\n`)
	key := regexp.MustCompile(`(?m)^    ([A-Z][A-Za-z0-9]*) = \{`)
	m := block.FindSubmatch(src)
	if m == nil {
		return nil, fmt.Errorf("no default for variable \"functions\"")
	}
	var out []string
	for _, k := range key.FindAllSubmatch(m[1], -1) {
		out = append(out, string(k[1]))
	}
	sort.Strings(out)
	if !slices.Contains(out, "API") {
		return nil, fmt.Errorf("parsed entry points %v: expected at least API", out)
	}
	return out, nil
}

// TestDefaultFunctionKeys keeps the parser honest: commented-out entries (ExecuteTask until the
// merge engine lands) and nested maps are not entry points, and a default without API is refused.
func TestDefaultFunctionKeys(t *testing.T) {
	src := []byte(`variable "functions" {
  type = map(object({ service_account = string }))
  default = {
    API = {
      service_account = "api"
      oidc_roles = { scheduler = "operator" }
    }
    # ExecuteTask = {
    #   service_account = "executor"
    # }
    GetTask = { service_account = "api" }
  }
}
`)
	got, err := defaultFunctionKeys(src)
	if err != nil || strings.Join(got, ",") != "API,GetTask" {
		t.Errorf("defaultFunctionKeys = %v, %v; want [API GetTask]", got, err)
	}
	if _, err := defaultFunctionKeys([]byte("variable \"functions\" {\n  default = {\n    GetTask = {}\n  }\n}\n")); err == nil {
		t.Error("a default without API must be refused")
	}
	if _, err := defaultFunctionKeys([]byte("variable \"functions\" {\n  default = null\n}\n")); err == nil {
		t.Error("a variable without a map default must be refused")
	}
}

// startFunction runs the binary as Cloud Functions runs one entry point and waits until it
// listens. The framework exits at start when FUNCTION_TARGET names no registered function.
func startFunction(t *testing.T, bin, target string) (string, func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"PORT="+port,
		"FUNCTION_TARGET="+target,
		"FUNCTION_SIGNATURE_TYPE=http",
		"HIVEMERGE_STORE=bolt",
		"HIVEMERGE_BOLT_PATH="+filepath.Join(t.TempDir(), "hivemerge.db"),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cancel()
		<-exited
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			cancel()
			t.Fatalf("FUNCTION_TARGET=%s: the function exited at start (%v): is %s registered with functions.HTTP?\n%s", target, err, target, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return "http://127.0.0.1:" + port, stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("FUNCTION_TARGET=%s: not listening after 20s\n%s", target, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func unzip(t *testing.T, data []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			t.Fatalf("entry %s escapes the directory", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

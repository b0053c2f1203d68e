package scripts_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// walkthrough returns the commands of the README's walk-through: the shell blocks marked
// <!-- walkthrough -->, one command per line, lines ending in \ joined, comments left out.
func walkthrough(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "<!-- walkthrough -->" {
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "```sh" {
			t.Fatalf("README.md line %d: <!-- walkthrough --> is not followed by a ```sh block", i+1)
		}
		cmd := ""
		for i += 2; i < len(lines) && lines[i] != "```"; i++ {
			l := lines[i]
			if cmd == "" && (strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#")) {
				continue
			}
			if c, ok := strings.CutSuffix(l, `\`); ok {
				cmd += c
				continue
			}
			cmds = append(cmds, cmd+l)
			cmd = ""
		}
	}
	if len(cmds) == 0 {
		t.Fatal("README.md has no <!-- walkthrough --> block")
	}
	return cmds
}

// TestReadmeWalkthrough runs the README's walk-through, command by command, against the demo
// as a newcomer pastes it, and checks what each says: every curl answers 2xx, the merge ends in
// success with fewer files, and the rollback gives the partition its files back.
func TestReadmeWalkthrough(t *testing.T) {
	cmds := walkthrough(t)
	env := with(freeEnv(t), "HIVEMERGE_DEMO_SCALE", "10")
	d := script(t, "demo.sh", env)
	out := d.waitFor(t, "Ctrl-C stops the demo")
	url := regexp.MustCompile(`API docs     : http://127\.0\.0\.1:(\d+)/docs`).FindStringSubmatch(out)
	if url == nil {
		t.Fatalf("no docs URL in the banner:\n%s", out)
	}
	waitForDemoScan(t, env["HIVEMERGE_DEMO_DIR"], url[1])

	// One shell runs every command, so variables carry over as in a terminal; curl fails on
	// an HTTP error and each command's exit status is checked.
	var sh strings.Builder
	sh.WriteString("set -o pipefail\ncurl() { command curl --fail-with-body -sS \"$@\"; }\n")
	for i, c := range cmds {
		fmt.Fprintf(&sh, "echo '::cmd %d'\n%s\nrc=$?; [ $rc = 0 ] || { echo \"::failed $rc\"; exit 1; }\n", i, c)
	}
	// A walk-through that hangs (a task that never ends) fails the test instead of outliving it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	bash := exec.CommandContext(ctx, "bash", "-c", sh.String())
	bash.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	bash.Cancel = func() error { return syscall.Kill(-bash.Process.Pid, syscall.SIGKILL) }
	bash.Dir = ".."
	bash.Env = append(os.Environ(), "PORT="+url[1], "HIVEMERGE_DEMO_DIR="+env["HIVEMERGE_DEMO_DIR"], "HIVEMERGE_API_TOKEN=")
	b, err := bash.CombinedOutput()
	outs := map[int]string{}
	for _, part := range strings.Split(string(b), "::cmd ")[1:] {
		n, rest, _ := strings.Cut(part, "\n")
		i, _ := strconv.Atoi(n)
		outs[i] = rest
	}
	if err != nil {
		last := len(outs) - 1
		t.Fatalf("the walk-through's command %q failed (%v):\n%s", cmds[last], err, outs[last])
	}
	for i, c := range cmds {
		t.Logf("$ %s\n%s", c, outs[i])
	}

	// What the walk-through promises: the same preview before the merge, after it and after
	// the rollback finds the partition's files (as many as `ls` counts), then fewer in another
	// place, then the first ones again; and the task ended in success.
	type listing struct {
		location string
		files    int
	}
	var seen []listing
	re := regexp.MustCompile(`"location":"([^"]*)","source":"[a-z]*","files_before":(\d+)`)
	count, success := -1, false
	for i, c := range cmds {
		if m := re.FindStringSubmatch(outs[i]); m != nil && strings.Contains(c, "grep -o") {
			n, _ := strconv.Atoi(m[2])
			seen = append(seen, listing{m[1], n})
		}
		if strings.HasPrefix(c, "ls ") && strings.HasSuffix(c, "| wc -l") {
			count, _ = strconv.Atoi(strings.TrimSpace(outs[i]))
		}
		success = success || strings.Contains(outs[i], `"status":"success"`)
	}
	if len(seen) != 3 || seen[0].files != count || seen[1].files >= seen[0].files || seen[1].location == seen[0].location || seen[2] != seen[0] {
		t.Errorf("ls counted %d files; the partition before the merge, after it and after the rollback: %v; want the counted files, fewer elsewhere, then the first again", count, seen)
	}
	if !success {
		t.Error("no command showed the task's status success")
	}
}

// waitForDemoScan waits for the scan the local server starts at the demo's first start: the
// walk-through begins with its figures.
func waitForDemoScan(t *testing.T, dir, port string) {
	t.Helper()
	var id []string
	for id == nil {
		b, err := os.ReadFile(dir + "/local.log")
		if err != nil {
			t.Fatal(err)
		}
		id = regexp.MustCompile(`scanning the demo cluster".*"scan_id":"([^"]+)"`).FindStringSubmatch(string(b))
		if id == nil {
			time.Sleep(100 * time.Millisecond) // polling the log; the scan starts with the server
		}
	}
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/api/v1/clusters/demo/scans/"+id[1], nil)
		req.Header.Set("Authorization", "Bearer demo-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch s := string(b); {
		case strings.Contains(s, `"status":"succeeded"`):
			return
		case strings.Contains(s, `"status":"pending"`), strings.Contains(s, `"status":"running"`):
			time.Sleep(200 * time.Millisecond) // polling the scan's status
		default:
			t.Fatalf("the demo's scan: %d %s", resp.StatusCode, s)
		}
	}
}

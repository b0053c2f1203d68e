package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hivemerge/hivemerge/shared/merge"
)

const clustersUsage = `Usage:
  hivemerge clusters [list]
  hivemerge clusters get ID
  hivemerge clusters add --id ID --host HOST [--port 10000] [--name NAME] [--transport binary|http]
                         [--auth NOSASL|NONE|LDAP|KERBEROS] [--tls] [--username U]
                         [--password-ref env:HIVEMERGE_SECRET_X|file:/path|secretmanager:...]
                         [--fs-default hdfs://...] [--max-running N]
  hivemerge clusters test ID
  hivemerge clusters rm ID

The registry never returns passwords; a cluster names where its password lives
(--password-ref), never the password itself. "clusters test" exits 7 when the connection
fails, and says at which stage: secret, connect, authenticate or query.

Examples:
  hivemerge clusters
  hivemerge clusters add --id prod --host hs2.example.com --auth LDAP --username etl \
      --password-ref env:HIVEMERGE_SECRET_PROD
  hivemerge clusters test prod
`

func (a *app) clusters(args []string) error {
	sub := "list"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list", "ls":
		return a.clustersList(args)
	case "get", "show":
		return a.clusterGet(args)
	case "add", "create":
		return a.clusterAdd(args)
	case "test":
		return a.clusterTest(args)
	case "rm", "delete", "remove":
		return a.clusterRemove(args)
	}
	return usageErrorf("clusters: unknown subcommand %q (list, get, add, test, rm)", sub)
}

// flags returns a command's flag set, which accepts the global flags too.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	a.g.register(fs)
	return fs
}

// args parses a command with exactly n positional arguments, named in want.
func (a *app) args(fs *flag.FlagSet, args []string, help string, want ...string) ([]string, error) {
	pos, err := a.parse(fs, args, help, false)
	if err != nil {
		return nil, err
	}
	if len(pos) != len(want) {
		if len(want) == 0 {
			return nil, usageErrorf("%s takes no arguments, got %q (see hivemerge %s -h)", fs.Name(), pos, fs.Name())
		}
		return nil, usageErrorf("%s needs %s, got %d arguments (see hivemerge %s -h)", fs.Name(), strings.Join(want, " "), len(pos), fs.Name())
	}
	for i, p := range pos {
		if p == "" {
			return nil, usageErrorf("%s: %s is empty", fs.Name(), want[i])
		}
	}
	return pos, nil
}

func (a *app) clustersList(args []string) error {
	fs := a.flags("clusters")
	if _, err := a.args(fs, args, clustersUsage); err != nil {
		return err
	}
	var body struct{ Clusters []merge.Cluster }
	raw, err := a.get("/api/v1/clusters", nil, &body)
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	if len(body.Clusters) == 0 {
		fmt.Fprintln(a.stdout, "no clusters registered; add one with: hivemerge clusters add --id ID --host HOST")
		return nil
	}
	t := newTable(a.stdout, "ID", "NAME", "ADDRESS", "TRANSPORT", "AUTH", "TLS", "MAX RUNNING")
	for _, c := range body.Clusters {
		t.row(c.ID, c.Name, fmt.Sprintf("%s:%d", c.Host, c.Port), c.Transport, c.Auth, yesNo(c.TLS), strconv.Itoa(c.MaxRunningTasks))
	}
	return t.flush()
}

func (a *app) clusterGet(args []string) error {
	fs := a.flags("clusters get")
	pos, err := a.args(fs, args, clustersUsage, "ID")
	if err != nil {
		return err
	}
	var c merge.Cluster
	raw, err := a.get("/api/v1/clusters/"+seg(pos[0]), nil, &c)
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	return a.printCluster(&c)
}

func (a *app) printCluster(c *merge.Cluster) error {
	return fields(a.stdout,
		"id", c.ID,
		"name", c.Name,
		"address", fmt.Sprintf("%s:%d", c.Host, c.Port),
		"transport", c.Transport,
		"auth", c.Auth,
		"tls", yesNo(c.TLS),
		"username", c.Username,
		"password ref", c.PasswordRef,
		"fs default", c.FSDefault,
		"max running", strconv.Itoa(c.MaxRunningTasks),
		"created", humanTime(c.CreatedAt),
		"updated", humanTime(c.UpdatedAt),
	)
}

func (a *app) clusterAdd(args []string) error {
	fs := a.flags("clusters add")
	var b struct {
		ID              string `json:"id"`
		Name            string `json:"name,omitempty"`
		Host            string `json:"host"`
		Port            int    `json:"port,omitempty"`
		Transport       string `json:"transport,omitempty"`
		Auth            string `json:"auth,omitempty"`
		TLS             bool   `json:"tls,omitempty"`
		Username        string `json:"username,omitempty"`
		PasswordRef     string `json:"password_ref,omitempty"`
		FSDefault       string `json:"fs_default,omitempty"`
		MaxRunningTasks int    `json:"max_running_tasks,omitempty"`
	}
	fs.StringVar(&b.ID, "id", "", "cluster `id`: lowercase letters, digits, - and _ (required)")
	fs.StringVar(&b.Name, "name", "", "display `name` (default: the id)")
	fs.StringVar(&b.Host, "host", "", "HiveServer2 `host` (required)")
	fs.IntVar(&b.Port, "port", 0, "HiveServer2 `port` (server default 10000)")
	fs.StringVar(&b.Transport, "transport", "", "HiveServer2 `transport`: binary or http (server default binary)")
	fs.StringVar(&b.Auth, "auth", "", "authentication `mechanism`: NOSASL, NONE, LDAP or KERBEROS (server default NONE)")
	fs.BoolVar(&b.TLS, "tls", false, "connect over TLS")
	fs.StringVar(&b.Username, "username", "", "user `name`")
	fs.StringVar(&b.PasswordRef, "password-ref", "", "where the password lives, never the password: a `reference` env:NAME, file:/path or secretmanager:projects/P/secrets/S")
	fs.StringVar(&b.FSDefault, "fs-default", "", "default filesystem `URI`: hdfs://, viewfs://, gs:// or file://")
	fs.IntVar(&b.MaxRunningTasks, "max-running", 0, "at most `N` running tasks at once (server default 2)")
	if _, err := a.args(fs, args, clustersUsage); err != nil {
		return err
	}
	if b.ID == "" || b.Host == "" {
		return usageErrorf("clusters add needs --id and --host (see hivemerge clusters -h)")
	}
	var c merge.Cluster
	raw, err := a.do(http.MethodPost, "/api/v1/clusters", nil, b, &c, "")
	if err != nil {
		return err
	}
	if a.g.json {
		return a.raw(raw)
	}
	fmt.Fprintf(a.stdout, "cluster %s added (%s:%d); check it with: hivemerge clusters test %s\n", c.ID, c.Host, c.Port, c.ID)
	return nil
}

func (a *app) clusterTest(args []string) error {
	fs := a.flags("clusters test")
	pos, err := a.args(fs, args, clustersUsage, "ID")
	if err != nil {
		return err
	}
	var res merge.ConnectionTest
	raw, err := a.do(http.MethodPost, "/api/v1/clusters/"+seg(pos[0])+"/test", nil, nil, &res, "")
	if err != nil {
		return err
	}
	if a.g.json {
		if err := a.raw(raw); err != nil {
			return err
		}
	} else {
		status := a.paint(green, "ok")
		if !res.OK {
			status = a.paint(red, "failed")
		}
		if err := fields(a.stdout,
			"cluster", res.ClusterID,
			"result", status,
			"stage", string(res.Stage),
			"message", res.Message,
			"databases", ifOK(res.OK, strconv.Itoa(res.Databases)),
			"latency", ifOK(res.OK, humanMS(res.LatencyMS)),
			"duration", humanMS(res.DurationMS),
		); err != nil {
			return err
		}
	}
	if !res.OK {
		return &failedError{fmt.Sprintf("cluster %s: the connection test failed at stage %s", res.ClusterID, res.Stage)}
	}
	return nil
}

func (a *app) clusterRemove(args []string) error {
	fs := a.flags("clusters rm")
	pos, err := a.args(fs, args, clustersUsage, "ID")
	if err != nil {
		return err
	}
	if _, err := a.do(http.MethodDelete, "/api/v1/clusters/"+seg(pos[0]), nil, nil, nil, ""); err != nil {
		return err
	}
	if a.g.json {
		// 204 has no body; scripts still get one JSON document.
		b, _ := json.Marshal(map[string]string{"deleted": pos[0]})
		return a.raw(b)
	}
	fmt.Fprintf(a.stdout, "cluster %s removed\n", pos[0])
	return nil
}

// raw prints the API's JSON as it came, ending with one newline.
func (a *app) raw(b []byte) error {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	_, err := a.stdout.Write(b)
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ifOK(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

package hive_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/hive"
	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestConfigRefused(t *testing.T) {
	cases := []struct {
		name string
		cfg  hive.Config
	}{
		{"no host", hive.Config{}},
		{"bad port", hive.Config{Host: "h", Port: 70000}},
		{"unknown transport", hive.Config{Host: "h", Transport: "grpc"}},
		{"unknown auth", hive.Config{Host: "h", Auth: "PAM"}},
		{"LDAP without password", hive.Config{Host: "h", Auth: hive.AuthLDAP, Username: "u"}},
		{"session key with space", hive.Config{Host: "h", Session: map[string]string{"a b": "c"}}},
		{"session value with semicolon", hive.Config{Host: "h", Session: map[string]string{"hive.exec.parallel": "true;"}}},
		{"substitution back on", hive.Config{Host: "h", Session: map[string]string{"hive.variable.substitute": "true"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := hive.New(tc.cfg); !errors.Is(err, merge.ErrInvalid) {
				t.Errorf("New = %v, want merge.ErrInvalid", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := hive.New(hive.Config{Host: "hive.example", Session: map[string]string{"tez.queue.name": "etl"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	if cfg.Port != hive.DefaultPort || cfg.Transport != hive.TransportBinary || cfg.Auth != hive.AuthNone ||
		cfg.PoolSize != hive.DefaultPoolSize || cfg.SocketTimeout != hive.DefaultSocketTimeout ||
		cfg.ConnectTimeout != hive.DefaultConnectTimeout || cfg.Username != hive.DefaultUsername {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if cfg.Session["hive.variable.substitute"] != "false" || cfg.Session["tez.queue.name"] != "etl" {
		t.Errorf("session settings %v", cfg.Session)
	}
}

func TestConfigNeverLogsPassword(t *testing.T) {
	var buf bytes.Buffer
	cfg := hive.Config{Host: "h", Auth: hive.AuthLDAP, Username: "u", Password: "very-secret-1"}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cluster", "config", cfg)
	if strings.Contains(buf.String(), "very-secret-1") || strings.Contains(cfg.String(), "very-secret-1") {
		t.Errorf("password logged: %s / %s", buf.String(), cfg)
	}
}

package hdfsfs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/hivemerge/hivemerge/shared/fsys/hdfsfs"
)

// TestKerberosConfig checks the keytab configuration up to the KDC, which tests do not have:
// the login is attempted against a port where nothing listens.
func TestKerberosConfig(t *testing.T) {
	noHadoopEnv(t)
	dir := t.TempDir()
	kt := keytab.New()
	if err := kt.AddEntry("hive", "EXAMPLE.COM", "secret", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ktPath := filepath.Join(dir, "hive.keytab")
	if err := os.WriteFile(ktPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	krb5 := filepath.Join(dir, "krb5.conf")
	// udp_preference_limit=1 makes the library use TCP, refused at once on the closed port.
	if err := os.WriteFile(krb5, []byte(`[libdefaults]
  default_realm = EXAMPLE.COM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  udp_preference_limit = 1
[realms]
  EXAMPLE.COM = {
    kdc = 127.0.0.1:1
  }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	confDir := filepath.Join(dir, "conf")
	if err := os.Mkdir(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeConf(t, filepath.Join(confDir, "core-site.xml"), map[string]string{
		"fs.defaultFS":                   "hdfs://nn.example.com:8020",
		"hadoop.security.authentication": "kerberos",
	})
	writeConf(t, filepath.Join(confDir, "hdfs-site.xml"), map[string]string{
		"dfs.namenode.kerberos.principal": "nn/_HOST@EXAMPLE.COM",
	})

	tests := []struct {
		name    string
		cfg     hdfsfs.Config
		wantErr string
	}{
		{"cluster requires kerberos", hdfsfs.Config{ConfDir: confDir, User: "hive"}, "requires kerberos"},
		{"no realm", hdfsfs.Config{ConfDir: confDir, Kerberos: &hdfsfs.Kerberos{Principal: "hive", Keytab: ktPath, Krb5Conf: krb5}}, "no realm"},
		{"missing keytab", hdfsfs.Config{ConfDir: confDir, Kerberos: &hdfsfs.Kerberos{Principal: "hive@EXAMPLE.COM", Keytab: filepath.Join(dir, "nope"), Krb5Conf: krb5}}, "keytab"},
		{"no namenode principal", hdfsfs.Config{Addresses: []string{"nn:8020"}, Kerberos: &hdfsfs.Kerberos{Principal: "hive@EXAMPLE.COM", Keytab: ktPath, Krb5Conf: krb5}}, "namenode principal"},
		{"KDC unreachable", hdfsfs.Config{ConfDir: confDir, Kerberos: &hdfsfs.Kerberos{Principal: "hive@EXAMPLE.COM", Keytab: ktPath, Krb5Conf: krb5}}, "kerberos login as hive@EXAMPLE.COM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hdfsfs.New(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

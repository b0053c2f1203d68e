package merge_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/hivemerge/hivemerge/shared/merge"
)

func TestCheckPasswordRef(t *testing.T) {
	for _, c := range []struct {
		name, ref string
		wantErr   string // "" when the reference is accepted
	}{
		{"none", "", ""},
		{"env", "env:HIVEMERGE_SECRET_HIVE_PW", ""},
		{"env outside the prefix (the resolver's rule)", "env:HIVE_PASSWORD", ""},
		{"file", "file:/run/secrets/hive-pw", ""},
		{"secret manager", "secretmanager:projects/p/secrets/s/versions/2", ""},
		{"env API token", "env:HIVEMERGE_API_TOKEN", "own credentials"},
		{"env tokens", "env:HIVEMERGE_TOKENS", "own credentials"},
		{"env tokens file", "env:HIVEMERGE_TOKENS_FILE", "own credentials"},
		{"env Google credentials", "env:GOOGLE_APPLICATION_CREDENTIALS", "own credentials"},
		{"env OIDC roles", "env:HIVEMERGE_OIDC_ROLES", "own credentials"},
		{"env denied name in another case", "env:hivemerge_api_token", "own credentials"},
		{"/proc/self/environ", "file:/proc/self/environ", "/proc, /sys or /dev"},
		{"/proc itself", "file:/proc", "/proc, /sys or /dev"},
		{"/sys", "file:/sys/kernel/notes", "/proc, /sys or /dev"},
		{"/dev", "file:/dev/stdin", "/proc, /sys or /dev"},
		{"dot-dot into /proc", "file:/run/secrets/../../proc/self/environ", "clean absolute path"},
		{"double slash", "file://proc/self/environ", "clean absolute path"},
		{"trailing slash", "file:/run/secrets/", "clean absolute path"},
		{"a lookalike of /proc", "file:/process/pw", ""},
		{"relative file", "file:pw", "password_ref must be"},
		{"a pasted password", "hunter2", "password_ref must be"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := merge.CheckPasswordRef(c.ref)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("CheckPasswordRef(%q) = %v", c.ref, err)
			case c.wantErr != "" && (!errors.Is(err, merge.ErrInvalid) || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("CheckPasswordRef(%q) = %v; want ErrInvalid mentioning %q", c.ref, err, c.wantErr)
			}
		})
	}
}

func TestNormalizeHostAndFSDefault(t *testing.T) {
	for _, c := range []struct {
		name      string
		host, fs  string
		wantErr   string // "" when the cluster is accepted
		wantField string
	}{
		{name: "host name", host: "hive.example.internal"},
		{name: "loopback", host: "127.0.0.1"},
		{name: "private address", host: "10.10.0.5"},
		{name: "IPv6 loopback", host: "[::1]"},
		{name: "metadata address", host: "169.254.169.254", wantErr: "link-local"},
		{name: "other link-local address", host: "169.254.10.1", wantErr: "link-local"},
		{name: "IPv6 link-local", host: "[fe80::1]", wantErr: "link-local"},
		{name: "IPv4-mapped metadata address", host: "[::ffff:169.254.169.254]", wantErr: "link-local"},
		{name: "AWS IPv6 metadata address", host: "[fd00:ec2::254]", wantErr: "link-local"},
		{name: "unspecified IPv4", host: "0.0.0.0", wantErr: "unspecified"},
		{name: "unspecified IPv6", host: "[::]", wantErr: "unspecified"},
		{name: "metadata name", host: "metadata.google.internal", wantErr: "metadata server"},
		{name: "metadata name, upper case with a dot", host: "Metadata.Google.Internal.", wantErr: "metadata server"},
		{name: "short metadata name", host: "metadata", wantErr: "metadata server"},

		{name: "hdfs", host: "h", fs: "hdfs://nn:8020"},
		{name: "hdfs nameservice with a path", host: "h", fs: "hdfs://ns1/user/hive"},
		{name: "viewfs", host: "h", fs: "viewfs://cluster1/"},
		{name: "gs", host: "h", fs: "gs://my-bucket"},
		{name: "gs with a path", host: "h", fs: "gs://my-bucket/warehouse"},
		{name: "file directory", host: "h", fs: "file:///srv/hive/warehouse"},
		{name: "file root", host: "h", fs: "file:///", wantErr: "root", wantField: "fs_default"},
		{name: "file root twice", host: "h", fs: "file:////", wantErr: "root", wantField: "fs_default"},
		{name: "file without a path", host: "h", fs: "file://", wantErr: "root", wantField: "fs_default"},
		{name: "file relative", host: "h", fs: "file://warehouse", wantErr: "no host", wantField: "fs_default"},
		{name: "file with dot-dot", host: "h", fs: "file:///srv/hive/../../etc", wantErr: "'..'", wantField: "fs_default"},
		{name: "hdfs without a namenode", host: "h", fs: "hdfs:///user/hive", wantErr: "namenode", wantField: "fs_default"},
		{name: "viewfs without a nameservice", host: "h", fs: "viewfs://", wantErr: "nameservice", wantField: "fs_default"},
		{name: "hdfs with dot-dot", host: "h", fs: "hdfs://nn/a/../..", wantErr: "'..'", wantField: "fs_default"},
		{name: "gs without a bucket", host: "h", fs: "gs:///warehouse", wantErr: "bucket", wantField: "fs_default"},
		{name: "gs with a bad bucket", host: "h", fs: "gs://My_Bucket!", wantErr: "bucket", wantField: "fs_default"},
		{name: "other scheme", host: "h", fs: "s3://bucket", wantErr: "URI", wantField: "fs_default"},
		{name: "no scheme", host: "h", fs: "/srv/hive", wantErr: "URI", wantField: "fs_default"},
		{name: "query", host: "h", fs: "hdfs://nn/x?y", wantErr: "'?'", wantField: "fs_default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := merge.Cluster{ID: "c", Host: c.host, FSDefault: c.fs}
			err := cl.Normalize(nil)
			field := c.wantField
			if field == "" {
				field = "host"
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("Normalize(host %q, fs_default %q) = %v", c.host, c.fs, err)
			case c.wantErr != "" && (!errors.Is(err, merge.ErrInvalid) || !strings.Contains(err.Error(), c.wantErr) || !strings.HasPrefix(err.Error(), field)):
				t.Errorf("Normalize(host %q, fs_default %q) = %v; want ErrInvalid starting with %q, mentioning %q", c.host, c.fs, err, field, c.wantErr)
			}
		})
	}
}

func TestCheckClusterAddr(t *testing.T) {
	allow, err := merge.ParseHostAllowlist("169.254.10.0/24, fe80::1 hive-ll.example.internal,metadata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		addr    string
		allow   *merge.HostAllowlist
		refused bool
	}{
		{"loopback", "127.0.0.1", nil, false},
		{"private", "192.168.1.7", nil, false},
		{"public IPv6", "2001:db8::1", nil, false},
		{"metadata", "169.254.169.254", nil, true},
		{"metadata, allowlist elsewhere", "169.254.169.254", allow, true},
		{"link-local in the allowlisted prefix", "169.254.10.20", allow, false},
		{"IPv6 link-local allowlisted", "fe80::1", allow, false},
		{"IPv6 link-local with a zone", "fe80::2%eth0", allow, true},
		{"IPv4-mapped", "::ffff:169.254.169.254", nil, true},
		{"unspecified", "0.0.0.0", nil, true},
		{"this network", "0.1.2.3", nil, true},
		{"unspecified IPv6", "::", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := merge.CheckClusterAddr(netip.MustParseAddr(c.addr), c.allow)
			if c.refused != errors.Is(err, merge.ErrForbidden) || (!c.refused && err != nil) {
				t.Errorf("CheckClusterAddr(%s) = %v; refused want %v", c.addr, err, c.refused)
			}
		})
	}
	for _, c := range []struct {
		host    string
		refused bool
	}{
		{"metadata", false},
		{"metadata.google.internal", true},
		{"HIVE-LL.example.internal.", false},
	} {
		if err := merge.CheckClusterHost(c.host, allow); c.refused != (err != nil) {
			t.Errorf("CheckClusterHost(%q) with the allowlist = %v; refused want %v", c.host, err, c.refused)
		}
	}
	if !allow.AllowsName("hive-ll.example.internal") || allow.AllowsName("example.internal") {
		t.Error("AllowsName does not match the listed name exactly")
	}
}

func TestParseHostAllowlist(t *testing.T) {
	for _, c := range []struct {
		name, in string
		ok       bool
	}{
		{"empty", "", true},
		{"spaces only", "  ", true},
		{"CIDR, address and name", "169.254.0.0/16,fe80::/10 10.0.0.1 hive.internal", true},
		{"bracketed IPv6", "[fe80::1]", true},
		{"bad CIDR", "169.254.0.0/33", false},
		{"path", "hive/internal", false},
		{"shell", "$(id)", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := merge.ParseHostAllowlist(c.in)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, merge.ErrInvalid)) {
				t.Errorf("ParseHostAllowlist(%q) = %v; ok want %v", c.in, err, c.ok)
			}
		})
	}
}

func TestCreateClusterAllowlistedHost(t *testing.T) {
	allow, err := merge.ParseHostAllowlist("169.254.10.0/24")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		allow   *merge.HostAllowlist
		host    string
		wantErr bool
	}{
		{"link-local without a list", nil, "169.254.10.5", true},
		{"link-local in the list", allow, "169.254.10.5", false},
		{"link-local outside the list", allow, "169.254.169.254", true},
		{"metadata name with a list of addresses", allow, "metadata.google.internal", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc, _ := newService(t)
			svc.WithAllowedHosts(c.allow)
			_, err := svc.CreateCluster(t.Context(), merge.Cluster{ID: "c", Host: c.host})
			if gotErr := err != nil; gotErr != c.wantErr {
				t.Fatalf("CreateCluster(%s) = %v, want error %v", c.host, err, c.wantErr)
			}
			if err != nil && !errors.Is(err, merge.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
		})
	}
}

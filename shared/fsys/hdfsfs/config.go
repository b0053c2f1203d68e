package hdfsfs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2/hadoopconf"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// Config says how to reach one HDFS cluster.
type Config struct {
	// Addresses are NameNode RPC addresses (host:port), several for an HA pair; a standby
	// answers StandbyException and the client moves on to the next. Empty means fs.defaultFS
	// of the Hadoop configuration. Opener fills it from each location's authority.
	Addresses []string
	// User is the HDFS user for simple authentication. Empty means $HADOOP_USER_NAME, else
	// the OS user. Kerberos replaces it with the principal.
	User string
	// ConfDir holds core-site.xml and hdfs-site.xml. Empty means $HADOOP_CONF_DIR (or
	// $HADOOP_HOME/conf); no configuration at all is fine when Addresses are given.
	ConfDir string
	// Kerberos authenticates with a keytab; required when hadoop.security.authentication is
	// kerberos.
	Kerberos *Kerberos
	// Connections bounds the pool of NameNode connections, and so how many calls run at once
	// (the client serialises calls on a connection). Default 8.
	Connections int
	// DialTimeout bounds connecting to a NameNode. Default 10s.
	DialTimeout time.Duration
	// CallTimeout bounds one NameNode call whose context has no earlier deadline, so that a
	// hung NameNode cannot hold a connection forever. Default 2m; negative disables it.
	CallTimeout time.Duration
	// ListPage is how many entries List asks for at a time. The NameNode also caps its replies
	// (dfs.ls.limit, default 1000). Default 1000.
	ListPage int
}

// Kerberos is a keytab login.
type Kerberos struct {
	// Principal to log in as, "hive/host.example.com@EXAMPLE.COM" or "hive@EXAMPLE.COM".
	Principal string
	// Keytab is the path of a keytab holding the principal's keys.
	Keytab string
	// Krb5Conf is the path of krb5.conf. Empty means $KRB5_CONFIG, else /etc/krb5.conf.
	Krb5Conf string
	// NamenodePrincipal is the NameNodes' service principal, "nn/_HOST@EXAMPLE.COM", where
	// _HOST stands for each NameNode's host name. Empty means dfs.namenode.kerberos.principal.
	NamenodePrincipal string
}

const (
	defaultConnections = 8
	defaultDialTimeout = 10 * time.Second
	defaultCallTimeout = 2 * time.Minute
	defaultListPage    = 1000
	defaultRPCPort     = "8020"
)

func (cfg *Config) setDefaults() error {
	if cfg.Connections <= 0 {
		cfg.Connections = defaultConnections
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = defaultCallTimeout
	}
	if cfg.ListPage <= 0 {
		cfg.ListPage = defaultListPage
	}
	if cfg.User == "" && cfg.Kerberos == nil {
		cfg.User = os.Getenv("HADOOP_USER_NAME")
		if cfg.User == "" {
			u, err := user.Current()
			if err != nil {
				return fmt.Errorf("hdfsfs: no user: %w", err)
			}
			cfg.User = u.Username
		}
	}
	return nil
}

func loadConf(dir string) (hadoopconf.HadoopConf, error) {
	if dir != "" {
		conf, err := hadoopconf.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("hdfsfs: hadoop configuration in %s: %w", dir, err)
		}
		if conf == nil {
			return nil, fmt.Errorf("hdfsfs: no core-site.xml or hdfs-site.xml in %s", dir)
		}
		return conf, nil
	}
	conf, err := hadoopconf.LoadFromEnvironment()
	if err != nil {
		return nil, fmt.Errorf("hdfsfs: hadoop configuration: %w", err)
	}
	return conf, nil
}

// Namenodes resolves a location's authority to NameNode RPC addresses: an HA nameservice
// (dfs.ha.namenodes.NS and dfs.namenode.rpc-address.NS.ID), a federated nameservice
// (dfs.namenode.rpc-address.NS), or a host with an optional port (default 8020). An empty
// authority means the cluster of fs.defaultFS.
func Namenodes(conf hadoopconf.HadoopConf, authority string) ([]string, error) {
	if authority == "" {
		def := conf["fs.defaultFS"]
		if def == "" {
			def = conf["fs.default.name"]
		}
		u, err := url.Parse(def)
		if def == "" || err != nil || u.Scheme != "hdfs" || u.Host == "" {
			return nil, fmt.Errorf("hdfsfs: location has no namenode and fs.defaultFS (%q) names no hdfs:// cluster", def)
		}
		authority = u.Host
	}
	if ids := conf["dfs.ha.namenodes."+authority]; ids != "" {
		var addrs []string
		for id := range strings.SplitSeq(ids, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			addr := conf["dfs.namenode.rpc-address."+authority+"."+id]
			if addr == "" {
				return nil, fmt.Errorf("hdfsfs: nameservice %s: dfs.namenode.rpc-address.%s.%s is not set", authority, authority, id)
			}
			addrs = append(addrs, addr)
		}
		if len(addrs) > 0 {
			return addrs, nil
		}
	}
	if addr := conf["dfs.namenode.rpc-address."+authority]; addr != "" {
		return []string{addr}, nil
	}
	if _, _, err := net.SplitHostPort(authority); err != nil {
		authority = net.JoinHostPort(authority, defaultRPCPort)
	}
	return []string{authority}, nil
}

// kerberosClient logs in with the keytab. The client renews its tickets itself.
func (k *Kerberos) client() (*krbclient.Client, error) {
	if k.Principal == "" || k.Keytab == "" {
		return nil, errors.New("hdfsfs: kerberos needs a principal and a keytab")
	}
	at := strings.LastIndexByte(k.Principal, '@')
	if at <= 0 || at == len(k.Principal)-1 {
		return nil, fmt.Errorf("hdfsfs: kerberos principal %q has no realm", k.Principal)
	}
	username, realm := k.Principal[:at], k.Principal[at+1:]
	kt, err := keytab.Load(k.Keytab)
	if err != nil {
		return nil, fmt.Errorf("hdfsfs: keytab: %w", err)
	}
	confPath := k.Krb5Conf
	if confPath == "" {
		confPath = os.Getenv("KRB5_CONFIG")
	}
	if confPath == "" {
		confPath = "/etc/krb5.conf"
	}
	kc, err := krbconfig.Load(confPath)
	if err != nil {
		return nil, fmt.Errorf("hdfsfs: krb5.conf: %w", err)
	}
	// Active Directory and MIT KDCs reject FAST padata from this library.
	cl := krbclient.NewWithKeytab(username, realm, kt, kc, krbclient.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		return nil, fmt.Errorf("hdfsfs: kerberos login as %s: %w", k.Principal, err)
	}
	return cl, nil
}

package merge

import (
	"net/netip"
	"strings"
)

// Cluster hosts are chosen by administrators through the API, and the server connects to them:
// without a rule, registering a cluster and testing it would let an API caller reach the cloud
// metadata server (and its credentials) or scan addresses the server alone can reach. The rule
// is here, in one place, for the registry (the literal host) and for the Hive adapter (every
// address a host name resolves to, when it dials).

// forbiddenPrefixes are never cluster addresses unless allowlisted: link-local (where metadata
// servers live, 169.254.169.254 and fd00:ec2::254 included) and unspecified ("this host" on
// Linux, which would bypass a loopback check).
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// metadataNames are the names of the GCE metadata server.
var metadataNames = map[string]bool{
	"metadata":                 true,
	"metadata.google.internal": true,
}

// HostAllowlist lists the addresses and host names an operator allows as cluster hosts although
// the rule refuses them by default. A nil *HostAllowlist allows nothing extra.
type HostAllowlist struct {
	prefixes []netip.Prefix
	names    map[string]bool
}

// ParseHostAllowlist parses a list of CIDR prefixes, addresses and host names separated by
// commas or spaces, as HIVEMERGE_ALLOWED_CLUSTER_HOSTS holds it. An empty list is nil.
func ParseHostAllowlist(s string) (*HostAllowlist, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if len(fields) == 0 {
		return nil, nil
	}
	a := &HostAllowlist{names: map[string]bool{}}
	for _, f := range fields {
		if p, err := netip.ParsePrefix(f); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, ok := parseAddr(f); ok {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if strings.Contains(f, "/") || !hostRe.MatchString(f) {
			return nil, Errorf(ErrInvalid, "allowed cluster host %q is not a CIDR prefix, an IP address or a host name", f)
		}
		a.names[canonicalName(f)] = true
	}
	return a, nil
}

func (a *HostAllowlist) allowsAddr(ip netip.Addr) bool {
	if a == nil {
		return false
	}
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// AllowsName reports whether the host name itself is allowlisted, which allows every address
// it resolves to.
func (a *HostAllowlist) AllowsName(host string) bool {
	return a != nil && a.names[canonicalName(host)]
}

// CheckClusterHost refuses a host that is itself a forbidden address or a metadata server's
// name. Names that resolve to forbidden addresses are caught by CheckClusterAddr when dialled.
func CheckClusterHost(host string, allow *HostAllowlist) error {
	if ip, ok := parseAddr(host); ok {
		return CheckClusterAddr(ip, allow)
	}
	if metadataNames[canonicalName(host)] && !allow.AllowsName(host) {
		return Errorf(ErrForbidden, "%s is the cloud metadata server, not a Hive cluster", host)
	}
	return nil
}

// CheckClusterAddr refuses an address a cluster's host stands for, unless allowlisted.
func CheckClusterAddr(ip netip.Addr, allow *HostAllowlist) error {
	ip = ip.Unmap().WithZone("")
	for _, p := range forbiddenPrefixes {
		if p.Contains(ip) && !allow.allowsAddr(ip) {
			kind := "link-local (the range of cloud metadata servers)"
			if ip.IsUnspecified() || p.Addr().IsUnspecified() {
				kind = "unspecified"
			}
			return Errorf(ErrForbidden, "%s is a %s address, refused as a cluster address", ip, kind)
		}
	}
	return nil
}

// parseAddr parses an IP address, with or without the brackets of a bracketed IPv6 host.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	ip, err := netip.ParseAddr(s)
	return ip, err == nil
}

// canonicalName makes "Metadata.Google.Internal." and "metadata.google.internal" one name.
func canonicalName(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

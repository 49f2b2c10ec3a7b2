package reqlog

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies (load balancers, TLS terminators) whose
// X-Forwarded-For header Propusk believes. Behind one, every request comes
// from the proxy's address: without this, per-address limits would count
// the whole service as one client, and sessions and the audit log would
// name the proxy.
type Proxies []netip.Prefix

// ParseProxies reads a comma-separated list of addresses and CIDR
// prefixes ("10.0.0.0/8, 192.0.2.7, 2001:db8::/32").
func ParseProxies(s string) (Proxies, error) {
	var ps Proxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			ps = append(ps, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
		}
		a = a.Unmap()
		ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
	}
	return ps, nil
}

func (ps Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the address of the client that sent r: the connection's
// peer, or, when the peer is one of ps, the nearest address in
// X-Forwarded-For that is not (read from the right: each proxy appends
// the address it received from, and only the entries our own proxies
// wrote can be believed — anything to their left the client may have
// made up). A malformed entry stops the walk at the last trusted hop.
func (ps Proxies) ClientAddr(r *http.Request) string {
	peer := hostOf(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil || len(ps) == 0 || !ps.trusted(addr) {
		return peer
	}
	client := addr
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(entries[j]))
			if err != nil || a.Zone() != "" {
				return client.Unmap().String()
			}
			client = a
			if !ps.trusted(a) {
				return a.Unmap().String()
			}
		}
	}
	return client.Unmap().String()
}

func hostOf(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

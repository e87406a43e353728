package store

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisMode is the kind of Redis deployment a REDIS_URL names.
type RedisMode string

// The three deployments (docs/operations.md, "Redis Sentinel and Cluster").
const (
	RedisSingle   RedisMode = "single"   // redis://, rediss://, unix://
	RedisSentinel RedisMode = "sentinel" // redis-sentinel://, rediss-sentinel://
	RedisCluster  RedisMode = "cluster"  // redis-cluster://, rediss-cluster://
)

// RedisOptions is a parsed REDIS_URL: the field Mode names is set, the others are nil.
type RedisOptions struct {
	Mode     RedisMode
	Single   *redis.Options
	Failover *redis.FailoverOptions // Sentinel: the sentinels and the master's name
	Cluster  *redis.ClusterOptions  // the seed nodes; the others are discovered
}

// Addrs returns the addresses the URL names: the server, the sentinels, or the
// cluster's seed nodes.
func (o RedisOptions) Addrs() []string {
	switch o.Mode {
	case RedisSentinel:
		return o.Failover.SentinelAddrs
	case RedisCluster:
		return o.Cluster.Addrs
	}
	return []string{o.Single.Addr}
}

// redisSchemes lists the schemes ParseRedisURL accepts, for its error message.
const redisSchemes = "redis, rediss, unix, redis-sentinel, rediss-sentinel, redis-cluster, rediss-cluster"

// ParseRedisURL parses a REDIS_URL (docs/operations.md, "Redis Sentinel and Cluster"):
//
//	redis://[user:password@]host:6379/0       one server (rediss:// with TLS, unix:///path)
//	redis-sentinel://[user:password@]h1:26379,h2:26379/0?master=mymaster[&sentinel_password=…]
//	redis-cluster://[user:password@]h1:7000,h2:7001
//
// The user and password are the data nodes' (the master's for Sentinel);
// sentinel_username and sentinel_password are the sentinels' own. Hosts without a
// port get 26379 (sentinels) or 6379 (cluster nodes). A Cluster has only database 0.
// rediss-sentinel:// and rediss-cluster:// use TLS to every node, verified against the
// first host's name. Every form takes go-redis's options as query parameters
// (dial_timeout, pool_size, …); an unknown one is an error. Errors are one line, say
// what is wrong without the variable's name, and never repeat the URL (it may hold a
// password).
func ParseRedisURL(raw string) (RedisOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return RedisOptions{}, errors.New("not a URL: want redis://host:6379/0 or one of the Sentinel and Cluster forms")
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return RedisOptions{}, redisURLError(err)
		}
		if o.Network != "unix" {
			if _, err := hostPort(o.Addr, "6379"); err != nil {
				return RedisOptions{}, err
			}
		}
		return RedisOptions{Mode: RedisSingle, Single: o}, nil
	case "redis-sentinel", "rediss-sentinel":
		return parseSentinelURL(strings.TrimSuffix(scheme, "-sentinel"), rest)
	case "redis-cluster", "rediss-cluster":
		return parseClusterURL(strings.TrimSuffix(scheme, "-cluster"), rest)
	}
	return RedisOptions{}, fmt.Errorf("scheme %q is not one of %s", scheme, redisSchemes)
}

// multiHostURL is a URL whose authority lists several hosts.
type multiHostURL struct {
	addrs []string // host:port, each with the default port where it had none
	user  *url.Userinfo
	path  string
	query url.Values
}

// splitMultiHost parses "[userinfo@]h1[:p1],h2[:p2][/path][?query]".
func splitMultiHost(rest, defaultPort string) (multiHostURL, error) {
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	// net/url parses the userinfo, path and query once the host list is out of the way.
	u, err := url.Parse("x://" + userinfo + "h" + tail)
	if err != nil {
		return multiHostURL{}, redisURLError(err)
	}
	if u.Fragment != "" {
		return multiHostURL{}, errors.New("a fragment (#…) has no meaning here")
	}
	m := multiHostURL{user: u.User, path: u.Path, query: u.Query()}
	if strings.TrimSpace(hosts) == "" {
		return multiHostURL{}, errors.New("no host: list them as host1:port,host2:port")
	}
	for _, h := range strings.Split(hosts, ",") {
		a, err := hostPort(strings.TrimSpace(h), defaultPort)
		if err != nil {
			return multiHostURL{}, err
		}
		m.addrs = append(m.addrs, a)
	}
	return m, nil
}

// hostPort returns h as host:port, with defaultPort when h has none.
func hostPort(h, defaultPort string) (string, error) {
	if h == "" {
		return "", errors.New("an empty entry in the host list")
	}
	host, port, err := net.SplitHostPort(h)
	var ae *net.AddrError
	if errors.As(err, &ae) && strings.Contains(ae.Err, "missing port") {
		host, port, err = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort, nil
	}
	if err != nil || host == "" || strings.ContainsAny(host, "[]") {
		return "", fmt.Errorf("%q is not host:port", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: the port must be a number from 1 to 65535", h)
	}
	return net.JoinHostPort(host, port), nil
}

// reserved refuses go-redis's own names for what the URL form says in another way.
func (m multiHostURL) reserved(names map[string]string) error {
	for name, instead := range names {
		if m.query.Has(name) {
			return fmt.Errorf("option %s is not accepted here: %s", name, instead)
		}
	}
	return nil
}

// parseSentinelURL builds the failover options of "<scheme>-sentinel://…" through
// go-redis's own parser, which reads the sentinels' credentials from the userinfo and
// the master's from options: the form HAPA documents is the other way round, because
// the master's password is the one nearly every deployment has.
func parseSentinelURL(scheme, rest string) (RedisOptions, error) {
	m, err := splitMultiHost(rest, "26379")
	if err != nil {
		return RedisOptions{}, err
	}
	if err := m.reserved(map[string]string{
		"addr":        "list the sentinels as host1:26379,host2:26379",
		"master_name": "use master=<name>",
		"username":    "give the master's user in the URL (user:password@)",
		"password":    "give the master's password in the URL (:password@)",
	}); err != nil {
		return RedisOptions{}, err
	}
	q := m.query
	master := q.Get("master")
	if master == "" {
		return RedisOptions{}, errors.New("redis-sentinel:// needs ?master=<name>, the name the sentinels monitor")
	}
	sentinel := sentinelUser(q.Get("sentinel_username"), q.Get("sentinel_password"))
	q.Del("master")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	q.Set("master_name", master)
	if m.user != nil {
		if name := m.user.Username(); name != "" {
			q.Set("username", name)
		}
		if pw, ok := m.user.Password(); ok {
			q.Set("password", pw)
		}
	}
	for _, a := range m.addrs[1:] {
		q.Add("addr", a)
	}
	u := url.URL{Scheme: scheme, User: sentinel, Host: m.addrs[0], Path: m.path, RawQuery: q.Encode()}
	o, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return RedisOptions{}, redisURLError(err)
	}
	return RedisOptions{Mode: RedisSentinel, Failover: o}, nil
}

func sentinelUser(name, password string) *url.Userinfo {
	switch {
	case password != "":
		return url.UserPassword(name, password)
	case name != "":
		return url.User(name)
	}
	return nil
}

// parseClusterURL builds the cluster options of "<scheme>-cluster://…" through
// go-redis's own parser (seed nodes as addr options).
func parseClusterURL(scheme, rest string) (RedisOptions, error) {
	m, err := splitMultiHost(rest, "6379")
	if err != nil {
		return RedisOptions{}, err
	}
	if err := m.reserved(map[string]string{"addr": "list the nodes as host1:6379,host2:6379",
		"db": "a Redis Cluster has only database 0"}); err != nil {
		return RedisOptions{}, err
	}
	if p := strings.Trim(m.path, "/"); p != "" && p != "0" {
		return RedisOptions{}, fmt.Errorf("database %q: a Redis Cluster has only database 0", p)
	}
	q := m.query
	for _, a := range m.addrs[1:] {
		q.Add("addr", a)
	}
	u := url.URL{Scheme: scheme, User: m.user, Host: m.addrs[0], RawQuery: q.Encode()}
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return RedisOptions{}, redisURLError(err)
	}
	return RedisOptions{Mode: RedisCluster, Cluster: o}, nil
}

// redisURLError is err on one line without the URL, which *url.Error would repeat
// with its password.
func redisURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := strings.TrimPrefix(err.Error(), "redis: ")
	return errors.New("" + strings.ReplaceAll(msg, "\n", " "))
}

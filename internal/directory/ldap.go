package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// LDAPConfig is an LDAP directory's spec with its bind credentials.
type LDAPConfig struct {
	Spec collabv1.LDAPDirectory
	// BindDN and Password from the bind Secret; an anonymous bind when both are
	// empty. Neither ever appears in an error.
	BindDN, Password string
}

// LDAPSource reads groups and people from an LDAP server over one connection,
// bound once and kept between polls (and dialled again after it breaks).
type LDAPSource struct {
	cfg     LDAPConfig
	spec    collabv1.LDAPDirectory // with defaults applied
	tlsConf *tls.Config

	mu   sync.Mutex
	conn *ldap.Conn
	// changeDN is the naming context whose contextCSN is read; mechanism what
	// Token uses, found on the first call.
	changeDN, mechanism string

	queries atomic.Int64
	limits  ldapLimits
}

// ldapLimits bound what one Resolve reads, so that a directory (or whoever can
// write groups in it) cannot make the operator read without end: a group nested
// in itself through thousands of others, or a subtree of millions of entries.
type ldapLimits struct {
	entries      int // entries of one paged search
	nestedGroups int // nested groups read by one Resolve
}

// defaultLDAPLimits fit an organisation of 100,000 people with deep group trees.
var defaultLDAPLimits = ldapLimits{entries: 200_000, nestedGroups: 5_000}

// NewLDAP checks the configuration and returns a source; it does not dial.
func NewLDAP(cfg LDAPConfig) (*LDAPSource, error) {
	s := &LDAPSource{cfg: cfg, spec: withDefaults(cfg.Spec), limits: defaultLDAPLimits}
	u, err := url.Parse(s.spec.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, errors.New("the directory's url must be ldap://host[:port] or ldaps://host[:port]")
	}
	if s.spec.TLS != collabv1.LDAPTLSNone {
		s.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
		if s.spec.CABundle != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(s.spec.CABundle)) {
				return nil, errors.New("the directory's caBundle holds no PEM certificate")
			}
			s.tlsConf.RootCAs = pool
		}
	}
	if (cfg.BindDN == "") != (cfg.Password == "") {
		return nil, errors.New("the bind Secret must hold both bindDN and password, or neither")
	}
	return s, nil
}

func withDefaults(s collabv1.LDAPDirectory) collabv1.LDAPDirectory {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def((*string)(&s.TLS), string(collabv1.LDAPTLSStartTLS))
	def(&s.UserFilter, "(objectClass=inetOrgPerson)")
	def(&s.GroupFilter, "(objectClass=groupOfNames)")
	def(&s.GroupNameAttribute, "cn")
	def(&s.MemberAttribute, "member")
	def((*string)(&s.MemberValue), string(collabv1.MemberValueDN))
	def(&s.UsernameAttribute, "uid")
	def(&s.EmailAttribute, "mail")
	def((*string)(&s.ChangeDetection), string(collabv1.ChangeDetectionAuto))
	if s.PageSize <= 0 {
		s.PageSize = 500
	}
	if s.Timeout.Duration <= 0 {
		s.Timeout.Duration = 10 * time.Second
	}
	if s.NestedGroups == nil {
		t := true
		s.NestedGroups = &t
	}
	return s
}

// Queries returns how many requests (binds and searches, each page counted) the
// source has sent.
func (s *LDAPSource) Queries() int64 { return s.queries.Load() }

// Close closes the connection.
func (s *LDAPSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		err := s.conn.Close()
		s.conn = nil
		return err
	}
	return nil
}

// connect dials and binds unless a connection is open.
func (s *LDAPSource) connect(ctx context.Context) (*ldap.Conn, error) {
	if s.conn != nil && !s.conn.IsClosing() {
		return s.conn, nil
	}
	timeout := s.spec.Timeout.Duration
	dialer := &net.Dialer{Timeout: timeout}
	opts := []ldap.DialOpt{ldap.DialWithDialer(dialer)}
	if s.spec.TLS == collabv1.LDAPTLSLDAPS {
		opts = append(opts, ldap.DialWithTLSConfig(s.tlsConf))
	}
	conn, err := ldap.DialURL(s.spec.URL, opts...)
	if err != nil {
		return nil, sanitize("cannot reach the directory", err)
	}
	conn.SetTimeout(timeout)
	if s.spec.TLS == collabv1.LDAPTLSStartTLS {
		if err := conn.StartTLS(s.tlsConf); err != nil {
			_ = conn.Close()
			return nil, sanitize("cannot start TLS with the directory", err)
		}
	}
	s.queries.Add(1)
	if s.cfg.BindDN == "" {
		err = conn.UnauthenticatedBind("")
	} else {
		err = conn.Bind(s.cfg.BindDN, s.cfg.Password)
	}
	if err != nil {
		_ = conn.Close()
		return nil, sanitize("cannot bind to the directory", err)
	}
	if ctx.Err() != nil {
		_ = conn.Close()
		return nil, ctx.Err()
	}
	s.conn = conn
	return conn, nil
}

// do runs fn on a bound connection, dialling again once if the kept connection
// turned out to be broken (servers close idle connections).
func (s *LDAPSource) do(ctx context.Context, fn func(*ldap.Conn) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		fresh := s.conn == nil
		conn, err := s.connect(ctx)
		if err != nil {
			return err
		}
		err = fn(conn)
		if err == nil || attempt > 0 || fresh || !isConnectionError(err) {
			return err
		}
		_ = conn.Close()
		s.conn = nil
	}
}

func isConnectionError(err error) bool {
	return ldap.IsErrorAnyOf(err, ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultUnavailable,
		ldap.LDAPResultBusy, ldap.LDAPResultTimeout)
}

// sanitize keeps an error's LDAP result code and drops the rest: a server's
// diagnostic message is the server's, and may quote what was sent.
func sanitize(what string, err error) error {
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication,
			ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired:
			return fmt.Errorf("%s: %w (LDAP result %d, %s)", what, ErrBindRejected, le.ResultCode,
				ldap.LDAPResultCodeMap[le.ResultCode])
		case ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultUnavailable, ldap.LDAPResultBusy,
			ldap.LDAPResultTimeout, ldap.LDAPResultTimeLimitExceeded:
			return fmt.Errorf("%s: %w (LDAP result %d, %s)", what, ErrUnavailable, le.ResultCode,
				ldap.LDAPResultCodeMap[le.ResultCode])
		}
		return fmt.Errorf("%s: LDAP result %d (%s)", what, le.ResultCode, ldap.LDAPResultCodeMap[le.ResultCode])
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, ErrUnavailable)
	}
	return fmt.Errorf("%s: %w", what, ErrUnavailable)
}

// search runs one search, paged (RFC 2696) when the scope is not base. A paged
// search stops when ctx ends, between pages, and fails with ErrTooLarge past
// limits.entries: a directory is an input, bounded like any other.
func (s *LDAPSource) search(ctx context.Context, conn *ldap.Conn, base string, scope int, filter string, attrs []string) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, int(s.spec.Timeout.Seconds()), false,
		filter, attrs, nil)
	if scope == ldap.ScopeBaseObject {
		s.queries.Add(1)
		res, err := conn.Search(req)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return res.Entries, nil
	}
	var out []*ldap.Entry
	paging := ldap.NewControlPaging(uint32(s.spec.PageSize))
	req.Controls = []ldap.Control{paging}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.queries.Add(1)
		res, err := conn.Search(req)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, res.Entries...)
		if len(out) > s.limits.entries {
			return nil, fmt.Errorf("a search below %s answered more than %d entries: %w", base, s.limits.entries, ErrTooLarge)
		}
		ctrl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			return out, nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// Token reads the change token: the contextCSN of the naming context that holds
// the groups, or the root DSE's highestCommittedUSN. Which one is found on the
// first call; afterwards it is one base search.
func (s *LDAPSource) Token(ctx context.Context) (string, string, error) {
	if s.spec.ChangeDetection == collabv1.ChangeDetectionNone {
		return "", "None", nil
	}
	var token string
	err := s.do(ctx, func(conn *ldap.Conn) error {
		if s.mechanism == "" {
			if err := s.discover(ctx, conn); err != nil {
				return err
			}
		}
		var err error
		token, err = s.readToken(ctx, conn)
		return err
	})
	if err != nil {
		return "", "", sanitizeOnce("cannot read the directory's change marker", err)
	}
	return token, s.mechanism, nil
}

// sanitizeOnce sanitizes err unless connect already did.
func sanitizeOnce(what string, err error) error {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrBindRejected) || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%s: %w", what, err) // the operator's own words: nothing of the server's
	}
	return sanitize(what, err)
}

func (s *LDAPSource) discover(ctx context.Context, conn *ldap.Conn) error {
	want := s.spec.ChangeDetection
	root, err := s.search(ctx, conn, "", ldap.ScopeBaseObject, "(objectClass=*)", []string{"namingContexts", "highestCommittedUSN"})
	if err != nil {
		return err
	}
	var contexts []string
	usn := ""
	if len(root) == 1 {
		contexts = root[0].GetAttributeValues("namingContexts")
		usn = root[0].GetAttributeValue("highestCommittedUSN")
	}
	if want == collabv1.ChangeDetectionAuto || want == collabv1.ChangeDetectionContextCSN {
		if nc := namingContextOf(s.spec.GroupBaseDN, contexts); nc != "" {
			e, err := s.search(ctx, conn, nc, ldap.ScopeBaseObject, "(objectClass=*)", []string{"contextCSN"})
			if err != nil {
				return err
			}
			if len(e) == 1 && len(e[0].GetAttributeValues("contextCSN")) > 0 {
				s.changeDN, s.mechanism = nc, "ContextCSN"
				return nil
			}
		}
	}
	if (want == collabv1.ChangeDetectionAuto || want == collabv1.ChangeDetectionUSN) && usn != "" {
		s.mechanism = "HighestCommittedUSN"
		return nil
	}
	s.mechanism = "None"
	return nil
}

// namingContextOf returns the naming context dn lies in (the longest that is a
// suffix of it), compared case-insensitively.
func namingContextOf(dn string, contexts []string) string {
	best := ""
	norm := normDN(dn)
	for _, c := range contexts {
		nc := normDN(c)
		if (norm == nc || strings.HasSuffix(norm, ","+nc)) && len(nc) > len(normDN(best)) {
			best = c
		}
	}
	return best
}

func (s *LDAPSource) readToken(ctx context.Context, conn *ldap.Conn) (string, error) {
	switch s.mechanism {
	case "ContextCSN":
		e, err := s.search(ctx, conn, s.changeDN, ldap.ScopeBaseObject, "(objectClass=*)", []string{"contextCSN"})
		if err != nil || len(e) != 1 {
			return "", err
		}
		v := slices.Clone(e[0].GetAttributeValues("contextCSN"))
		slices.Sort(v)
		return strings.Join(v, ";"), nil
	case "HighestCommittedUSN":
		e, err := s.search(ctx, conn, "", ldap.ScopeBaseObject, "(objectClass=*)", []string{"highestCommittedUSN"})
		if err != nil || len(e) != 1 {
			return "", err
		}
		return e[0].GetAttributeValue("highestCommittedUSN"), nil
	}
	return "", nil
}

// normDN lower-cases a DN and drops spaces after commas, enough to compare the
// DNs one server sends.
func normDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	parts := make([]string, 0, len(parsed.RDNs))
	for _, rdn := range parsed.RDNs {
		var avas []string
		for _, a := range rdn.Attributes {
			avas = append(avas, strings.ToLower(a.Type)+"="+strings.ToLower(a.Value))
		}
		slices.Sort(avas)
		parts = append(parts, strings.Join(avas, "+"))
	}
	return strings.Join(parts, ",")
}

// groupBatch is how many group names one search asks for.
const groupBatch = 50

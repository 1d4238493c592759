// Package slapd runs a real OpenLDAP server (slapd, from the Debian package) on
// 127.0.0.1 for integration tests, make dev and the benchmark, so the directory
// layer is tested against the server it talks to rather than a mock.
//
// Start writes a slapd.conf and an MDB database into a directory of its own, loads
// the seed LDIF with slapadd, starts slapd in the foreground on a free loopback
// port and returns once it answers a bind. Nothing is installed as a system
// service and nothing outside the directory is written. The database keeps
// contextCSN up to date (the syncprov overlay), which the operator's change
// detection reads.
//
// Two accounts exist: the root DN (AdminDN, for the test to change the
// directory), and a read-only account (ReaderDN) that, like a real bind account,
// is subject to the server's size limit of SizeLimit entries per search, so a
// client that does not page fails on a large directory.
package slapd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/opencommons/collab-operator/internal/testing/process"
)

// Defaults of Options.
const (
	DefaultSuffix   = "dc=example,dc=org"
	DefaultPassword = "admin-secret"
	// SizeLimit is the most entries one search (or one page) returns to the
	// reader account.
	SizeLimit = 500
)

// Options configure Start. The zero value starts a throwaway server.
type Options struct {
	// Dir keeps the configuration and database; a temporary directory removed by
	// Stop when empty. An existing database in Dir is reused as it is (the seed is
	// only loaded into a new one).
	Dir string
	// Port at 127.0.0.1; 0 picks a free one.
	Port int
	// Suffix of the database; DefaultSuffix when empty.
	Suffix string
	// Seed is LDIF loaded below the suffix when the database is new. The suffix
	// entry, ou=people, ou=groups and the reader account are always made.
	Seed string
	// TLS, when set, serves StartTLS on the ldap:// port and LDAPS on a second
	// port with this certificate and key (PEM).
	TLS *TLSFiles
	// Stderr receives slapd's output; <Dir>/slapd.log when nil.
	Stderr io.Writer
	// Bin is the slapd binary; $SLAPD_BIN, slapd on $PATH or /usr/sbin/slapd when
	// empty.
	Bin string
}

// TLSFiles are PEM blocks of a server certificate and its key.
type TLSFiles struct{ CertPEM, KeyPEM []byte }

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:<port>.
	URL string
	// LDAPSURL is ldaps://127.0.0.1:<port> when TLS was given.
	LDAPSURL string
	// Suffix of the database, e.g. dc=example,dc=org.
	Suffix string
	// AdminDN and AdminPassword are the root DN, which may change anything.
	AdminDN, AdminPassword string
	// ReaderDN and ReaderPassword are a read-only account, as an operator's bind
	// account would be.
	ReaderDN, ReaderPassword string
	// Dir holds the configuration and the database.
	Dir string

	proc    *process.Process
	tempDir bool
	stop    sync.Once
	// stderr is Options.Stderr, kept for Restart.
	stderr io.Writer
	bin    string
	args   []string
}

// Binary returns the slapd binary Start would use, or an error saying how to
// install it.
func Binary(bin string) (string, error) {
	for _, c := range []string{bin, os.Getenv("SLAPD_BIN")} {
		if c != "" {
			return c, nil
		}
	}
	if p, err := exec.LookPath("slapd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/slapd"); err == nil {
		return "/usr/sbin/slapd", nil
	}
	return "", errors.New("slapd is not installed: run hack/install-prereqs.sh (apt-get install slapd ldap-utils)")
}

// Start runs slapd and waits until the reader account can bind. The caller must
// Stop it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := Binary(opts.Bin)
	if err != nil {
		return nil, err
	}
	s := &Server{Suffix: opts.Suffix, Dir: opts.Dir, bin: bin, stderr: opts.Stderr}
	if s.Suffix == "" {
		s.Suffix = DefaultSuffix
	}
	s.AdminDN, s.AdminPassword = "cn=admin,"+s.Suffix, DefaultPassword
	s.ReaderDN, s.ReaderPassword = "cn=reader,"+s.Suffix, "reader-secret"
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "slapd-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	}
	ok := false
	defer func() {
		if !ok {
			s.cleanup()
		}
	}()
	if err := s.configure(opts); err != nil {
		return nil, err
	}
	if err := s.runOnFreePorts(ctx, opts); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// runOnFreePorts runs slapd on opts.Port, or on a free port, tried up to three
// times.
func (s *Server) runOnFreePorts(ctx context.Context, opts Options) error {
	var err error
	port, ldapsPort := opts.Port, 0
	for attempt := 0; ; attempt++ {
		if opts.Port == 0 {
			if port, err = freePort(); err != nil {
				return err
			}
		}
		if opts.TLS != nil {
			if ldapsPort, err = freePort(); err != nil {
				return err
			}
		}
		err = s.run(ctx, port, ldapsPort)
		if err == nil || opts.Port != 0 || attempt == 2 {
			return err
		}
		// a port taken meanwhile: try another
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// schemas are the Debian package's schema files the organisation needs.
var schemas = []string{"core", "cosine", "inetorgperson", "nis"}

// SchemaDir is where the Debian package puts its schemas.
const SchemaDir = "/etc/ldap/schema"

// logFile in Dir gets slapd's output unless Options.Stderr is set.
const logFile = "slapd.log"

func (s *Server) configure(opts Options) error {
	for _, sc := range schemas {
		if _, err := os.Stat(filepath.Join(SchemaDir, sc+".schema")); err != nil {
			return fmt.Errorf("slapd's schema %s is missing (%w): install the slapd package", sc, err)
		}
	}
	data := filepath.Join(s.Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	var conf strings.Builder
	for _, sc := range schemas {
		fmt.Fprintf(&conf, "include %s/%s.schema\n", SchemaDir, sc)
	}
	fmt.Fprintf(&conf, "pidfile %s/slapd.pid\nargsfile %s/slapd.args\n", s.Dir, s.Dir)
	conf.WriteString("modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload syncprov\n")
	if opts.TLS != nil {
		cert, key := filepath.Join(s.Dir, "tls.crt"), filepath.Join(s.Dir, "tls.key")
		if err := os.WriteFile(cert, opts.TLS.CertPEM, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(key, opts.TLS.KeyPEM, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(&conf, "TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", cert, key)
	}
	fmt.Fprintf(&conf, `database mdb
maxsize 1073741824
suffix "%[1]s"
rootdn "%[2]s"
rootpw %[3]s
directory %[4]s
sizelimit size.soft=%[5]d size.hard=%[5]d size.prtotal=unlimited
limits dn.exact="%[2]s" size=unlimited
index objectClass eq
index uid,cn,member,memberUid eq
index entryCSN,entryUUID eq
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="%[6]s" read by * none
overlay syncprov
syncprov-checkpoint 1 1
`, s.Suffix, s.AdminDN, s.AdminPassword, data, SizeLimit, s.ReaderDN)
	confPath := filepath.Join(s.Dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(data, "data.mdb")); err == nil {
		return nil // an existing database is kept
	}
	seed := s.baseLDIF() + "\n" + strings.TrimSpace(opts.Seed) + "\n"
	seedPath := filepath.Join(s.Dir, "seed.ldif")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		return err
	}
	// slapadd lives beside slapd (it is the same program under another name).
	slapadd := filepath.Join(filepath.Dir(s.bin), "slapadd")
	cmd := exec.Command(slapadd, "-q", "-f", confPath, "-l", seedPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("slapadd: %w: %s", err, tail(out.String()))
	}
	return nil
}

// baseLDIF is the suffix, the two organisational units and the reader account.
func (s *Server) baseLDIF() string {
	dc := strings.TrimPrefix(strings.SplitN(s.Suffix, ",", 2)[0], "dc=")
	return fmt.Sprintf(`dn: %[1]s
objectClass: dcObject
objectClass: organization
o: %[2]s
dc: %[2]s

dn: ou=people,%[1]s
objectClass: organizationalUnit
ou: people

dn: ou=groups,%[1]s
objectClass: organizationalUnit
ou: groups

dn: %[3]s
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: %[4]s
`, s.Suffix, dc, s.ReaderDN, s.ReaderPassword)
}

func (s *Server) run(ctx context.Context, port, ldapsPort int) error {
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(port)
	urls := s.URL + "/"
	if ldapsPort != 0 {
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(ldapsPort)
		urls += " " + s.LDAPSURL + "/"
	}
	// -d 0 keeps slapd in the foreground, so it is this process's child and
	// ends with it.
	s.args = []string{"-f", filepath.Join(s.Dir, "slapd.conf"), "-h", urls, "-d", "0"}
	p, err := process.Start(process.Spec{Path: s.bin, Args: s.args, Dir: s.Dir,
		Stdout: s.stderr, Stderr: s.stderr, Log: filepath.Join(s.Dir, logFile)})
	if err != nil {
		return err
	}
	s.proc = p
	if err := s.waitReady(ctx, 20*time.Second); err != nil {
		_ = s.proc.Stop()
		return fmt.Errorf("slapd did not start: %w%s", err, s.logTail())
	}
	return nil
}

func (s *Server) logTail() string {
	if s.stderr != nil {
		return ""
	}
	if t := process.Tail(filepath.Join(s.Dir, logFile), 2000); t != "" {
		return ": " + t
	}
	return ""
}

func tail(s string) string {
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := s.Dial(); err == nil {
			err = c.Bind(s.ReaderDN, s.ReaderPassword)
			_ = c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.proc.Exited():
			return fmt.Errorf("slapd exited: %w", s.proc.Err())
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Dial connects to the ldap:// URL without binding.
func (s *Server) Dial() (*ldap.Conn, error) {
	return ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}))
}

// Admin connects and binds as the root DN, for a test to change the directory.
func (s *Server) Admin() (*ldap.Conn, error) {
	c, err := s.Dial()
	if err != nil {
		return nil, err
	}
	if err := c.Bind(s.AdminDN, s.AdminPassword); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// Modify changes one entry as the root DN.
func (s *Server) Modify(req *ldap.ModifyRequest) error {
	c, err := s.Admin()
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	return c.Modify(req)
}

// AddMember adds value (a DN, or a uid for memberUid) to a group's attribute.
func (s *Server) AddMember(groupDN, attr, value string) error {
	req := ldap.NewModifyRequest(groupDN, nil)
	req.Add(attr, []string{value})
	return s.Modify(req)
}

// RemoveMember removes value from a group's attribute.
func (s *Server) RemoveMember(groupDN, attr, value string) error {
	req := ldap.NewModifyRequest(groupDN, nil)
	req.Delete(attr, []string{value})
	return s.Modify(req)
}

// Add adds one entry as the root DN.
func (s *Server) Add(dn string, attrs map[string][]string) error {
	c, err := s.Admin()
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	req := ldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	return c.Add(req)
}

// Pause stops the server's process (SIGSTOP), so clients time out as with a
// server that hangs; Resume lets it go on.
func (s *Server) Pause() error { return s.proc.Signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() error { return s.proc.Signal(syscall.SIGCONT) }

// Restart stops the server and starts it again on the same port with the same
// database, as after an outage.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.proc.Stop(); err != nil {
		return err
	}
	port, _ := strconv.Atoi(s.URL[strings.LastIndex(s.URL, ":")+1:])
	ldapsPort := 0
	if s.LDAPSURL != "" {
		ldapsPort, _ = strconv.Atoi(s.LDAPSURL[strings.LastIndex(s.LDAPSURL, ":")+1:])
	}
	return s.run(ctx, port, ldapsPort)
}

// Kill stops the server, as an outage, keeping its database for Restart.
func (s *Server) Kill() error { return s.proc.Stop() }

// Stop ends this server's process (and only it), waits for it, and removes a
// temporary Dir. It is safe to call more than once.
func (s *Server) Stop() error {
	var err error
	s.stop.Do(func() {
		if s.proc != nil {
			err = s.proc.Stop()
		}
		s.cleanup()
	})
	return err
}

func (s *Server) cleanup() {
	if s.tempDir && s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// TLSConfig is a client configuration that trusts caPEM, for tests of StartTLS
// and LDAPS.
func TLSConfig(caPEM []byte) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: certPool(caPEM), ServerName: "127.0.0.1"}
}

// Package fake is an in-memory stand-in for a NodeBB v4 forum: the part of its
// REST API (/api/v3 plus the few read routes) that package nodebb uses, with the
// same envelopes, status codes and quirks as NodeBB itself, as read from its
// source (see docs/forum-contract.md). The forum contract suite runs against it
// when no real NodeBB is given, and `make dev` can run it on 127.0.0.1.
//
// It knows one master API token, which, as in NodeBB, acts for the user named
// by the `_uid` query or body parameter, and the tokens minted through its
// login and token routes (session.go). User 1, "admin", is an administrator.
// A request with an unknown token is served as a guest, as NodeBB does.
//
// It is not a forum: there are no topics, posts, plugins, settings or
// translations (messages are NodeBB's English ones), sessions serve only to
// mint tokens and to pass the re-authentication gate of group ownership,
// and only group privileges are kept in full.
package fake

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Version is the NodeBB version the fake reports at /nodeinfo/2.0.
const Version = "4.15.1-fake"

// AdminUID is the id of the administrator account the fake starts with.
const AdminUID int64 = 1

// Server is a fake NodeBB. Its methods are safe for concurrent use.
type Server struct {
	token string
	mux   *http.ServeMux

	mu    sync.Mutex
	state *state
	// passwords of accounts set up with SetupAdmin, by uid.
	passwords map[int64][]string
	// sessions by cookie value; tokens minted, to the uid they act for (0: a
	// master token).
	sessions map[string]*session
	tokens   map[string]int64
	minted   int

	srvMu sync.Mutex
	srv   *http.Server
	url   string
	done  chan struct{}
}

// NewServer returns a fake forum whose master API token is token, holding the
// administrator account "admin" (AdminUID) and NodeBB's system groups.
func NewServer(token string) *Server {
	s := &Server{token: token, state: newState()}
	s.mux = s.routes()
	return s
}

// Handler serves the fake's API, e.g. under httptest.NewServer.
func (s *Server) Handler() http.Handler { return s.mux }

// Start listens on addr (e.g. "127.0.0.1:4567", or port 0 for any free port) and
// serves in the background until Close.
func (s *Server) Start(addr string) error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return errors.New("fake nodebb: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(s.srv, s.done)
	return nil
}

// URL is the base URL of a started server, "" before Start.
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Close stops a started server; it does nothing otherwise.
func (s *Server) Close() error {
	s.srvMu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.url = nil, ""
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	<-done
	return err
}

// AddUser creates a user account, as a login through SSO would, and returns its
// uid. A taken username yields the existing account's uid.
func (s *Server) AddUser(username string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if uid, ok := s.state.uidByName[username]; ok {
		return uid
	}
	return s.state.createUser(username)
}

// AddUserWithEmail is AddUser for an account with a confirmed e-mail address,
// which administrators can look it up by: as NodeBB v4 stores an address once
// its owner followed the confirmation link, or an administrator confirmed it
// (user/email.js confirmByUid, the only writer of the email:uid index).
func (s *Server) AddUserWithEmail(username, email string) int64 {
	return s.addUserWithEmail(username, email, true)
}

// AddUserWithUnconfirmedEmail is AddUser for an account whose e-mail address
// the forum's e-mail index holds unconfirmed ("email:confirmed": 0): NodeBB
// before 3.0 indexed every address given at registration, an upgraded forum
// keeps them, and SSO plugins may write one. Looking the address up finds the
// account, with "email:confirmed": 0.
func (s *Server) AddUserWithUnconfirmedEmail(username, email string) int64 {
	return s.addUserWithEmail(username, email, false)
}

func (s *Server) addUserWithEmail(username, email string, confirmed bool) int64 {
	uid := s.AddUser(username)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.users[uid].email, s.state.users[uid].emailConfirmed = email, confirmed
	return uid
}

// AllowGroupCreation gives an account the global group:create privilege, as an
// administrator can give it to registered-users (NodeBB's "allow group
// creation"): the account may then create groups, of which it becomes the
// owner and first member.
func (s *Server) AllowGroupCreation(uid int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.groupCreators[uid] = true
}

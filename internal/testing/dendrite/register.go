package dendrite

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

const registerPath = "/_synapse/admin/v1/register"

// RegisterUser creates an account through shared-secret registration (the Synapse
// admin API Dendrite also serves) and returns its user id and an access token.
// admin makes it a server administrator, which Dendrite's admin API (room purge)
// requires.
func (s *Server) RegisterUser(ctx context.Context, localpart, password string, admin bool) (userID, accessToken string, err error) {
	nonce, err := s.nonce(ctx)
	if err != nil {
		return "", "", err
	}
	body, _ := json.Marshal(map[string]any{
		"nonce": nonce, "username": localpart, "password": password, "admin": admin,
		"mac": mac(s.secret, nonce, localpart, password, admin),
	})
	var out struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
	}
	if err := s.call(ctx, http.MethodPost, bytes.NewReader(body), &out); err != nil {
		return "", "", fmt.Errorf("cannot register %s: %w", localpart, err)
	}
	return out.UserID, out.AccessToken, nil
}

func (s *Server) nonce(ctx context.Context) (string, error) {
	var out struct {
		Nonce string `json:"nonce"`
	}
	if err := s.call(ctx, http.MethodGet, nil, &out); err != nil {
		return "", fmt.Errorf("cannot get a registration nonce: %w", err)
	}
	return out.Nonce, nil
}

// mac is HMAC-SHA1 over nonce, user, password and "admin"/"notadmin", NUL-separated.
func mac(secret, nonce, user, password string, admin bool) string {
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	h := hmac.New(sha1.New, []byte(secret))
	for i, part := range []string{nonce, user, password, kind} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// call does one request to the registration endpoint. Errors quote the server's
// error body, which never holds the secret, password or token.
func (s *Server) call(ctx context.Context, method string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+registerPath, body)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code  string `json:"errcode"`
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s %s: %d %s %s", method, registerPath, resp.StatusCode, e.Code, e.Error)
	}
	return json.Unmarshal(b, out)
}

package matrix

import (
	"context"
	"fmt"
	"net/http"

	"github.com/opencommons/collab-operator/internal/chat"
)

const opLogin = "login"

// accessToken returns the token, logging in first when there is none. The lock is
// held during the login so concurrent passes share one session.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" {
		return c.token, nil
	}
	if c.user == "" || c.pass == "" {
		return "", fmt.Errorf("matrix: no access token, and no password to log in with: %w", chat.ErrUnauthorized)
	}
	token, err := c.login(ctx)
	if err != nil {
		return "", err
	}
	c.token = token
	return token, nil
}

// login trades the password for a token on the fixed device id, so each login
// replaces the previous session of the operator.
func (c *Client) login(ctx context.Context) (string, error) {
	req := map[string]any{
		"type":                        "m.login.password",
		"identifier":                  map[string]string{"type": "m.id.user", "user": c.user},
		"password":                    c.pass,
		"device_id":                   c.deviceID,
		"initial_device_display_name": "collab-operator",
	}
	var out struct {
		AccessToken string `json:"access_token"`
		UserID      string `json:"user_id"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, op: opLogin, path: v3 + "/login", body: req, noAuth: true}, &out); err != nil {
		return "", err
	}
	c.selfID = out.UserID
	return out.AccessToken, nil
}

func (c *Client) canLogin() bool { return c.user != "" && c.pass != "" }

// forgetToken drops a token the server refused so the next request logs in.
func (c *Client) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

// Package matrix implements chat.Client for a Matrix homeserver, speaking only the
// Client-Server API (and, when the account is a server admin, Dendrite's room
// purge).
//
// It uses plain net/http and encoding/json rather than mautrix-go: the operator
// needs about fifteen endpoints, and a hand-written client keeps the dependency
// tree small, avoids any cgo risk (mautrix's crypto pulls in libolm), and lets the
// transport do exactly what the controller relies on: one keep-alive connection
// pool, M_LIMIT_EXCEEDED honoured with bounded retries, errors that map onto
// chat's sentinel errors and never contain a credential, and a RequestObserver
// hook that sees every request (the controller counts writes to prove a steady
// pass makes none).
package matrix

// Package nodebb implements forum.Client for NodeBB v4 over its REST API: the
// write API under /api/v3 (bearer token, answers wrapped as
// {"status": {"code", "message"}, "response": …}) and three read routes that
// /api/v3 lacks: GET /api/self, GET /api/user/username/{username} and
// GET /api/groups/{slug}, plus GET /nodeinfo/2.0 for the version.
//
// It uses plain net/http: one keep-alive connection pool, no cookie jar (a
// session cookie would make NodeBB check CSRF tokens), errors that map onto
// package forum's sentinels and never contain the token, and a RequestObserver
// hook that sees every request, so the controller can count writes and feed
// metrics. It does not retry: a failed pass is requeued by the controller.
//
// The token is an administrator's API token from the ACP (Settings → API). A
// master token (one not bound to a user) acts for the user named by `_uid`,
// which the client sends as a query parameter on every request: NodeBB passes
// request bodies to its category and group update functions whole, so a body
// `_uid` would be stored as a category field. For a user's own token NodeBB
// ignores `_uid`.
//
// NodeBB's rules for a space's groups, categories and privileges are its
// forum.Planner, in package nodebb/plan, which makes no request.
//
// docs/forum-contract.md lists the NodeBB behaviour this package relies on,
// where it was read in NodeBB's source, and the contract suite that checks it.
package nodebb

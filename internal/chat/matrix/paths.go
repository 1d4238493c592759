package matrix

import "net/url"

// roomPath is /_matrix/client/v3/rooms/{roomID}/{rest...}, each segment escaped
// (room ids start with "!", aliases with "#", which must not reach the URL raw).
func roomPath(roomID string, rest ...string) string {
	p := v3 + "/rooms/" + url.PathEscape(roomID)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// statePath addresses one state event; an empty state key leaves a trailing slash.
func statePath(roomID, eventType, stateKey string) string {
	return roomPath(roomID, "state", eventType, stateKey)
}

func aliasPath(alias string) string { return v3 + "/directory/room/" + url.PathEscape(alias) }

func directoryListPath(roomID string) string {
	return v3 + "/directory/list/room/" + url.PathEscape(roomID)
}

package managerbench

import "time"

// managerOptions are the options of the modes that run the manager as its own
// process (secrets, directory, scale) and those all modes share.
type Options struct {
	Secrets               SecretsOptions
	Directory             DirectoryOptions
	Scale                 ScaleOptions
	Spaces, Rooms, Owners int
	Timeout               time.Duration
	Out                   string
}

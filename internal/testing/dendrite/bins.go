package dendrite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/opencommons/collab-operator/internal/testing/repo"
)

// binaries Start needs.
var binaries = []string{"dendrite", "generate-config", "generate-keys"}

// binDir finds the Dendrite binaries: dir if given, else $DENDRITE_BIN_DIR, else
// the cache of hack/local-bins.sh, which is built (once per machine, a few
// minutes) when it is missing. progress receives the build's output.
func binDir(ctx context.Context, dir string, progress io.Writer) (string, error) {
	if dir == "" {
		dir = os.Getenv("DENDRITE_BIN_DIR")
	}
	if dir != "" {
		return dir, checkBinaries(dir)
	}
	root, err := repo.Root()
	if err != nil {
		return "", fmt.Errorf("cannot find the Dendrite binaries: set DENDRITE_BIN_DIR or run inside the repository: %w", err)
	}
	script := filepath.Join(root, "hack", "local-bins.sh")
	out, err := exec.CommandContext(ctx, script, "path", "dendrite").Output()
	if err != nil {
		return "", fmt.Errorf("%s path dendrite failed: %w", script, err)
	}
	dir = strings.TrimSpace(string(out))
	if checkBinaries(dir) == nil {
		return dir, nil
	}
	// Test binaries of several packages may get here at once: build only once.
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if checkBinaries(dir) == nil {
		return dir, nil
	}
	if err := build(ctx, script, progress); err != nil {
		return "", err
	}
	return dir, checkBinaries(dir)
}

func build(ctx context.Context, script string, progress io.Writer) error {
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, script, "dendrite")
	cmd.Stdout, cmd.Stderr = &log, &log
	if progress != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&log, progress), io.MultiWriter(&log, progress)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot build Dendrite with %s dendrite: %w\n%s", script, err, tail(log.Bytes()))
	}
	return nil
}

func checkBinaries(dir string) error {
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return fmt.Errorf("dendrite binary %s missing in %s: %w", b, dir, err)
		}
	}
	return nil
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

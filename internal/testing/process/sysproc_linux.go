package process

import "syscall"

// sysProcAttr kills the child when the process that started it dies, so a test
// binary that panics or is killed leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

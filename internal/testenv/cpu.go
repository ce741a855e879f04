package testenv

import (
	"syscall"
	"time"
)

// ProcessCPU is the user and system CPU time this process has used so far,
// for benchmarks that state a cost as CPU per operation (issue 15): unlike a
// rate, it does not move when other processes take the cores.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

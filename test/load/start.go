package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// startRun is the start scenario (issue 15, goal 4): it starts the server
// command given after "--" runs times, each time measuring the time from
// exec to the first answer of url (polled every 200 µs) and the process's
// resident memory after idling for a second, and prints the medians. The
// same command line measures any server, such as Dex beside opsiam.
func startRun(url string, runs int, argv []string) error {
	if len(argv) == 0 {
		return errors.New("start: give the server's command after --")
	}
	var starts []time.Duration
	var rss []int64
	for range runs {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = nil, nil
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		hc := &http.Client{Timeout: time.Second}
		answered := false
		for time.Since(t0) < 10*time.Second {
			if resp, err := hc.Get(url); err == nil {
				resp.Body.Close()
				answered = true
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		elapsed := time.Since(t0)
		time.Sleep(time.Second)
		kib := residentKiB(cmd.Process.Pid)
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if !answered {
			return fmt.Errorf("start: %s did not answer within 10 s", url)
		}
		starts, rss = append(starts, elapsed), append(rss, kib)
	}
	slices.Sort(starts)
	slices.Sort(rss)
	fmt.Printf("scenario=start runs=%d first-answer p50=%s min=%s idle-rss p50=%.1fMiB\n", runs,
		starts[len(starts)/2].Round(100*time.Microsecond), starts[0].Round(100*time.Microsecond), float64(rss[len(rss)/2])/1024)
	return nil
}

// residentKiB is VmRSS of process pid (Linux /proc), 0 when unknown.
func residentKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// watchRSS samples VmRSS of process pid every 5 ms until stop is called;
// peak then returns the largest sample (issue 15, goal 3: memory under a
// sign-in burst). Without a pid it samples nothing.
func watchRSS(pid int) (stop func(), peak func() int64) {
	var mu sync.Mutex
	var peakKiB int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if pid <= 0 {
			return
		}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if n := residentKiB(pid); n > 0 {
				mu.Lock()
				peakKiB = max64(peakKiB, n)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }, func() int64 { mu.Lock(); defer mu.Unlock(); return peakKiB }
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

package testenv

import (
	"flag"
	"strconv"
)

// Parallel lets up to n of a package's parallel tests run at once, unless
// -test.parallel was given. Call it from TestMain before m.Run, in a
// package whose tests mostly wait (on server processes, databases, a
// browser) rather than compute: the default, GOMAXPROCS, would leave the
// cores idle while two tests wait (issue 17, point 7).
func Parallel(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
}

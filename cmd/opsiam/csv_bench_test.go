package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkUserImport100k imports 100,000 new users from CSV into a fresh
// SQLite database through opsiam user import, as an administrator
// migrating from a spreadsheet would (issue 16: under a minute). Run it
// with -benchtime 1x; the file holds every column a spreadsheet would fill.
func BenchmarkUserImport100k(b *testing.B) {
	const n = 100_000
	var sb strings.Builder
	sb.WriteString("username,email,first_name,last_name,enabled,company,department,phone1,timezone,external_id,groups\n")
	for i := range n {
		fmt.Fprintf(&sb, "user%06d,user%06d@example.com,First%d,Last%d,true,Example Corp,Dept %d,+81 3 %04d,Asia/Tokyo,HR-%06d,Team %d\n",
			i, i, i, i, i%50, i%10000, i, i%20)
	}
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		db := []string{"--data-dir", dir}
		for g := range 20 {
			if _, errOut, err := cliRunB(db, "group", "add", fmt.Sprintf("Team %d", g)); err != nil {
				b.Fatal(err, errOut)
			}
		}
		file := writeFileB(b, sb.String())
		b.StartTimer()
		start := time.Now()
		out, errOut, err := cliRunB(db, "user", "import", file)
		if err != nil || !strings.HasPrefix(out, "created 100000,") {
			b.Fatalf("import: %v %q %s", err, out, errOut[:min(len(errOut), 2000)])
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/import")
		b.ReportMetric(n/time.Since(start).Seconds(), "users/s")
	}
}

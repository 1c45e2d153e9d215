package cli

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"talker/reboot"
)

// logLine is one JSON log line with the fields `talker log` shows first.
type logLine struct {
	t      time.Time
	raw    map[string]any
	source string
}

// readLogLines reads a JSON log file from offset, returning its lines and
// the offset after the last complete one.
func readLogLines(path string, offset int64) ([]logLine, int64) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset
	}
	var out []logLine
	rd := bufio.NewReaderSize(f, 64<<10)
	for {
		b, err := rd.ReadBytes('\n')
		if err != nil {
			// An incomplete last line is read again next time.
			return out, offset
		}
		offset += int64(len(b))
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		ts, _ := m["time"].(string)
		t, _ := time.Parse(time.RFC3339Nano, ts)
		out = append(out, logLine{t: t, raw: m, source: filepath.Base(path)})
	}
}

// format renders a log line for people: time, process, pid, level,
// message, then the other fields.
func (l logLine) format() string {
	var b strings.Builder
	b.WriteString(l.t.Local().Format("2006-01-02 15:04:05.000"))
	proc, _ := l.raw["proc"].(string)
	fmt.Fprintf(&b, " %-6s", proc)
	if pid, ok := l.raw["pid"].(float64); ok {
		fmt.Fprintf(&b, " %-7d", int(pid))
	}
	level, _ := l.raw["level"].(string)
	fmt.Fprintf(&b, " %-5s", strings.ToUpper(level))
	msg, _ := l.raw["message"].(string)
	b.WriteString(" " + msg)
	keys := make([]string, 0, len(l.raw))
	for k := range l.raw {
		switch k {
		case "time", "proc", "pid", "level", "message":
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := l.raw[k]
		s := fmt.Sprint(v)
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			s = fmt.Sprint(int64(f))
		}
		if strings.ContainsAny(s, " \t") {
			s = fmt.Sprintf("%q", s)
		}
		b.WriteString(" " + k + "=" + s)
	}
	return b.String()
}

func mergeLines(sets ...[]logLine) []logLine {
	var all []logLine
	for _, s := range sets {
		all = append(all, s...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	return all
}

// cmdLog implements `talker log [-f] [-n N]`: the angel's and the talker's
// logs merged in time order.
func cmdLog(args []string) int {
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	data := fs.String("data", defaultDataDir(), "data directory; default $TALKER_DATA or ./data")
	follow := fs.Bool("f", false, "keep showing new lines as they are written")
	n := fs.Int("n", 50, "show this many lines of history (0 = all)")
	if err := fs.Parse(args); err != nil {
		return reboot.ExitUsage
	}
	paths := dataPaths{*data}
	files := []string{filepath.Join(paths.logDir(), "angel.log"), filepath.Join(paths.logDir(), "talker.log")}
	offsets := make([]int64, len(files))
	var sets [][]logLine
	for i, f := range files {
		var lines []logLine
		lines, offsets[i] = readLogLines(f, 0)
		sets = append(sets, lines)
	}
	all := mergeLines(sets...)
	if len(all) == 0 && !*follow {
		fmt.Fprintf(os.Stderr, "talker log: no log lines in %s\n", paths.logDir())
		return 1
	}
	if *n > 0 && len(all) > *n {
		all = all[len(all)-*n:]
	}
	out := bufio.NewWriter(os.Stdout)
	for _, l := range all {
		fmt.Fprintln(out, l.format())
	}
	out.Flush()
	for *follow {
		time.Sleep(200 * time.Millisecond)
		sets = sets[:0]
		for i, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.Size() < offsets[i] {
				offsets[i] = 0 // truncated or replaced
			}
			var lines []logLine
			lines, offsets[i] = readLogLines(f, offsets[i])
			sets = append(sets, lines)
		}
		for _, l := range mergeLines(sets...) {
			fmt.Fprintln(out, l.format())
		}
		out.Flush()
	}
	return 0
}

// printLogTail shows the last lines of the merged logs on stderr, to say
// why something did not start.
func printLogTail(paths dataPaths, n int) {
	var sets [][]logLine
	for _, f := range []string{"angel.log", "talker.log"} {
		lines, _ := readLogLines(filepath.Join(paths.logDir(), f), 0)
		sets = append(sets, lines)
	}
	all := mergeLines(sets...)
	if len(all) > n {
		all = all[len(all)-n:]
	}
	if len(all) > 0 {
		fmt.Fprintln(os.Stderr, "last log lines:")
	}
	for _, l := range all {
		fmt.Fprintln(os.Stderr, "  "+l.format())
	}
}
